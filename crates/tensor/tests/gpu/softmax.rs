//! Softmax, log-softmax, their backward maps and the fused cross-entropy against their twins:
//! rows of 1, 7, 33, 1000, ±1e4 logits, non-last axes, class weights, label smoothing, ignored
//! labels, and a finite-difference check of the cross-entropy gradient in f64 on the host.
//! Tolerance: rtol 1e-5 with atol 1e-6 (1e-4 sqrt(c) for row sums such as losses and gradients).

use wgtrain_kernels::ops::softmax::SoftmaxParams;
use wgtrain_kernels::ops::softmax_xent::XentParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Tensor, XentOptions};

use super::harness::{assert_close, data, dev, gemm_tol};

const COLS: [usize; 4] = [1, 7, 33, 1000];

#[test]
fn softmax_and_log_softmax_match_the_twin_with_huge_logits() {
    for (ci, &cols) in COLS.iter().enumerate() {
        // Narrow rows run one invocation per row, 64 rows per workgroup: more than two
        // workgroups, the last one partial.
        let rows = if cols <= 64 { 133 } else { 5 };
        for (scale, seed) in [(3.0f32, 0u64), (1e4, 1)] {
            let x = data(seed * 10 + ci as u64, rows * cols, -scale, scale);
            let t = Tensor::from_slice(dev(), &x, &[rows, cols]).unwrap();
            for log in [false, true] {
                let got = if log { t.log_softmax(-1) } else { t.softmax(1) }.unwrap().to_vec::<f32>().unwrap();
                assert!(got.iter().all(|v| v.is_finite()), "non-finite output, cols {cols} scale {scale}");
                let p = SoftmaxParams { rows: rows as u32, cols: cols as u32, log: log as u32, _pad: 0 };
                let ctx = format!("log {log} cols {cols} scale {scale}");
                assert_close(&got, &reference::softmax(&p, &x), 1e-6, 1e-5, &ctx);
            }
        }
    }
}

#[test]
fn softmax_backward_matches_the_twin() {
    for (ci, &cols) in COLS.iter().enumerate() {
        let rows = if cols <= 64 { 70 } else { 3 };
        let x = data(20 + ci as u64, rows * cols, -4.0, 4.0);
        let dy = data(30 + ci as u64, rows * cols, -1.0, 1.0);
        let t = Tensor::from_slice(dev(), &x, &[rows, cols]).unwrap();
        let tdy = Tensor::from_slice(dev(), &dy, &[rows, cols]).unwrap();
        for log in [false, true] {
            let y = if log { t.log_softmax(1) } else { t.softmax(1) }.unwrap();
            let got = if log { y.log_softmax_backward(&tdy, 1) } else { y.softmax_backward(&tdy, 1) };
            let p = SoftmaxParams { rows: rows as u32, cols: cols as u32, log: log as u32, _pad: 0 };
            let want = reference::softmax_backward(&p, &y.to_vec::<f32>().unwrap(), &dy);
            let tol = gemm_tol(cols).max(1e-6);
            let ctx = format!("backward log {log} cols {cols}");
            assert_close(&got.unwrap().to_vec::<f32>().unwrap(), &want, tol, 1e-5, &ctx);
        }
    }
}

#[test]
fn softmax_over_a_leading_axis_permutes_and_returns_the_input_shape() {
    let (a, b, c) = (33, 4, 3);
    let x = data(40, a * b * c, -5.0, 5.0);
    let t = Tensor::from_slice(dev(), &x, &[a, b, c]).unwrap();
    let got = t.softmax(0).unwrap();
    assert_eq!(got.shape(), &[a, b, c]);
    // Twin on the host-transposed [b * c, a] rows.
    let rows: Vec<f32> = (0..b * c).flat_map(|j| (0..a).map(move |i| (i, j))).map(|(i, j)| x[i * b * c + j]).collect();
    let p = SoftmaxParams { rows: (b * c) as u32, cols: a as u32, log: 0, _pad: 0 };
    let want_rows = reference::softmax(&p, &rows);
    let want: Vec<f32> = (0..a * b * c).map(|lin| want_rows[(lin % (b * c)) * a + lin / (b * c)]).collect();
    assert_close(&got.to_vec::<f32>().unwrap(), &want, 1e-6, 1e-5, "softmax axis 0");
    let e = t.softmax(3).unwrap_err().to_string();
    assert!(e.contains("softmax") && e.contains("out of range"), "{e}");
}

