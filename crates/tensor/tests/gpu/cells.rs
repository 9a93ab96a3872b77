//! The fused LSTM and GRU cells against their twins: random gates and states at awkward sizes
//! (one unit, rows that straddle workgroups), saturating gates, and NaN and infinities, forward
//! and backward.

use wgtrain_kernels::reference;
use wgtrain_tensor::Tensor;

use super::harness::{assert_close, data, dev};

fn up(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(dev(), v, shape).unwrap()
}

/// Checks both kernels on gates `[n, 4u]`, c_prev `[n, u]` and an upstream gradient.
#[track_caller]
fn check(gates: &[f32], c_prev: &[f32], dhc: &[f32], n: usize, u: usize, ctx: &str) {
    let (g, c) = (up(gates, &[n, 4 * u]), up(c_prev, &[n, u]));
    let hc = Tensor::lstm_cell(&g, &c).unwrap();
    let got = hc.to_vec::<f32>().unwrap();
    let want = reference::lstm_cell(gates, c_prev, n, u);
    assert_close(&got, &want, 1e-6, 1e-5, &format!("{ctx}: forward"));
    let grad = Tensor::lstm_cell_grad(&g, &c, &hc, &up(dhc, &[n, 2 * u])).unwrap();
    let want = reference::lstm_cell_grad(gates, c_prev, &got, dhc, n, u);
    assert_close(&grad.to_vec::<f32>().unwrap(), &want, 1e-6, 1e-5, &format!("{ctx}: backward"));
}

#[test]
fn the_cell_matches_its_twin_at_awkward_sizes_and_saturation() {
    for (k, &(n, u)) in [(1, 1), (3, 37), (17, 65), (2, 300), (5, 4)].iter().enumerate() {
        let seed = 10 * k as u64;
        let gates = data(seed, n * 4 * u, -4.0, 4.0);
        let c_prev = data(seed + 1, n * u, -2.0, 2.0);
        let dhc = data(seed + 2, n * 2 * u, -1.0, 1.0);
        check(&gates, &c_prev, &dhc, n, u, &format!("n {n} u {u}"));
    }
    // Saturated gates (|x| up to 80: sigmoid is 0 or 1, tanh +-1, and nothing overflows).
    let (n, u) = (4, 9);
    let gates = data(7, n * 4 * u, -80.0, 80.0);
    check(&gates, &data(8, n * u, -3.0, 3.0), &data(9, n * 2 * u, -1.0, 1.0), n, u, "saturated");
}

#[test]
fn nan_and_infinities_go_where_the_twin_sends_them() {
    let (n, u) = (2, 3);
    let mut gates = data(1, n * 4 * u, -2.0, 2.0);
    let mut c_prev = data(2, n * u, -1.0, 1.0);
    gates[0] = f32::NAN; // an input gate: unit 0 of row 0 is NaN
    gates[4 * u + 2 * u + 1] = f32::INFINITY; // a candidate of row 1: tanh(inf) = 1
    gates[4 * u + 3 * u + 2] = f32::NEG_INFINITY; // an output gate of row 1: sigmoid = 0
    c_prev[4] = f32::NAN; // row 1's unit 1
    check(&gates, &c_prev, &data(3, n * 2 * u, -1.0, 1.0), n, u, "NaN and infinities");
    let hc = Tensor::lstm_cell(&up(&gates, &[n, 4 * u]), &up(&c_prev, &[n, u])).unwrap().to_vec::<f32>().unwrap();
    assert!(hc[0].is_nan() && hc[u].is_nan(), "a NaN gate makes that unit's h and c NaN: {hc:?}");
    assert!(hc[1].is_finite() && hc[2].is_finite(), "and only that unit's");
}

#[test]
fn the_cell_refuses_shapes_it_cannot_read() {
    let g = up(&[0.0; 12], &[1, 12]);
    let err = Tensor::lstm_cell(&g, &up(&[0.0; 2], &[1, 2])).unwrap_err().to_string();
    assert!(err.contains("lstm_cell") && err.contains("[1, 3]"), "{err}");
    let err = Tensor::lstm_cell(&up(&[0.0; 6], &[1, 6]), &up(&[0.0; 1], &[1, 1])).unwrap_err().to_string();
    assert!(err.contains("multiple of 4"), "{err}");
    let hc = up(&[0.0; 6], &[1, 6]);
    let err =
        Tensor::lstm_cell_grad(&g, &up(&[0.0; 3], &[1, 3]), &hc, &up(&[0.0; 5], &[1, 5])).unwrap_err().to_string();
    assert!(err.contains("lstm_cell_grad") && err.contains("[1, 6]"), "{err}");
}

/// Checks both GRU kernels on projections `[n, 3u]`, a state `[n, u]` and its gradient.
#[track_caller]
fn check_gru(xp: &[f32], hp: &[f32], h_prev: &[f32], dh: &[f32], n: usize, u: usize, ctx: &str) {
    let (x, h, prev) = (up(xp, &[n, 3 * u]), up(hp, &[n, 3 * u]), up(h_prev, &[n, u]));
    let got = Tensor::gru_cell(&x, &h, &prev).unwrap().to_vec::<f32>().unwrap();
    assert_close(&got, &reference::gru_cell(xp, hp, h_prev, n, u), 1e-6, 1e-5, &format!("{ctx}: forward"));
    let grad = Tensor::gru_cell_grad(&x, &h, &prev, &up(dh, &[n, u])).unwrap();
    let want = reference::gru_cell_grad(xp, hp, h_prev, dh, n, u);
    assert_close(&grad.to_vec::<f32>().unwrap(), &want, 1e-6, 1e-5, &format!("{ctx}: backward"));
}

#[test]
fn the_gru_cell_matches_its_twin_at_awkward_sizes_saturation_nan_and_infinities() {
    for (k, &(n, u)) in [(1, 1), (3, 37), (17, 65), (2, 300)].iter().enumerate() {
        let seed = 100 + 10 * k as u64;
        let (xp, hp) = (data(seed, n * 3 * u, -3.0, 3.0), data(seed + 1, n * 3 * u, -3.0, 3.0));
        let (h_prev, dh) = (data(seed + 2, n * u, -1.0, 1.0), data(seed + 3, n * u, -1.0, 1.0));
        check_gru(&xp, &hp, &h_prev, &dh, n, u, &format!("n {n} u {u}"));
    }
    let (n, u) = (3, 4);
    let (mut xp, hp) = (data(7, n * 3 * u, -60.0, 60.0), data(8, n * 3 * u, -60.0, 60.0));
    let mut h_prev = data(9, n * u, -1.0, 1.0);
    xp[0] = f32::NAN;
    xp[3 * u + 2 * u + 1] = f32::INFINITY;
    xp[6 * u + u + 2] = f32::NEG_INFINITY;
    h_prev[5] = f32::NAN;
    check_gru(&xp, &hp, &h_prev, &data(10, n * u, -1.0, 1.0), n, u, "saturated, NaN and infinities");
    let err = Tensor::gru_cell(&up(&xp, &[n, 3 * u]), &up(&hp[..3 * u], &[1, 3 * u]), &up(&h_prev, &[n, u]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("gru_cell") && err.contains("one shape"), "{err}");
}
