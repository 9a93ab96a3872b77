//! Reductions against their twins: every op over awkward shapes and axes (first, middle, last,
//! several adjacent, non-adjacent, all; keepdim), ties for argmax / argmin, ±1e30 extremes,
//! long rows that take two passes, one sum over more than 2^24 elements, and the subgroup row
//! kernel next to the portable tree (lavapipe has SUBGROUP, so both run in CI).
//! Tolerance: sums and norms of length k use 1e-4 sqrt(k) (absolute and relative); max, min and
//! the arg ops are exact.

use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, ReduceOp, Tensor};

use super::harness::{assert_close, data, dev, gemm_tol};

/// Host copy of `x` (row-major `shape`) with kept axes first and `axes` last, as (outer, r).
fn host_layout(x: &[f32], shape: &[usize], axes: &[usize]) -> (Vec<f32>, usize, usize) {
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let strides = wgtrain_tensor::shape::contiguous_strides(shape);
    let pshape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let mut out = Vec::with_capacity(x.len());
    for lin in 0..x.len() {
        let (mut rem, mut off) = (lin, 0);
        for d in (0..pshape.len()).rev() {
            off += (rem % pshape[d]) * strides[perm[d]];
            rem /= pshape[d];
        }
        out.push(x[off]);
    }
    let outer = kept.iter().map(|&d| shape[d]).product();
    (out, outer, axes.iter().map(|&d| shape[d]).product())
}

fn out_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    (0..shape.len())
        .filter_map(|d| {
            if !axes.contains(&d) {
                Some(shape[d])
            } else if keepdim {
                Some(1)
            } else {
                None
            }
        })
        .collect()
}

const CASES: &[(&[usize], &[usize])] = &[
    (&[1], &[0]),
    (&[7], &[0]),
    (&[33], &[0]),
    (&[1000], &[0]),
    (&[7, 33], &[1]),
    (&[7, 33], &[0]),
    (&[3, 7, 33], &[1]),
    (&[3, 7, 33], &[0, 2]),
    (&[3, 7, 33], &[0, 1]),
    (&[3, 7, 33], &[0, 1, 2]),
    (&[5, 1, 4, 6], &[1, 3]),
    (&[2, 1000, 3], &[1]),
    (&[1000, 7], &[0]),
    (&[2, 3000, 3], &[1]),
    // From 4096 elements CPU adapters read x from a texture, rows under 16,384 one thread each:
    // short rows, rows past one column chunk (two passes), and rows long enough for workgroups.
    (&[64, 13, 169], &[2]),
    (&[5, 4099], &[1]),
    (&[2, 17000], &[1]),
];

#[test]
fn value_reductions_match_the_twin_on_awkward_shapes_and_axes() {
    for (ci, &(shape, axes)) in CASES.iter().enumerate() {
        let n: usize = shape.iter().product();
        let x = data(ci as u64, n, -1.0, 1.0);
        let t = Tensor::from_slice(dev(), &x, shape).unwrap();
        let (hx, outer, r) = host_layout(&x, shape, axes);
        let iaxes: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
        for keepdim in [false, true] {
            for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::SumSq, ReduceOp::NormL2] {
                let got = t.reduce(op, &iaxes, keepdim).unwrap();
                assert_eq!(got.shape(), out_shape(shape, axes, keepdim).as_slice(), "{op:?} {shape:?} {axes:?}");
                let want = reference::reduce(op, &hx, outer, r, 1);
                let tol = if matches!(op, ReduceOp::Max | ReduceOp::Min) { 0.0 } else { gemm_tol(r) };
                let ctx = format!("{op:?} {shape:?} axes {axes:?} keepdim {keepdim}");
                assert_close(&got.to_vec::<f32>().unwrap(), &want, tol, tol, &ctx);
            }
            for correction in [0.0, 1.0] {
                let got = t.var(&iaxes, correction, keepdim).unwrap().to_vec::<f32>().unwrap();
                let want = reference::variance(&hx, outer, r, 1, correction as f64);
                let ctx = format!("var {shape:?} axes {axes:?} correction {correction}");
                if r > 1 {
                    assert_close(&got, &want, gemm_tol(r), gemm_tol(r), &ctx);
                }
            }
        }
    }
}