fn xent_case(n: usize, c: usize, seed: u64) -> (Vec<f32>, Vec<u32>, Vec<f32>) {
    let x = data(seed, n * c, -6.0, 6.0);
    let labels: Vec<u32> = data(seed + 1, n, 0.0, c as f32).iter().map(|v| (*v as u32).min(c as u32 - 1)).collect();
    (x, labels, data(seed + 2, c, 0.2, 2.0))
}

#[test]
fn cross_entropy_matches_the_twin_with_weights_and_smoothing() {
    for (ci, &(n, c)) in [(1, 1), (7, 7), (33, 33), (5, 1000), (3, 300)].iter().enumerate() {
        let (x, labels, w) = xent_case(n, c, 50 + 10 * ci as u64);
        let up = data(60 + ci as u64, n, -2.0, 2.0);
        let tx = Tensor::from_slice(dev(), &x, &[n, c]).unwrap();
        let ty = Tensor::from_slice(dev(), &labels, &[n]).unwrap();
        let tw = Tensor::from_slice(dev(), &w, &[c]).unwrap();
        let tup = Tensor::from_slice(dev(), &up, &[n]).unwrap();
        for (weighted, eps) in [(false, 0.0), (false, 0.1), (true, 0.0), (true, 0.25)] {
            let o = XentOptions { class_weights: weighted.then_some(&tw), label_smoothing: eps, ignore_index: None };
            let p = XentParams {
                n: n as u32,
                c: c as u32,
                has_weights: weighted as u32,
                smoothing: eps,
                ..Default::default()
            };
            let wref = weighted.then_some(w.as_slice());
            let (loss, wy) = tx.cross_entropy_parts(&ty, &o).unwrap();
            let (want_loss, want_wy) = reference::xent_forward(&p, &x, &labels, wref);
            let ctx = format!("n {n} c {c} weighted {weighted} eps {eps}");
            assert_close(&loss.to_vec::<f32>().unwrap(), &want_loss, gemm_tol(c), 1e-5, &ctx);
            assert_close(&wy.to_vec::<f32>().unwrap(), &want_wy, 0.0, 0.0, &ctx);
            let mean = tx.cross_entropy_mean(&ty, &o).unwrap().item::<f32>().unwrap();
            let want_mean = want_loss.iter().sum::<f32>() / want_wy.iter().sum::<f32>();
            assert_close(&[mean], &[want_mean], gemm_tol(n * c), 1e-5, &format!("mean {ctx}"));
            let grad = tx.cross_entropy_grad(&ty, &tup, &o).unwrap().to_vec::<f32>().unwrap();
            let want = reference::xent_backward(&p, &x, &labels, wref, &up);
            assert_close(&grad, &want, 1e-6, 1e-5, &format!("grad {ctx}"));
        }
    }
}

