//! Views and data movement: reshape, permute, transpose, slice, broadcast, squeeze, concat,
//! pad, gather, embedding.

use wgtrain_autograd::Var;
use wgtrain_tensor::Tensor;

use crate::harness::{check, dev, input};
use crate::twin;

/// A non-linear readout, so a wrong element order in a gradient cannot cancel out.
fn readout(v: &Var) -> wgtrain_autograd::Result<Var> {
    v.mul(v)?.tanh()
}
fn readout_twin(x: Vec<f64>) -> Vec<f64> {
    x.iter().map(|v| (v * v).tanh()).collect()
}

#[test]
fn reshape_permute_transpose_and_squeeze() {
    let s = [2, 3, 4];
    check("reshape", &[input(1, &s, -1.0, 1.0)], |v| readout(&v[0].reshape(&[6, 4])?), |h| readout_twin(h[0].clone()));
    check(
        "permute",
        &[input(2, &s, -1.0, 1.0)],
        |v| readout(&v[0].permute(&[2, 0, 1])?.contiguous()?),
        |h| readout_twin(twin::permute(&h[0], &s, &[2, 0, 1])),
    );
    check(
        "transpose then reshape (a copy)",
        &[input(3, &s, -1.0, 1.0)],
        |v| readout(&v[0].transpose(0, 2)?.reshape(&[12, 2])?),
        |h| readout_twin(twin::permute(&h[0], &s, &[2, 1, 0])),
    );
    check(
        "unsqueeze squeeze flatten",
        &[input(4, &s, -1.0, 1.0)],
        |v| readout(&v[0].unsqueeze(1)?.squeeze(1)?.flatten()?),
        |h| readout_twin(h[0].clone()),
    );
}

#[test]
fn slice_with_step_and_broadcast() {
    let s = [5, 7];
    check(
        "slice step 2",
        &[input(5, &s, -1.0, 1.0)],
        |v| readout(&v[0].slice(1, 1, 6, 2)?),
        |h| readout_twin(twin::slice(&h[0], &s, 1, 1, 6, 2)),
    );
    check(
        "broadcast_to",
        &[input(6, &[3, 1], -1.0, 1.0)],
        |v| readout(&v[0].broadcast_to(&[2, 3, 4])?),
        |h| readout_twin(twin::broadcast_to(&h[0], &[3, 1], &[2, 3, 4])),
    );
}

#[test]
fn concat_and_pad() {
    let (a, b, c) = ([2, 3, 4], [2, 1, 4], [2, 5, 4]);
    check(
        "concat axis 1",
        &[input(7, &a, -1.0, 1.0), input(8, &b, -1.0, 1.0), input(9, &c, -1.0, 1.0)],
        |v| readout(&Var::concat(&[&v[0], &v[1], &v[2]], 1)?),
        |h| readout_twin(twin::concat(&[(&h[0], &a), (&h[1], &b), (&h[2], &c)], 1)),
    );
    let pads = [(1, 0), (2, 3)];
    check(
        "pad",
        &[input(10, &[3, 4], -1.0, 1.0)],
        |v| readout(&v[0].pad(&pads, 0.5)?),
        |h| readout_twin(twin::pad(&h[0], &[3, 4], &pads, 0.5)),
    );
}

#[test]
fn gather_and_embedding_sum_repeated_indices() {
    let idx_h = [2u32, 0, 2, 1, 1, 1, 0, 3];
    let idx = Tensor::from_slice(dev(), &idx_h, &[4, 2]).unwrap();
    check(
        "gather axis 1",
        &[input(11, &[4, 5], -1.0, 1.0)],
        |v| readout(&v[0].gather(1, &idx)?),
        |h| readout_twin(twin::gather(&h[0], &[4, 5], 1, &idx_h, &[4, 2])),
    );
    let ids_h = [3u32, 0, 3, 3, 1, 6];
    let ids = Tensor::from_slice(dev(), &ids_h, &[2, 3]).unwrap();
    check(
        "embedding",
        &[input(12, &[7, 5], -1.0, 1.0)],
        |v| readout(&v[0].embedding(&ids)?),
        |h| readout_twin(twin::embedding(&h[0], 7, 5, &ids_h)),
    );
}