#[test]
fn arg_reductions_pick_the_first_index_on_ties() {
    for (ci, &(shape, axes)) in CASES.iter().enumerate().filter(|(_, c)| c.1.len() == 1) {
        let n: usize = shape.iter().product();
        // Five distinct values: many ties in every row.
        let x: Vec<f32> = data(100 + ci as u64, n, 0.0, 5.0).iter().map(|v| v.floor()).collect();
        let t = Tensor::from_slice(dev(), &x, shape).unwrap();
        let (hx, outer, r) = host_layout(&x, shape, axes);
        type ArgFn = fn(&Tensor, isize, bool) -> wgtrain_tensor::Result<Tensor>;
        for (op, f) in [(ReduceOp::ArgMax, Tensor::argmax as ArgFn), (ReduceOp::ArgMin, Tensor::argmin)] {
            let got = f(&t, axes[0] as isize, false).unwrap();
            assert_eq!(got.dtype(), DType::U32);
            let want = reference::argreduce(op, &hx, outer, r, 1);
            assert_eq!(got.to_vec::<u32>().unwrap(), want, "{op:?} {shape:?} axis {axes:?}");
        }
    }
    let t = Tensor::from_slice(dev(), &[3.0f32, 1.0, 3.0, 1.0], &[4]).unwrap();
    assert_eq!(t.argmax(0, true).unwrap().shape(), &[1]);
    assert_eq!(t.argmax(0, false).unwrap().to_vec::<u32>().unwrap(), vec![0]);
    assert_eq!(t.argmin(-1, false).unwrap().to_vec::<u32>().unwrap(), vec![1]);
}

#[test]
fn long_rows_reduce_in_two_passes_with_ties_across_chunks() {
    // Row length 200,000 > 65,536: four partials per row, then one more pass.
    let (rows, r) = (2, 200_000);
    let mut x = data(7, rows * r, -1.0, 1.0);
    for (row, ks) in [(0, [70_000, 150_000]), (1, [3, 199_999])] {
        for k in ks {
            x[row * r + k] = 2.0;
        }
    }
    x[r + 100_000] = -2.0;
    x[r + 100_001] = -2.0;
    let t = Tensor::from_slice(dev(), &x, &[rows, r]).unwrap();
    assert_eq!(t.argmax(1, false).unwrap().to_vec::<u32>().unwrap(), vec![70_000, 3]);
    assert_eq!(t.argmin(1, false).unwrap().to_vec::<u32>().unwrap()[1], 100_000);
    assert_eq!(t.max(&[1], false).unwrap().to_vec::<f32>().unwrap(), vec![2.0, 2.0]);
    for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::NormL2] {
        let got = t.reduce(op, &[-1], false).unwrap().to_vec::<f32>().unwrap();
        assert_close(&got, &reference::reduce(op, &x, rows, r, 1), gemm_tol(r), gemm_tol(r), &format!("{op:?}"));
    }
    let got = t.var(&[1], 0.0, false).unwrap().to_vec::<f32>().unwrap();
    assert_close(&got, &reference::variance(&x, rows, r, 1, 0.0), 1e-4, 1e-4, "var of long rows");
    // Column reduction over 3,000 (> 1,024 per thread): chained column passes.
    let (r, inner) = (3000, 5);
    let mut y = data(8, r * inner, -1.0, 1.0);
    y[2000 * inner + 4] = 5.0;
    y[2999 * inner + 4] = 5.0;
    let t = Tensor::from_slice(dev(), &y, &[r, inner]).unwrap();
    assert_eq!(t.argmax(0, false).unwrap().to_vec::<u32>().unwrap()[4], 2000);
    let got = t.sum(&[0], false).unwrap().to_vec::<f32>().unwrap();
    assert_close(&got, &reference::reduce(ReduceOp::Sum, &y, 1, r, inner), gemm_tol(r), gemm_tol(r), "column sum");
}

