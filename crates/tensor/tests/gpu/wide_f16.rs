//! The ops that compute in f32 whatever their input, on f16 tensors: reductions, softmax,
//! cross-entropy, layer and batch norm. The twins take the same f16 values and compute in
//! f64; tolerances are the f32 ops' own (f32 sums and statistics), plus one f16 ulp where the
//! result is f16 (a norm's y). Inputs near f16's limit show the sums are not f16: 4 x 60000
//! would overflow there.

use half::f16;
use wgtrain_kernels::ops::norm::NormParams;
use wgtrain_kernels::ops::softmax::SoftmaxParams;
use wgtrain_kernels::ops::softmax_xent::XentParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Tensor, XentOptions};

use super::harness::{assert_close, data, dev};

fn halves(v: &[f32]) -> Vec<f16> {
    v.iter().map(|&x| f16::from_f32(x)).collect()
}

fn wide(v: &[f16]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

fn f32s(v: Vec<f64>) -> Vec<f32> {
    v.into_iter().map(|x| x as f32).collect()
}

fn read32(t: &Tensor) -> Vec<f32> {
    assert_eq!(t.dtype(), DType::F32, "an op that computes in f32 returns f32");
    t.to_vec::<f32>().unwrap()
}

#[test]
fn f16_reductions_sum_in_f32() {
    if !dev().has_f16() {
        return;
    }
    let (outer, r) = (7, 300);
    let mut x = halves(&data(1, outer * r, -4.0, 4.0));
    x[..4].copy_from_slice(&halves(&[60000.0; 4])); // 240000 overflows f16, not f32
    let t = Tensor::from_slice(dev(), &x, &[outer, r]).unwrap();
    let sums = read32(&t.sum(&[1], false).unwrap());
    assert!(sums[0].is_finite(), "{}", sums[0]);
    let w = wide(&x);
    let want: Vec<f64> = w.chunks(r).map(|row| row.iter().sum()).collect();
    assert_close(&sums, &f32s(want.clone()), 1e-3, 1e-6, "sum");
    let means = read32(&t.mean(&[1], false).unwrap());
    assert_close(&means, &f32s(want.iter().map(|s| s / r as f64).collect()), 1e-5, 1e-6, "mean");
    let var = read32(&t.var(&[1], 0.0, false).unwrap());
    let want_var = reference::variance::<f64>(&w, outer, r, 1, 0.0);
    assert_close(&var, &f32s(want_var), 1e-3, 1e-5, "var");
    let arg = t.argmax(1, false).unwrap().to_vec::<u32>().unwrap();
    assert_eq!(arg[0], 0, "the first of the tied maxima");
    let max = read32(&t.max(&[1], false).unwrap());
    assert_eq!(max[0], 60000.0);
}

#[test]
fn f16_softmax_and_cross_entropy_run_in_f32() {
    if !dev().has_f16() {
        return;
    }
    let (rows, cols) = (9, 37);
    let mut x = halves(&data(2, rows * cols, -8.0, 8.0));
    x[0] = f16::from_f32(60000.0); // e^(x - max) in f32 is fine; the logits' range is f16's
    let t = Tensor::from_slice(dev(), &x, &[rows, cols]).unwrap();
    for log in [false, true] {
        let p = SoftmaxParams { rows: rows as u32, cols: cols as u32, log: log as u32, _pad: 0 };
        let got = read32(&if log { t.log_softmax(-1) } else { t.softmax(-1) }.unwrap());
        assert_close(&got, &f32s(reference::softmax::<f64>(&p, &wide(&x))), 1e-6, 1e-5, &format!("log {log}"));
    }
    let labels: Vec<u32> = (0..rows as u32).map(|i| (i * 7) % cols as u32).collect();
    let y = Tensor::from_slice(dev(), &labels, &[rows]).unwrap();
    let o = XentOptions { label_smoothing: 0.1, ..Default::default() };
    let loss = read32(&t.cross_entropy_with_logits(&y, &o).unwrap());
    let p = XentParams { n: rows as u32, c: cols as u32, smoothing: 0.1, ..Default::default() };
    let (want, _) = reference::xent_forward::<f64>(&p, &wide(&x), &labels, None);
    assert_close(&loss, &f32s(want), 1e-4, 1e-5, "cross-entropy");
    let up = Tensor::ones(dev(), &[rows], DType::F32).unwrap();
    let grad = t.cross_entropy_grad(&y, &up, &o).unwrap();
    assert_eq!((grad.dtype(), grad.shape()), (DType::F32, &[rows, cols][..]), "dlogits are f32");
}

#[test]
fn f16_norms_take_statistics_in_f32_and_return_f16() {
    if !dev().has_f16() {
        return;
    }
    let (n, c, hw) = (4, 3, 25);
    // A large offset: the statistics of values near 1000 need more than f16's 11 bits.
    let x = halves(&data(3, n * c * hw, -1.0, 1.0).iter().map(|v| 1000.0 + 8.0 * v).collect::<Vec<_>>());
    let t = Tensor::from_slice(dev(), &x, &[n, c, 5, 5]).unwrap();
    let (rm, rv) = (Tensor::zeros(dev(), &[c], DType::F32).unwrap(), Tensor::ones(dev(), &[c], DType::F32).unwrap());
    let out = t.batch_norm_train(None, None, &rm, &rv, 0.1, 1e-5).unwrap();
    assert_eq!((out.y.dtype(), out.mean.dtype()), (DType::F16, DType::F32));
    let want = reference::batch_norm_forward::<f64>(&NormParams::batch(n, c, hw, 1e-5), &wide(&x), None, None);
    let y: Vec<f32> = out.y.to_vec::<f16>().unwrap().iter().map(|v| v.to_f32()).collect();
    assert_close(&y, &f32s(want.y), 2e-3, 1.0 / 1024.0, "batch norm y");
    assert_close(&read32(&out.mean), &f32s(want.mean), 1e-3, 1e-6, "batch norm mean");

    let rows = n * c;
    let t = t.reshape(&[rows, hw]).unwrap();
    let out = t.layer_norm(&[hw], None, None, 1e-5).unwrap();
    let want = reference::layer_norm_forward::<f64>(&NormParams::layer(rows, hw, 1e-5), &wide(&x), None, None);
    let y: Vec<f32> = out.y.to_vec::<f16>().unwrap().iter().map(|v| v.to_f32()).collect();
    assert_close(&y, &f32s(want.y), 2e-3, 1.0 / 1024.0, "layer norm y");
    assert_close(&read32(&out.rstd), &f32s(want.rstd), 1e-6, 1e-4, "layer norm rstd");
    let dy = Tensor::from_slice(dev(), &halves(&data(4, rows * hw, -1.0, 1.0)), &[rows, hw]).unwrap();
    let grads = dy.layer_norm_backward(&t, None, &out.mean, &out.rstd).unwrap();
    assert_eq!(grads.dx.dtype(), DType::F16, "dx in the input's dtype");
}
