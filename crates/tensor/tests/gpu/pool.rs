//! Max, average and global average pooling, forward and backward, against the twins: odd
//! extents, stride != kernel, padding, 1x1 planes, ties and NaN for max pooling, and errors.
//! Max pooling is exact (values and indices must match bit for bit); average pooling sums at
//! most k_h k_w values: `rtol 1e-5 + atol 1e-6`; global pooling sums h w values: `gemm_tol`.

use wgtrain_kernels::ops::pool::PoolParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Pool2dOptions, Tensor};

use super::harness::{assert_close, data, dev, gemm_tol};

/// (x shape, kernel, stride, padding)
type Case = ([usize; 4], [usize; 2], [usize; 2], [usize; 2]);

const CASES: [Case; 13] = [
    ([1, 1, 1, 1], [1, 1], [1, 1], [0, 0]),
    ([2, 3, 7, 9], [3, 3], [2, 2], [1, 1]),
    ([1, 2, 8, 5], [2, 3], [1, 2], [1, 1]),
    ([3, 4, 11, 13], [3, 2], [3, 1], [0, 1]),
    ([2, 2, 33, 17], [4, 4], [4, 4], [2, 2]),
    ([1, 7, 5, 5], [5, 5], [1, 1], [2, 2]),
    ([2, 1, 6, 6], [2, 2], [3, 3], [0, 0]), // stride > kernel: some inputs are in no window
    // Disjoint unpadded windows (the kernel's unrolled path), leaving a last row and column out.
    ([4, 3, 13, 13], [2, 2], [2, 2], [0, 0]),
    ([2, 5, 9, 7], [3, 2], [3, 2], [0, 0]),
    // From 4096 elements CPU adapters read the disjoint passes' operands from textures; windows
    // that tile the input write dx a window at a time (with rows and columns left past them).
    ([8, 4, 13, 13], [2, 2], [2, 2], [0, 0]),
    ([2, 3, 30, 30], [2, 2], [2, 2], [0, 0]),
    ([3, 4, 20, 23], [3, 2], [3, 2], [0, 0]),
    ([2, 4, 25, 26], [2, 3], [3, 4], [0, 0]),
];

fn setup(i: usize) -> (Pool2dOptions, PoolParams, [usize; 4]) {
    let (x, k, s, pad) = CASES[i];
    let o = Pool2dOptions { kernel: k, stride: s, padding: pad };
    (o, PoolParams::new(x[0] * x[1], [x[2], x[3]], k, s, pad).unwrap(), x)
}

fn t(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(dev(), v, shape).unwrap()
}

fn out_shape(x: [usize; 4], p: &PoolParams) -> [usize; 4] {
    [x[0], x[1], p.out_h as usize, p.out_w as usize]
}

fn check_max_pool(x: &[f32], i: usize, ctx: &str) {
    let (o, p, shape) = setup(i);
    let out = t(x, &shape).max_pool2d(&o).unwrap();
    assert_eq!(out.y.shape(), &out_shape(shape, &p), "{ctx}");
    let (want_y, want_i) = reference::max_pool2d_forward(&p, x);
    let got_y = out.y.to_vec::<f32>().unwrap();
    assert_eq!(
        got_y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        want_y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        "{ctx} values"
    );
    assert_eq!(out.indices.to_vec::<u32>().unwrap(), want_i, "{ctx} indices");
    let dy = data(100 + i as u64, p.output_len(), -1.0, 1.0);
    let dx = t(&dy, &out_shape(shape, &p)).max_pool2d_backward(&out.indices, shape, &o).unwrap();
    let want = reference::max_pool2d_backward(&p, &dy, &want_i);
    assert_close(&dx.to_vec::<f32>().unwrap(), &want, 1e-6, 1e-5, &format!("{ctx} backward"));
}

#[test]
fn max_pool_matches_the_twin() {
    for (i, case) in CASES.iter().enumerate() {
        let x = data(i as u64, case.0.iter().product(), -1.0, 1.0);
        check_max_pool(&x, i, &format!("case {i}"));
    }
}