#[test]
fn extremes_and_large_means_stay_exact() {
    let x = vec![1e30f32, -1e30, 3.0, -7.0, 1e30, -1e30, 0.0];
    let t = Tensor::from_slice(dev(), &x, &[7]).unwrap();
    assert_eq!(t.max_all().unwrap().item::<f32>().unwrap(), 1e30);
    assert_eq!(t.min_all().unwrap().item::<f32>().unwrap(), -1e30);
    assert_eq!(t.argmax(0, false).unwrap().to_vec::<u32>().unwrap(), vec![0]);
    assert_eq!(t.argmin(0, false).unwrap().to_vec::<u32>().unwrap(), vec![1]);
    let neg = Tensor::from_slice(dev(), &[-1e30f32; 70], &[70]).unwrap();
    assert_eq!(neg.max_all().unwrap().item::<f32>().unwrap(), -1e30);
    // Two-pass variance of 1e4 + noise: E[x^2] - E[x]^2 would lose it to cancellation.
    let noise = data(9, 1000, -1.0, 1.0);
    let y: Vec<f32> = noise.iter().map(|v| 1e4 + v).collect();
    let got = Tensor::from_slice(dev(), &y, &[1000]).unwrap().var_all(0.0).unwrap().item::<f32>().unwrap();
    let want = reference::variance(&y, 1, 1000, 1, 0.0)[0];
    assert!((got - want).abs() <= 1e-3 * want, "var {got} vs {want}");
}

#[test]
fn a_sum_over_more_than_2_pow_24_ones_is_exact() {
    let n = (1usize << 24) + 1000;
    let t = Tensor::ones(dev(), &[n], DType::F32).unwrap();
    // A running f32 sum would stick at 16777216; the pass tree gives 16778216 exactly.
    assert_eq!(t.sum_all().unwrap().item::<f32>().unwrap(), 16_778_216.0);
    assert_eq!(t.mean_all().unwrap().item::<f32>().unwrap(), 1.0);
}

#[test]
fn strided_views_and_scalars_reduce() {
    let x = data(10, 6 * 8, -1.0, 1.0);
    let t = Tensor::from_slice(dev(), &x, &[6, 8]).unwrap();
    let v = t.slice(0, 2, 6, 1).unwrap().transpose(0, 1).unwrap(); // [8, 4], offset 16, strided
    let got = v.sum(&[1], false).unwrap().to_vec::<f32>().unwrap();
    let want: Vec<f32> = (0..8).map(|j| (2..6).map(|i| x[i * 8 + j]).sum()).collect();
    assert_close(&got, &want, 1e-5, 1e-5, "sum of a strided view");
    let (rows, r) = (9usize, 1001usize);
    let y = data(77, rows * r, -2.0, 2.0);
    let big = Tensor::from_slice(dev(), &y, &[rows, r]).unwrap().slice(0, 1, rows, 1).unwrap(); // offset 1001
    let want: Vec<f32> = (1..rows).map(|i| y[i * r..(i + 1) * r].iter().sum()).collect();
    let got = big.sum(&[1], false).unwrap().to_vec::<f32>().unwrap();
    assert_close(&got, &want, 1e-4, 1e-5, "rows from an offset that is not a whole texel");
    let s = t.slice(0, 1, 2, 1).unwrap(); // contiguous row at offset 8
    assert_close(&s.sum(&[1], false).unwrap().to_vec::<f32>().unwrap(), &[x[8..16].iter().sum()], 1e-5, 1e-5, "offset");
    let scalar = t.sum_all().unwrap();
    assert_eq!(scalar.shape(), &[] as &[usize]);
    assert_eq!(scalar.sum_all().unwrap().item::<f32>().unwrap(), scalar.item::<f32>().unwrap());
}

