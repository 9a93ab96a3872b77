//! Layer norm and batch norm (forward, backward, running statistics, eval mode) against the
//! twins: rows / channels of 1, 7 and 33, normalized lengths that are not multiples of the
//! workgroup (1, 7, 257, 1000), inputs offset by 1e4 (the centered two-pass statistics stay
//! accurate there), running statistics at an offset in a larger buffer, and error messages.
//!
//! Tolerances: outputs normalized over a group of K elements are compared with
//! `atol = rtol = 1e-5 sqrt(K)` (the statistics are reductions of length K); the parameter
//! gradients, sums of length K, with `gemm_tol(K)`. Inputs offset by 1e4 meet the same forward
//! tolerances; their backward, which starts from the saved f32 mean, gets `atol = 2e-4` for dx
//! and `1e-3 sqrt(K)` for dgamma.

use wgtrain_kernels::ops::norm::NormParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Tensor};

use super::harness::{assert_close, data, dev, gemm_tol};

fn t(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(dev(), v, shape).unwrap()
}

fn host(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

/// Backward with a 1e4 offset: the saved mean is an f32 near 1e4, rounded by up to 5e-4, and
/// xhat = (x - mean) rstd inherits that (the forward centers on an exact shift instead).
const BACKWARD_OFFSET_ATOL: f32 = 2e-4;

/// dgamma = sum dy xhat over K terms with a 1e4 offset: each xhat is off by up to
/// 5e-4 rstd in the same direction, so the sum is off by about 5e-4 |sum dy| ~ 5e-4 sqrt(K).
fn offset_param_tol(k: usize) -> f32 {
    1e-3 * (k as f32).sqrt()
}

fn norm_tol(k: usize) -> f32 {
    1e-5 * (k as f32).sqrt().max(1.0)
}

/// (leading shape, d, with gamma/beta, offset)
const LAYER_CASES: [(&[usize], usize, bool, f32); 7] = [
    (&[1], 1, true, 0.0),
    (&[7], 7, false, 0.0),
    (&[33], 257, true, 0.0),
    (&[3, 5], 1000, true, 0.0),
    (&[2], 256, true, 0.0),
    (&[7], 1000, true, 1e4),
    (&[], 33, false, 1e4),
];

#[test]
fn layer_norm_forward_matches_the_twin() {
    for (i, &(lead, d, affine, offset)) in LAYER_CASES.iter().enumerate() {
        let rows: usize = lead.iter().product();
        let x: Vec<f32> = data(i as u64, rows * d, -2.0, 2.0).iter().map(|v| v + offset).collect();
        let (g, b) = (data(10 + i as u64, d, 0.5, 1.5), data(20 + i as u64, d, -1.0, 1.0));
        let shape = [lead, &[d]].concat();
        let (tg, tb) = (t(&g, &[d]), t(&b, &[d]));
        let (og, ob) = if affine { (Some(&tg), Some(&tb)) } else { (None, None) };
        let out = t(&x, &shape).layer_norm(&[d], og, ob, 1e-5).unwrap();
        assert_eq!(out.mean.shape(), lead);
        let p = NormParams::layer(rows, d, 1e-5);
        let (rg, rb) = if affine { (Some(&g[..]), Some(&b[..])) } else { (None, None) };
        let want = reference::layer_norm_forward(&p, &x, rg, rb);
        let tol = norm_tol(d);
        let ctx = format!("case {i} ({lead:?} x {d}, offset {offset})");
        assert_close(&host(&out.y), &want.y, tol, norm_tol(d), &format!("{ctx} y"));
        assert_close(&host(&out.mean), &want.mean, norm_tol(d), 1e-6, &format!("{ctx} mean"));
        assert_close(&host(&out.rstd), &want.rstd, 0.0, tol, &format!("{ctx} rstd"));
    }
}

#[test]
fn layer_norm_backward_matches_the_twin() {
    for (i, &(lead, d, affine, offset)) in LAYER_CASES.iter().enumerate() {
        let rows: usize = lead.iter().product();
        let x: Vec<f32> = data(i as u64, rows * d, -2.0, 2.0).iter().map(|v| v + offset).collect();
        let (g, dy) = (data(10 + i as u64, d, 0.5, 1.5), data(30 + i as u64, rows * d, -1.0, 1.0));
        let shape = [lead, &[d]].concat();
        let (tx, tg) = (t(&x, &shape), t(&g, &[d]));
        let og = affine.then_some(&tg);
        let out = tx.layer_norm(&[d], og, None, 1e-5).unwrap();
        let grads = t(&dy, &shape).layer_norm_backward(&tx, og, &out.mean, &out.rstd).unwrap();
        assert_eq!(grads.dgamma.shape(), &[d]);
        let p = NormParams::layer(rows, d, 1e-5);
        let want = reference::layer_norm_backward(&p, &x, &dy, affine.then_some(&g[..]));
        let tol = if offset != 0.0 { BACKWARD_OFFSET_ATOL } else { norm_tol(d) };
        let ctx = format!("case {i} ({lead:?} x {d}, offset {offset})");
        assert_close(&host(&grads.dx), &want.dx, tol, norm_tol(d), &format!("{ctx} dx"));
        let ptol = if offset != 0.0 { offset_param_tol(rows) } else { gemm_tol(rows) };
        assert_close(&host(&grads.dgamma), &want.dgamma, ptol, gemm_tol(rows), &format!("{ctx} dgamma"));
        assert_close(&host(&grads.dbeta), &want.dbeta, gemm_tol(rows), gemm_tol(rows), &format!("{ctx} dbeta"));
    }
}

/// (x shape, with gamma/beta, offset)
const BATCH_CASES: [(&[usize], bool, f32); 7] = [
    (&[2, 1], true, 0.0),
    (&[33, 7], false, 0.0),
    (&[4, 3, 5, 7], true, 0.0),
    (&[2, 33, 9, 11], true, 0.0),
    (&[3, 7, 1, 1], true, 0.0),
    (&[8, 1, 33, 33], true, 1e4),
    (&[5, 4, 13], false, 1e4),
];

fn batch_params(shape: &[usize], eps: f32) -> NormParams {
    NormParams::batch(shape[0], shape[1], shape[2..].iter().product(), eps)
}

#[test]
fn batch_norm_train_matches_the_twin_and_updates_running_stats() {
    for (i, &(shape, affine, offset)) in BATCH_CASES.iter().enumerate() {
        let (n, c) = (shape[0], shape[1]);
        let len: usize = shape.iter().product();
        let m = len / c;
        let x: Vec<f32> = data(i as u64, len, -2.0, 2.0).iter().map(|v| v + offset).collect();
        let (g, b) = (data(10 + i as u64, c, 0.5, 1.5), data(20 + i as u64, c, -1.0, 1.0));
        let (mut rm, mut rv) = (data(40 + i as u64, c, -1.0, 1.0), data(50 + i as u64, c, 0.5, 2.0));
        // Running stats as views at an offset into one buffer (as in a flat parameter store).
        let store = t(&[vec![7.0], rm.clone(), rv.clone()].concat(), &[1 + 2 * c]);
        let (trm, trv) = (store.slice(0, 1, 1 + c, 1).unwrap(), store.slice(0, 1 + c, 1 + 2 * c, 1).unwrap());
        let (tg, tb) = (t(&g, &[c]), t(&b, &[c]));
        let (og, ob) = if affine { (Some(&tg), Some(&tb)) } else { (None, None) };
        let out = t(&x, shape).batch_norm_train(og, ob, &trm, &trv, 0.1, 1e-5).unwrap();
        let mut p = batch_params(shape, 1e-5);
        p.momentum = 0.1;
        let (rg, rb) = if affine { (Some(&g[..]), Some(&b[..])) } else { (None, None) };
        let want = reference::batch_norm_forward(&p, &x, rg, rb);
        reference::batch_norm_update_running(&p, &want.mean, &want.var, &mut rm, &mut rv);
        let tol = norm_tol(m);
        let ctx = format!("case {i} ({shape:?}, n {n}, offset {offset})");
        assert_close(&host(&out.y), &want.y, tol, norm_tol(m), &format!("{ctx} y"));
        assert_close(&host(&out.mean), &want.mean, norm_tol(m), 1e-6, &format!("{ctx} mean"));
        assert_close(&host(&out.rstd), &want.rstd, 0.0, tol, &format!("{ctx} rstd"));
        let stored = host(&store);
        assert_eq!(stored[0], 7.0, "{ctx}: the element before running_mean is untouched");
        assert_close(&stored[1..1 + c], &rm, norm_tol(m), 1e-5, &format!("{ctx} running_mean"));
        assert_close(&stored[1 + c..], &rv, 1e-5, tol, &format!("{ctx} running_var"));
    }
}

#[test]
fn batch_norm_eval_uses_the_running_stats() {
    let (shape, c) = ([3usize, 5, 4, 7], 5);
    let x = data(1, shape.iter().product(), -2.0, 2.0);
    let (g, b, rm, rv) = (data(2, c, 0.5, 1.5), data(3, c, -1.0, 1.0), data(4, c, -1.0, 1.0), data(5, c, 0.5, 2.0));
    let store = t(&[rm.clone(), rv.clone()].concat(), &[2 * c]);
    let (trm, trv) = (store.slice(0, 0, c, 1).unwrap(), store.slice(0, c, 2 * c, 1).unwrap());
    let y = t(&x, &shape).batch_norm_eval(Some(&t(&g, &[c])), Some(&t(&b, &[c])), &trm, &trv, 1e-3).unwrap();
    let want = reference::batch_norm_eval(&batch_params(&shape, 1e-3), &x, Some(&g), Some(&b), &rm, &rv);
    assert_close(&host(&y), &want, 1e-6, 1e-5, "eval");
    assert_eq!(host(&store), [rm, rv].concat(), "eval leaves the running stats alone");
}

#[test]
fn batch_norm_backward_matches_the_twin() {
    for (i, &(shape, affine, offset)) in BATCH_CASES.iter().enumerate() {
        let c = shape[1];
        let len: usize = shape.iter().product();
        let m = len / c;
        let x: Vec<f32> = data(i as u64, len, -2.0, 2.0).iter().map(|v| v + offset).collect();
        let (g, dy) = (data(10 + i as u64, c, 0.5, 1.5), data(30 + i as u64, len, -1.0, 1.0));
        let (tx, tg) = (t(&x, shape), t(&g, &[c]));
        let og = affine.then_some(&tg);
        let (rm, rv) =
            (Tensor::zeros(dev(), &[c], DType::F32).unwrap(), Tensor::ones(dev(), &[c], DType::F32).unwrap());
        let out = tx.batch_norm_train(og, None, &rm, &rv, 0.1, 1e-5).unwrap();
        let grads = t(&dy, shape).batch_norm_backward(&tx, og, &out.mean, &out.rstd).unwrap();
        let want = reference::batch_norm_backward(&batch_params(shape, 1e-5), &x, &dy, affine.then_some(&g[..]));
        let tol = if offset != 0.0 { BACKWARD_OFFSET_ATOL } else { norm_tol(m) };
        let ctx = format!("case {i} ({shape:?}, offset {offset})");
        assert_close(&host(&grads.dx), &want.dx, tol, norm_tol(m), &format!("{ctx} dx"));
        let ptol = if offset != 0.0 { offset_param_tol(m) } else { gemm_tol(m) };
        assert_close(&host(&grads.dgamma), &want.dgamma, ptol, gemm_tol(m), &format!("{ctx} dgamma"));
        assert_close(&host(&grads.dbeta), &want.dbeta, gemm_tol(m), gemm_tol(m), &format!("{ctx} dbeta"));
    }
}

#[test]
fn norms_are_bit_for_bit_repeatable() {
    let x = t(&data(9, 7 * 1000, -1.0, 1.0), &[7, 1000]);
    let run = || host(&x.layer_norm(&[1000], None, None, 1e-5).unwrap().y);
    assert_eq!(run(), run());
    let xb = t(&data(9, 4 * 33 * 9, -1.0, 1.0), &[4, 33, 9]);
    let rs = || (Tensor::zeros(dev(), &[33], DType::F32).unwrap(), Tensor::ones(dev(), &[33], DType::F32).unwrap());
    let run = || {
        let (rm, rv) = rs();
        host(&xb.batch_norm_train(None, None, &rm, &rv, 0.1, 1e-5).unwrap().y)
    };
    assert_eq!(run(), run());
}

#[test]
fn norm_errors_name_the_op_and_both_shapes() {
    let x = Tensor::zeros(dev(), &[4, 8], DType::F32).unwrap();
    let g7 = Tensor::zeros(dev(), &[7], DType::F32).unwrap();
    let e = x.layer_norm(&[8], Some(&g7), None, 1e-5).unwrap_err().to_string();
    assert!(e.contains("layer_norm") && e.contains("[8]") && e.contains("[7]") && e.contains("[4, 8]"), "{e}");
    let e = x.layer_norm(&[5], None, None, 1e-5).unwrap_err().to_string();
    assert!(e.contains("layer_norm") && e.contains("[5]") && e.contains("[4, 8]"), "{e}");
    let e = Tensor::zeros(dev(), &[3, 0], DType::F32).unwrap().layer_norm(&[0], None, None, 1e-5).unwrap_err();
    assert!(e.to_string().contains("no elements"), "{e}");
    let (rm, rv) = (Tensor::zeros(dev(), &[8], DType::F32).unwrap(), Tensor::ones(dev(), &[8], DType::F32).unwrap());
    let e = x.batch_norm_train(Some(&g7), None, &rm, &rv, 0.1, 1e-5).unwrap_err().to_string();
    assert!(e.contains("batch_norm_train") && e.contains("gamma") && e.contains("[8]") && e.contains("[7]"), "{e}");
    let e = x.batch_norm_eval(None, None, &g7, &rv, 1e-5).unwrap_err().to_string();
    assert!(e.contains("batch_norm_eval") && e.contains("running_mean") && e.contains("[7]"), "{e}");
    let x1 = Tensor::zeros(dev(), &[8], DType::F32).unwrap();
    let e = x1.batch_norm_train(None, None, &rm, &rv, 0.1, 1e-5).unwrap_err().to_string();
    assert!(e.contains("batch_norm_train") && e.contains("rank 2, 3 or 4") && e.contains("[8]"), "{e}");
    let single = Tensor::zeros(dev(), &[1, 8], DType::F32).unwrap();
    let e = single.batch_norm_train(None, None, &rm, &rv, 0.1, 1e-5).unwrap_err().to_string();
    assert!(e.contains("more than 1 value per channel"), "{e}");
    let out = x.layer_norm(&[8], None, None, 1e-5).unwrap();
    let e = x.layer_norm_backward(&x, None, &rm, &out.rstd).unwrap_err().to_string();
    assert!(e.contains("layer_norm_backward") && e.contains("[4, 8]"), "{e}");
    let strided = Tensor::zeros(dev(), &[8, 2], DType::F32).unwrap().slice(1, 0, 1, 1).unwrap().squeeze(1).unwrap();
    let e = x.batch_norm_train(None, None, &strided, &rv, 0.1, 1e-5).unwrap_err().to_string();
    assert!(e.contains("contiguous"), "{e}");
}

#[test]
fn strided_inputs_are_made_contiguous_first() {
    let x = data(4, 5 * 9, -1.0, 1.0);
    let xt: Vec<f32> = (0..9 * 5).map(|i| x[(i % 5) * 9 + i / 5]).collect();
    let view = t(&x, &[5, 9]).transpose(0, 1).unwrap(); // [9, 5]
    let out = view.layer_norm(&[5], None, None, 1e-5).unwrap();
    let want = reference::layer_norm_forward(&NormParams::layer(9, 5, 1e-5), &xt, None, None);
    assert_close(&host(&out.y), &want.y, norm_tol(5), norm_tol(5), "layer norm of a view");
    let (rm, rv) = (Tensor::zeros(dev(), &[5], DType::F32).unwrap(), Tensor::ones(dev(), &[5], DType::F32).unwrap());
    let y = view.batch_norm_train(None, None, &rm, &rv, 0.1, 1e-5).unwrap().y;
    let want = reference::batch_norm_forward(&NormParams::batch(9, 5, 1, 1e-5), &xt, None, None);
    assert_close(&host(&y), &want.y, norm_tol(9), norm_tol(9), "batch norm of a view");
}