#[test]
fn cross_entropy_gradient_matches_finite_differences_in_f64() {
    let (n, c) = (3, 5);
    let (x, labels, w) = xent_case(n, c, 90);
    let up = [0.5f32, -1.5, 2.0];
    let p = XentParams { n: n as u32, c: c as u32, has_weights: 1, smoothing: 0.2, ..Default::default() };
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();
    // L(x) = sum_i up_i loss_i(x), differentiated by central differences on the f64 twin.
    let total = |xs: &[f64]| -> f64 {
        let (loss, _) = reference::xent_forward(&p, xs, &labels, Some(w64.as_slice()));
        loss.iter().zip(&up).map(|(l, u)| l * *u as f64).sum()
    };
    let h = 1e-6;
    let fd: Vec<f32> = (0..n * c)
        .map(|k| {
            let (mut a, mut b) = (x64.clone(), x64.clone());
            a[k] += h;
            b[k] -= h;
            ((total(&a) - total(&b)) / (2.0 * h)) as f32
        })
        .collect();
    let tx = Tensor::from_slice(dev(), &x, &[n, c]).unwrap();
    let ty = Tensor::from_slice(dev(), &labels, &[n]).unwrap();
    let tw = Tensor::from_slice(dev(), &w, &[c]).unwrap();
    let tup = Tensor::from_slice(dev(), &up, &[n]).unwrap();
    let o = XentOptions { class_weights: Some(&tw), label_smoothing: 0.2, ignore_index: None };
    let got = tx.cross_entropy_grad(&ty, &tup, &o).unwrap().to_vec::<f32>().unwrap();
    assert_close(&got, &fd, 1e-5, 1e-4, "GPU gradient vs finite differences");
}

#[test]
fn only_the_ignore_index_label_is_skipped() {
    let (n, c) = (4, 7);
    let x = data(95, n * c, -3.0, 3.0);
    let tx = Tensor::from_slice(dev(), &x, &[n, c]).unwrap();
    // u32 labels, ignoring a label inside 0..c (a padding class, as PyTorch allows).
    let labels = [2u32, 5, 5, 6];
    let ty = Tensor::from_slice(dev(), &labels, &[n]).unwrap();
    let o = XentOptions { label_smoothing: 0.1, ignore_index: Some(5), ..XentOptions::default() };
    let (loss, wy) = tx.cross_entropy_parts(&ty, &o).unwrap();
    let (loss, wy) = (loss.to_vec::<f32>().unwrap(), wy.to_vec::<f32>().unwrap());
    assert_eq!((loss[1], loss[2], wy), (0.0, 0.0, vec![1.0, 0.0, 0.0, 1.0]));
    assert!(loss[0] > 0.0 && loss[3] > 0.0);
    let p = XentParams { n: n as u32, c: c as u32, smoothing: 0.1, has_ignore: 1, ignore: 5, ..Default::default() };
    let (want, _) = reference::xent_forward(&p, &x, &labels, None);
    assert_close(&loss, &want, 1e-6, 1e-5, "twin with ignore_index");
    let up = Tensor::ones(dev(), &[n], DType::F32).unwrap();
    let g = tx.cross_entropy_grad(&ty, &up, &o).unwrap().to_vec::<f32>().unwrap();
    assert!(g[c..3 * c].iter().all(|&v| v == 0.0), "ignored rows must have zero gradient");
    assert_close(&g, &reference::xent_backward(&p, &x, &labels, None, &[1.0; 4]), 1e-6, 1e-5, "grad twin");
    // i32 labels with PyTorch's -100: the mean is over the kept samples.
    let ti = Tensor::from_slice(dev(), &[2i32, -100, -100, 6], &[n]).unwrap();
    let o = XentOptions { ignore_index: Some(-100), ..o };
    let mean = tx.cross_entropy_mean(&ti, &o).unwrap().item::<f32>().unwrap();
    assert_close(&[mean], &[(loss[0] + loss[3]) / 2.0], 1e-6, 1e-5, "mean over kept samples");
    // An ignore_index no u32 label can equal skips nothing.
    let o = XentOptions { ignore_index: Some(-100), label_smoothing: 0.1, ..XentOptions::default() };
    let all = tx.cross_entropy_parts(&ty, &o).unwrap().1.to_vec::<f32>().unwrap();
    assert_eq!(all, vec![1.0; 4]);
}