#[test]
fn bad_axes_and_dtypes_are_reported() {
    let t = Tensor::zeros(dev(), &[2, 3], DType::F32).unwrap();
    let e = t.sum(&[0, -2], false).unwrap_err().to_string();
    assert!(e.contains("sum") && e.contains("repeat") && e.contains("[2, 3]"), "{e}");
    let e = t.mean(&[2], false).unwrap_err().to_string();
    assert!(e.contains("mean") && e.contains("axis 2 is out of range for rank 2"), "{e}");
    let e = t.max(&[], false).unwrap_err().to_string();
    assert!(e.contains("max") && e.contains("no axes"), "{e}");
    let u = Tensor::zeros(dev(), &[4], DType::U32).unwrap();
    let e = u.sum_all().unwrap_err().to_string();
    assert!(e.contains("sum: dtype mismatch: expected F32, got U32"), "{e}");
    let empty = Tensor::zeros(dev(), &[0, 3], DType::F32).unwrap();
    assert_eq!(empty.sum(&[0], false).unwrap().to_vec::<f32>().unwrap(), vec![0.0; 3]);
    let e = empty.argmax(0, false).unwrap_err().to_string();
    assert!(e.contains("argmax") && e.contains("[0, 3]"), "{e}");
}

#[test]
fn subgroup_and_tree_row_kernels_both_match_the_twin() {
    let (rows, r) = (3, 70_000); // two passes, both through the row kernel
    let x = data(11, rows * r, -1.0, 1.0);
    if !dev().has_subgroups() {
        // Not silently skipped: without the feature the explicit request must be refused.
        let t = Tensor::from_slice(dev(), &x, &[rows, r]).unwrap();
        let e = t.reduce_with(ReduceOp::Sum, &[1], false, true).unwrap_err().to_string();
        assert!(e.contains("sum: this adapter lacks the SUBGROUP feature"), "{e}");
        eprintln!("adapter has no SUBGROUP: only the tree kernel was checked");
    }
    let variants: &[bool] = if dev().has_subgroups() { &[false, true] } else { &[false] };
    for &sg in variants {
        for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::SumSq, ReduceOp::NormL2] {
            for (shape, axes) in [(vec![rows, r], vec![1isize]), (vec![7, 1000], vec![1]), (vec![1, 65], vec![1])] {
                let n: usize = shape.iter().product();
                let xs = &x[..n];
                let tt = Tensor::from_slice(dev(), xs, &shape).unwrap();
                let got = tt.reduce_with(op, &axes, false, sg).unwrap().to_vec::<f32>().unwrap();
                let want = reference::reduce(op, xs, shape[0], shape[1], 1);
                let tol = if matches!(op, ReduceOp::Max | ReduceOp::Min) { 0.0 } else { gemm_tol(shape[1]) };
                assert_close(&got, &want, tol, tol, &format!("{op:?} {shape:?} subgroups {sg}"));
            }
        }
    }
    // Fixed fold order: the same input gives the same bits on every run.
    let t = Tensor::from_slice(dev(), &x, &[rows, r]).unwrap();
    for &sg in variants {
        let a = t.reduce_with(ReduceOp::Sum, &[1], false, sg).unwrap().to_vec::<f32>().unwrap();
        let b = t.reduce_with(ReduceOp::Sum, &[1], false, sg).unwrap().to_vec::<f32>().unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "subgroups {sg}");
    }
    let ones = Tensor::ones(dev(), &[4, 100_000], DType::F32).unwrap();
    for &sg in variants {
        let got = ones.reduce_with(ReduceOp::Sum, &[1], false, sg).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(got, vec![100_000.0; 4], "subgroups {sg}");
    }
}

/// `x` with NaNs at a few positions (the first element, one in the middle, the last but one)
/// and +-Inf at two others.
fn with_nans(mut x: Vec<f32>) -> Vec<f32> {
    let n = x.len();
    for (at, v) in [
        (n / 2, f32::INFINITY),
        (n / 5, f32::NEG_INFINITY),
        (0, f32::NAN),
        (n / 3, f32::NAN),
        (n.saturating_sub(2), f32::NAN),
    ] {
        x[at] = v;
    }
    x
}