#[test]
fn max_pool_ties_go_to_the_first_maximum_and_nan_propagates() {
    for (i, case) in CASES.iter().enumerate() {
        // Three distinct values: most windows hold ties.
        let x: Vec<f32> = data(i as u64, case.0.iter().product(), 0.0, 3.0).iter().map(|v| v.floor()).collect();
        check_max_pool(&x, i, &format!("ties, case {i}"));
        let mut x = x;
        for k in (0..x.len()).step_by(5) {
            x[k] = f32::NAN;
        }
        check_max_pool(&x, i, &format!("NaN, case {i}"));
    }
    // By hand: a constant 2x2 window reports its first element; overlapping windows sum into it.
    let x = t(&[1.0; 9], &[1, 1, 3, 3]);
    let o = Pool2dOptions { kernel: [2, 2], stride: [1, 1], padding: [0, 0] };
    let out = x.max_pool2d(&o).unwrap();
    assert_eq!(out.indices.to_vec::<u32>().unwrap(), [0, 1, 3, 4]);
    let dx = t(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]).max_pool2d_backward(&out.indices, [1, 1, 3, 3], &o).unwrap();
    assert_eq!(dx.to_vec::<f32>().unwrap(), [1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn avg_pool_matches_the_twin() {
    for i in 0..CASES.len() {
        let (o, p, shape) = setup(i);
        let x = data(i as u64, shape.iter().product(), -1.0, 1.0);
        let y = t(&x, &shape).avg_pool2d(&o).unwrap();
        assert_close(
            &y.to_vec::<f32>().unwrap(),
            &reference::avg_pool2d_forward(&p, &x),
            1e-6,
            1e-5,
            &format!("case {i} forward"),
        );
        let dy = data(100 + i as u64, p.output_len(), -1.0, 1.0);
        let dx = t(&dy, &out_shape(shape, &p)).avg_pool2d_backward(shape, &o).unwrap();
        assert_close(
            &dx.to_vec::<f32>().unwrap(),
            &reference::avg_pool2d_backward(&p, &dy),
            1e-6,
            1e-5,
            &format!("case {i} backward"),
        );
    }
    // count_include_pad: a 3x3 window at the corner of a padded 2x2 input of ones sees 4 ones.
    let o = Pool2dOptions { kernel: [3, 3], stride: [1, 1], padding: [1, 1] };
    let y = t(&[1.0; 4], &[1, 1, 2, 2]).avg_pool2d(&o).unwrap();
    assert_close(&y.to_vec::<f32>().unwrap(), &[4.0 / 9.0; 4], 1e-7, 1e-6, "count_include_pad");
}

#[test]
fn global_avg_pool_matches_the_twin() {
    for (i, shape) in
        [[1usize, 1, 1, 1], [2, 7, 7, 9], [1, 3, 33, 33], [3, 2, 1, 17], [1, 1, 40, 40]].into_iter().enumerate()
    {
        let x = data(i as u64, shape.iter().product(), -1.0, 1.0);
        let p = PoolParams::global(shape[0] * shape[1], [shape[2], shape[3]]);
        let y = t(&x, &shape).global_avg_pool2d().unwrap();
        assert_eq!(y.shape(), &shape[..2]);
        let hw = shape[2] * shape[3];
        assert_close(
            &y.to_vec::<f32>().unwrap(),
            &reference::global_avg_pool_forward(&p, &x),
            gemm_tol(hw) / hw as f32,
            1e-5,
            &format!("{shape:?} forward"),
        );
        let dy = data(50 + i as u64, shape[0] * shape[1], -1.0, 1.0);
        let dx = t(&dy, &shape[..2]).global_avg_pool2d_backward(shape).unwrap();
        assert_close(
            &dx.to_vec::<f32>().unwrap(),
            &reference::global_avg_pool_backward(&p, &dy),
            1e-7,
            1e-6,
            &format!("{shape:?} backward"),
        );
    }
}

#[test]
fn pool_errors_name_the_op_and_the_problem() {
    let x = Tensor::zeros(dev(), &[2, 3, 5, 5], DType::F32).unwrap();
    let e = Tensor::zeros(dev(), &[3, 5, 5], DType::F32)
        .unwrap()
        .max_pool2d(&Pool2dOptions::new([2, 2]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_pool2d") && e.contains("rank-4") && e.contains("[3, 5, 5]"), "{e}");
    let o = Pool2dOptions { kernel: [2, 2], stride: [1, 1], padding: [2, 0] };
    let e = x.avg_pool2d(&o).unwrap_err().to_string();
    assert!(e.contains("avg_pool2d") && e.contains("at most half"), "{e}");
    let empty = Tensor::zeros(dev(), &[1, 1, 0, 2], DType::F32).unwrap();
    let e =
        empty.max_pool2d(&Pool2dOptions { kernel: [2, 2], stride: [1, 1], padding: [1, 1] }).unwrap_err().to_string();
    assert!(e.contains("empty planes") && e.contains("[1, 1, 0, 2]"), "{e}");
    let e = x.max_pool2d(&Pool2dOptions::new([6, 6])).unwrap_err().to_string();
    assert!(e.contains("does not fit") && e.contains("[2, 3, 5, 5]"), "{e}");
    let e = x.max_pool2d(&Pool2dOptions { kernel: [2, 2], stride: [0, 1], padding: [0, 0] }).unwrap_err().to_string();
    assert!(e.contains("stride"), "{e}");
    let dy = Tensor::zeros(dev(), &[2, 3, 3, 3], DType::F32).unwrap();
    let e = dy.avg_pool2d_backward([2, 3, 5, 5], &Pool2dOptions::new([2, 2])).unwrap_err().to_string();
    assert!(e.contains("avg_pool2d_backward") && e.contains("[2, 3, 2, 2]") && e.contains("[2, 3, 3, 3]"), "{e}");
    let idx = Tensor::zeros(dev(), &[2, 3, 2, 2], DType::F32).unwrap();
    let e = idx.max_pool2d_backward(&idx, [2, 3, 5, 5], &Pool2dOptions::new([2, 2])).unwrap_err().to_string();
    assert!(e.contains("max_pool2d_backward") && e.contains("U32"), "{e}");
    let e = Tensor::zeros(dev(), &[2, 4], DType::F32)
        .unwrap()
        .global_avg_pool2d_backward([2, 3, 5, 5])
        .unwrap_err()
        .to_string();
    assert!(e.contains("global_avg_pool2d_backward") && e.contains("[2, 3]") && e.contains("[2, 4]"), "{e}");
}

#[test]
fn strided_inputs_are_made_contiguous_first() {
    // An NHWC tensor permuted to NCHW.
    let (n, c, h, w) = (2, 3, 5, 4);
    let nhwc = data(7, n * h * w * c, -1.0, 1.0);
    let view = t(&nhwc, &[n, h, w, c]).permute(&[0, 3, 1, 2]).unwrap();
    let nchw: Vec<f32> = (0..n * c * h * w)
        .map(|i| {
            let (b, ch, y, x) = (i / (c * h * w), (i / (h * w)) % c, (i / w) % h, i % w);
            nhwc[((b * h + y) * w + x) * c + ch]
        })
        .collect();
    let o = Pool2dOptions { kernel: [3, 3], stride: [2, 1], padding: [1, 1] };
    let p = PoolParams::new(n * c, [h, w], o.kernel, o.stride, o.padding).unwrap();
    let out = view.max_pool2d(&o).unwrap();
    assert_eq!(out.y.to_vec::<f32>().unwrap(), reference::max_pool2d_forward(&p, &nchw).0);
    let avg = view.avg_pool2d(&o).unwrap().to_vec::<f32>().unwrap();
    assert_close(&avg, &reference::avg_pool2d_forward(&p, &nchw), 1e-6, 1e-5, "avg of a view");
    let g = view.global_avg_pool2d().unwrap().to_vec::<f32>().unwrap();
    let want = reference::global_avg_pool_forward(&PoolParams::global(n * c, [h, w]), &nchw);
    assert_close(&g, &want, 1e-6, 1e-5, "global avg of a view");
}