#[test]
fn cross_entropy_reports_bad_shapes_and_options() {
    let tx = Tensor::zeros(dev(), &[4, 3], DType::F32).unwrap();
    let ty = Tensor::zeros(dev(), &[5], DType::U32).unwrap();
    let e = tx.cross_entropy_with_logits(&ty, &XentOptions::default()).unwrap_err().to_string();
    assert!(e.contains("cross_entropy") && e.contains("labels of shape [4]") && e.contains("[5]"), "{e}");
    let ty = Tensor::zeros(dev(), &[4], DType::U32).unwrap();
    let tw = Tensor::ones(dev(), &[4], DType::F32).unwrap();
    let o = XentOptions { class_weights: Some(&tw), label_smoothing: 0.0, ignore_index: None };
    let e = tx.cross_entropy_with_logits(&ty, &o).unwrap_err().to_string();
    assert!(e.contains("class weights of shape [3]") && e.contains("[4]"), "{e}");
    let o = XentOptions { class_weights: None, label_smoothing: 1.5, ignore_index: None };
    let e = tx.cross_entropy_with_logits(&ty, &o).unwrap_err().to_string();
    assert!(e.contains("label_smoothing 1.5"), "{e}");
    let flat = Tensor::zeros(dev(), &[12], DType::F32).unwrap();
    let e = flat.cross_entropy_with_logits(&ty, &XentOptions::default()).unwrap_err().to_string();
    assert!(e.contains("logits of rank 2"), "{e}");
    let fy = Tensor::zeros(dev(), &[4], DType::F32).unwrap();
    let e = tx.cross_entropy_with_logits(&fy, &XentOptions::default()).unwrap_err().to_string();
    assert!(e.contains("dtype mismatch: expected U32, got F32"), "{e}");
    let up = Tensor::zeros(dev(), &[3], DType::F32).unwrap();
    let e = tx.cross_entropy_grad(&ty, &up, &XentOptions::default()).unwrap_err().to_string();
    assert!(e.contains("cross_entropy_grad") && e.contains("upstream of shape [4]"), "{e}");
}

#[test]
fn a_nan_logit_gives_a_nan_row_and_a_nan_loss() {
    // Narrow rows (an invocation per row) and wide ones (a workgroup per row); the NaN first, in
    // the middle and last in its row. Other rows stay finite.
    for cols in [7usize, 33, 1000] {
        let rows = 4;
        let mut x = data(90 + cols as u64, rows * cols, -3.0, 3.0);
        for (row, at) in [(0, 0), (1, cols / 2), (2, cols - 1)] {
            x[row * cols + at] = f32::NAN;
        }
        let t = Tensor::from_slice(dev(), &x, &[rows, cols]).unwrap();
        for log in [false, true] {
            let got = if log { t.log_softmax(-1) } else { t.softmax(-1) }.unwrap().to_vec::<f32>().unwrap();
            let p = SoftmaxParams { rows: rows as u32, cols: cols as u32, log: log as u32, _pad: 0 };
            assert_close(&got, &reference::softmax(&p, &x), 1e-6, 1e-5, &format!("log {log} cols {cols} with NaN"));
            assert!(got[..3 * cols].iter().all(|v| v.is_nan()) && got[3 * cols..].iter().all(|v| v.is_finite()));
        }
        let labels: Vec<u32> = (0..rows as u32).map(|i| i % cols as u32).collect();
        let ty = Tensor::from_slice(dev(), &labels, &[rows]).unwrap();
        let (loss, _) = t.cross_entropy_parts(&ty, &XentOptions::default()).unwrap();
        let loss = loss.to_vec::<f32>().unwrap();
        assert!(loss[..3].iter().all(|v| v.is_nan()) && loss[3].is_finite(), "cols {cols}: {loss:?}");
        let mean = t.cross_entropy_mean(&ty, &XentOptions::default()).unwrap().item::<f32>().unwrap();
        assert!(mean.is_nan(), "mean loss {mean}");
    }
}