#[test]
fn nan_propagates_through_every_reduction_like_the_twin() {
    // Every path of CASES: workgroup rows, thread columns, texture rows and columns, two passes.
    for (ci, &(shape, axes)) in CASES.iter().enumerate() {
        let n: usize = shape.iter().product();
        let x = with_nans(data(200 + ci as u64, n, -1.0, 1.0));
        let t = Tensor::from_slice(dev(), &x, shape).unwrap();
        let (hx, outer, r) = host_layout(&x, shape, axes);
        let iaxes: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
        for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::NormL2] {
            let got = t.reduce(op, &iaxes, false).unwrap().to_vec::<f32>().unwrap();
            let want = reference::reduce(op, &hx, outer, r, 1);
            let tol = if matches!(op, ReduceOp::Max | ReduceOp::Min) { 0.0 } else { gemm_tol(r) };
            assert_close(&got, &want, tol, tol, &format!("{op:?} {shape:?} axes {axes:?} with NaN"));
        }
        if axes.len() == 1 {
            for op in [ReduceOp::ArgMax, ReduceOp::ArgMin] {
                let f = if op == ReduceOp::ArgMax { Tensor::argmax } else { Tensor::argmin };
                let got = f(&t, axes[0] as isize, false).unwrap().to_vec::<u32>().unwrap();
                assert_eq!(got, reference::argreduce(op, &hx, outer, r, 1), "{op:?} {shape:?} axis {axes:?} with NaN");
            }
        }
    }
    // The example, and a NaN past the first chunk of a two-pass row.
    let t = Tensor::from_slice(dev(), &[f32::NAN, -1.0, 2.0], &[3]).unwrap();
    assert!(t.max_all().unwrap().item::<f32>().unwrap().is_nan());
    assert!(t.min_all().unwrap().item::<f32>().unwrap().is_nan());
    let mut long = vec![1.0f32; 200_000];
    long[10] = 9.0;
    long[150_000] = f32::NAN;
    long[199_000] = f32::NAN;
    let t = Tensor::from_slice(dev(), &long, &[200_000]).unwrap();
    assert!(t.max_all().unwrap().item::<f32>().unwrap().is_nan());
    assert_eq!(t.argmax(0, false).unwrap().to_vec::<u32>().unwrap(), vec![150_000]);
    assert_eq!(t.argmin(0, false).unwrap().to_vec::<u32>().unwrap(), vec![150_000]);
}

#[test]
fn subgroup_and_tree_row_kernels_propagate_nan() {
    let variants: &[bool] = if dev().has_subgroups() { &[false, true] } else { &[false] };
    for &sg in variants {
        for (rows, r) in [(3usize, 70_000usize), (7, 1000), (1, 65)] {
            let x = data(300 + r as u64, rows * r, -1.0, 1.0);
            // Row 0: one NaN; row 1 (if any): none; row 2: NaN and Inf.
            let mut x = x;
            x[r / 2] = f32::NAN;
            if rows > 2 {
                x[2 * r + 3] = f32::INFINITY;
                x[2 * r + r - 1] = f32::NAN;
            }
            let t = Tensor::from_slice(dev(), &x, &[rows, r]).unwrap();
            for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::NormL2] {
                let got = t.reduce_with(op, &[1], false, sg).unwrap().to_vec::<f32>().unwrap();
                let want = reference::reduce(op, &x, rows, r, 1);
                let tol = if matches!(op, ReduceOp::Max | ReduceOp::Min) { 0.0 } else { gemm_tol(r) };
                assert_close(&got, &want, tol, tol, &format!("{op:?} [{rows}, {r}] subgroups {sg} with NaN"));
                assert!(got[0].is_nan(), "{op:?} [{rows}, {r}] subgroups {sg}: row 0 holds a NaN, got {}", got[0]);
            }
        }
    }
}
