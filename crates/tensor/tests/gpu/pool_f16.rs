//! Pooling on f16 tensors against the twins: windows are compared and summed in f32, each
//! result rounded once to f16; the twins take the same f16 values and round once. Max pooling
//! selects an input, so its values and indices match exactly; averages agree to one f16 ulp.
//! The texture forms are f32 only, so f16 pooling takes the storage-buffer form everywhere.

use half::f16;
use wgtrain_kernels::ops::pool::PoolParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Pool2dOptions, Tensor};

use super::harness::{assert_close, data, dev};

const RTOL: f32 = 1.0 / 1024.0 + 1e-5;

/// (x shape, kernel, stride, padding).
type Case = ([usize; 4], [usize; 2], [usize; 2], [usize; 2]);

/// Overlapping padded windows, disjoint ones (the unrolled path, large enough that f32 would
/// read textures), and stride past the kernel.
const CASES: [Case; 3] = [
    ([2, 3, 7, 9], [3, 3], [2, 2], [1, 1]),
    ([8, 4, 13, 13], [2, 2], [2, 2], [0, 0]),
    ([2, 1, 6, 6], [2, 2], [3, 3], [0, 0]),
];

fn halves(seed: u64, n: usize) -> Vec<f16> {
    data(seed, n, -4.0, 4.0).iter().map(|&x| f16::from_f32(x)).collect()
}

fn floats(v: &[f16]) -> Vec<f32> {
    v.iter().map(|x| x.to_f32()).collect()
}

fn read(t: &Tensor) -> Vec<f32> {
    assert_eq!(t.dtype(), DType::F16);
    floats(&t.to_vec::<f16>().unwrap())
}

#[test]
fn f16_pooling_matches_the_twins() {
    if !dev().has_f16() {
        return;
    }
    for (i, &(xs, k, s, pad)) in CASES.iter().enumerate() {
        let o = Pool2dOptions { kernel: k, stride: s, padding: pad };
        let p = PoolParams::new(xs[0] * xs[1], [xs[2], xs[3]], k, s, pad).unwrap();
        let ys = [xs[0], xs[1], p.out_h as usize, p.out_w as usize];
        let x = halves(i as u64, xs.iter().product());
        let dy = halves(50 + i as u64, ys.iter().product());
        let tx = Tensor::from_slice(dev(), &x, &xs).unwrap();
        let tdy = Tensor::from_slice(dev(), &dy, &ys).unwrap();
        let ctx = format!("case {i}");

        let out = tx.max_pool2d(&o).unwrap();
        let (want_y, want_idx) = reference::max_pool2d_forward::<f16>(&p, &x);
        assert_eq!(read(&out.y), floats(&want_y), "max forward, {ctx}");
        assert_eq!(out.indices.to_vec::<u32>().unwrap(), want_idx, "argmax, {ctx}");
        let dx = tdy.max_pool2d_backward(&out.indices, xs, &o).unwrap();
        let want = reference::max_pool2d_backward::<f16>(&p, &dy, &want_idx);
        assert_close(&read(&dx), &floats(&want), 1e-6, RTOL, &format!("max backward, {ctx}"));

        let y = tx.avg_pool2d(&o).unwrap();
        let want = reference::avg_pool2d_forward::<f16>(&p, &x);
        assert_close(&read(&y), &floats(&want), 1e-6, RTOL, &format!("avg forward, {ctx}"));
        let dx = tdy.avg_pool2d_backward(xs, &o).unwrap();
        let want = reference::avg_pool2d_backward::<f16>(&p, &dy);
        assert_close(&read(&dx), &floats(&want), 1e-6, RTOL, &format!("avg backward, {ctx}"));

        let g = PoolParams::global(xs[0] * xs[1], [xs[2], xs[3]]);
        let y = tx.global_avg_pool2d().unwrap();
        let want = reference::global_avg_pool_forward::<f16>(&g, &x);
        assert_close(&read(&y), &floats(&want), 1e-6, RTOL, &format!("global forward, {ctx}"));
        let gdy = halves(90 + i as u64, xs[0] * xs[1]);
        let tg = Tensor::from_slice(dev(), &gdy, &xs[..2]).unwrap();
        let dx = tg.global_avg_pool2d_backward(xs).unwrap();
        let want = reference::global_avg_pool_backward::<f16>(&g, &gdy);
        assert_close(&read(&dx), &floats(&want), 1e-6, RTOL, &format!("global backward, {ctx}"));
    }
}

#[test]
fn f16_max_pooling_propagates_nan_and_keeps_the_extremes() {
    if !dev().has_f16() {
        return;
    }
    let x: Vec<f16> = [f32::NAN, 1.0, 2.0, 3.0, 65504.0, -65504.0, f32::NEG_INFINITY, 0.0]
        .iter()
        .map(|&v| f16::from_f32(v))
        .collect();
    let t = Tensor::from_slice(dev(), &x, &[1, 2, 2, 2]).unwrap();
    let out = t.max_pool2d(&Pool2dOptions::new([2, 2])).unwrap();
    let y = read(&out.y);
    assert!(y[0].is_nan(), "a window holding NaN pools to NaN: {y:?}");
    assert_eq!(y[1], 65504.0, "{y:?}");
}
