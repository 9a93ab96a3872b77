//! Mixed-precision convolutions against their twins: f16 input, weight, bias and gradients,
//! f32 sums, each pass's output rounded once to f16 (or kept f32). The twins take the same
//! f16 values and sum in f64; the tolerance is f32 summation (`gemm_tol` of the pass's
//! reduction length) plus one f16 ulp of the result. Runs under every strategy: the software
//! adapters' forms decline f16 and the implicit GEMM takes it.

use half::f16;
use wgtrain_kernels::ops::conv::{self, ConvGeometry, ConvParams, out_extent};
use wgtrain_kernels::ops::map::UnaryOp;
use wgtrain_kernels::reference;
use wgtrain_tensor::{Conv2dOptions, DType, Tensor};

use super::harness::{assert_close, data, gemm_devs, gemm_tol};

const F16_RTOL: f32 = 1.0 / 1024.0;

fn halves(seed: u64, n: usize) -> Vec<f16> {
    data(seed, n, -1.0, 1.0).iter().map(|&x| f16::from_f32(x)).collect()
}

fn wide(v: &[f16]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

fn read(t: &Tensor) -> Vec<f32> {
    match t.dtype() {
        DType::F16 => t.to_vec::<f16>().unwrap().iter().map(|x| x.to_f32()).collect(),
        _ => t.to_vec::<f32>().unwrap(),
    }
}

fn rtol(dtype: DType) -> f32 {
    if dtype == DType::F16 { F16_RTOL } else { 0.0 }
}

#[test]
fn f16_convolution_passes_match_the_twins_under_every_strategy() {
    // (x, w, stride, pad, dilation, groups): a padded 3x3 with bias and relu, a grouped,
    // strided, dilated one, and a batch deep enough that grad weight splits K.
    let cases = [
        ([2, 3, 9, 9], [4, 3, 3, 3], 1, 1, 1, 1),
        ([2, 4, 11, 10], [6, 2, 3, 3], 2, 1, 2, 2),
        ([8, 3, 20, 20], [4, 3, 3, 3], 2, 1, 1, 1),
    ];
    for (dev, strategy) in gemm_devs() {
        if !dev.has_f16() {
            eprintln!("skipped: the adapter has no SHADER_F16");
            return;
        }
        for (i, &(xs, ws, s, pad, d, g)) in cases.iter().enumerate() {
            let geometry = ConvGeometry { stride: [s; 2], padding: [pad; 2], dilation: [d; 2], groups: g };
            let oh = out_extent(xs[2], ws[2], s, pad, d).unwrap();
            let ow = out_extent(xs[3], ws[3], s, pad, d).unwrap();
            let mut p = ConvParams::new(xs, ws, [oh, ow], &geometry);
            p.act = UnaryOp::Relu as u32;
            p.has_bias = 1;
            let ys = [xs[0], ws[0], oh, ow];
            let seed = 70 + 4 * i as u64;
            let (x, w, b) =
                (halves(seed, xs.iter().product()), halves(seed + 1, ws.iter().product()), halves(seed + 2, ws[0]));
            let dy = halves(seed + 3, ys.iter().product());
            let tx = Tensor::from_slice(dev, &x, &xs).unwrap();
            let tw = Tensor::from_slice(dev, &w, &ws).unwrap();
            let tb = Tensor::from_slice(dev, &b, &[ws[0]]).unwrap();
            let tdy = Tensor::from_slice(dev, &dy, &ys).unwrap();
            let want_y = reference::conv2d_forward::<f64>(&p, &wide(&x), &wide(&w), Some(&wide(&b)));
            let mut q = p;
            (q.act, q.has_bias) = (UnaryOp::Identity as u32, 0);
            let want_dx = reference::conv2d_grad_input::<f64>(&q, &wide(&dy), &wide(&w), None);
            let want_dw = reference::conv2d_grad_weight::<f64>(&q, &wide(&dy), &wide(&x));
            let f32s = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect::<Vec<_>>();
            let (want_y, want_dx, want_dw) = (f32s(want_y), f32s(want_dx), f32s(want_dw));
            if i == 2 {
                assert!(conv::grad_weight_splits(&p, dev.gemm_tiles(), 4) > 1, "case 2 splits K");
            }
            for out in [DType::F16, DType::F32] {
                let ctx = format!("{strategy}: case {i}, out {out:?}");
                let o = Conv2dOptions {
                    stride: [s; 2],
                    padding: [pad; 2],
                    dilation: [d; 2],
                    groups: g,
                    activation: Some(UnaryOp::Relu),
                    alpha: 0.0,
                    out_dtype: Some(out),
                };
                let y = tx.conv2d(&tw, Some(&tb), &o).unwrap();
                let k = xs[1] / g * ws[2] * ws[3];
                assert_close(&read(&y), &want_y, gemm_tol(k), rtol(out), &format!("forward, {ctx}"));
                let dx = tdy.conv2d_grad_input(&tw, xs, &o).unwrap();
                let k = ws[0] / g * ws[2] * ws[3];
                assert_close(&read(&dx), &want_dx, gemm_tol(k), rtol(out), &format!("grad input, {ctx}"));
                let dw = tdy.conv2d_grad_weight(&tx, ws, &o).unwrap();
                assert_eq!(dw.dtype(), out, "{ctx}");
                let k = xs[0] * oh * ow;
                assert_close(&read(&dw), &want_dw, gemm_tol(k), rtol(out), &format!("grad weight, {ctx}"));
            }
        }
    }
}

#[test]
fn f16_convolutions_refuse_mixed_dtypes_by_name() {
    let (dev, _) = gemm_devs()[0];
    if !dev.has_f16() {
        return;
    }
    let x16 = Tensor::from_slice(dev, &halves(1, 2 * 3 * 5 * 5), &[2, 3, 5, 5]).unwrap();
    let w32 = Tensor::from_slice(dev, &data(2, 4 * 3 * 3 * 3, -1.0, 1.0), &[4, 3, 3, 3]).unwrap();
    let e = x16.conv2d(&w32, None, &Conv2dOptions::default()).unwrap_err();
    assert!(e.to_string().contains("conv2d"), "{e}");
    let w16 = w32.cast(DType::F16).unwrap();
    let b32 = Tensor::from_slice(dev, &[0.0f32; 4], &[4]).unwrap();
    let e = x16.conv2d(&w16, Some(&b32), &Conv2dOptions::default()).unwrap_err();
    assert!(e.to_string().contains("conv2d"), "{e}");
    let o = Conv2dOptions { out_dtype: Some(DType::I32), ..Default::default() };
    let e = x16.conv2d(&w16, None, &o).unwrap_err();
    assert!(e.to_string().contains("not I32"), "{e}");
}
