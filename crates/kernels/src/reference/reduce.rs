//! Twins of the reductions. [`reduce`], [`variance`] and [`argreduce`] are the math over
//! `[outer, r, inner]` (f64 accumulation, variance as mean then squared deviations);
//! [`reduce_pass`] and [`argreduce_pass`] are the twins of one launch, taking its params.

use super::float::{Float, max_nan, min_nan};
use crate::ops::reduce::{ReduceOp, ReduceParams};

fn at<T: Float>(x: &[T], r: usize, inner: usize, o: usize, k: usize, i: usize) -> f64 {
    x[(o * r + k) * inner + i].to_f64()
}

/// Sum, Mean, Max, Min, SumSq or NormL2 of each `(o, i)` over k; contiguous `[outer, inner]`.
pub fn reduce<T: Float>(op: ReduceOp, x: &[T], outer: usize, r: usize, inner: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let vals = (0..r).map(|k| at(x, r, inner, o, k, i));
            let v = match op {
                ReduceOp::Sum => vals.sum::<f64>(),
                ReduceOp::Mean => vals.sum::<f64>() / r as f64,
                ReduceOp::Max => vals.fold(f64::NEG_INFINITY, max_nan),
                ReduceOp::Min => vals.fold(f64::INFINITY, min_nan),
                ReduceOp::SumSq => vals.map(|v| v * v).sum::<f64>(),
                ReduceOp::NormL2 => vals.map(|v| v * v).sum::<f64>().sqrt(),
                _ => panic!("reduce twin: {op:?} has its own twin"),
            };
            out.push(T::from_f64(v));
        }
    }
    out
}

/// sum_k (x - mean)^2 / (r - correction) of each `(o, i)`.
pub fn variance<T: Float>(x: &[T], outer: usize, r: usize, inner: usize, correction: f64) -> Vec<T> {
    let mean = reduce::<f64>(ReduceOp::Mean, &x.iter().map(|v| v.to_f64()).collect::<Vec<_>>(), outer, r, inner);
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let m = mean[o * inner + i];
            let ss: f64 = (0..r).map(|k| (at(x, r, inner, o, k, i) - m).powi(2)).sum();
            out.push(T::from_f64(ss / (r as f64 - correction)));
        }
    }
    out
}

/// Index along k of the largest (ArgMax) or smallest (ArgMin) value of each `(o, i)`; the first
/// such index on ties, and the first NaN's when there is one (PyTorch).
pub fn argreduce<T: Float>(op: ReduceOp, x: &[T], outer: usize, r: usize, inner: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut best = 0;
            for k in 1..r {
                let (v, b) = (at(x, r, inner, o, k, i), at(x, r, inner, o, best, i));
                if b.is_nan() {
                    break;
                }
                if v.is_nan() || (op == ReduceOp::ArgMax && v > b) || (op == ReduceOp::ArgMin && v < b) {
                    best = k;
                }
            }
            out.push(best as u32);
        }
    }
    out
}

/// Twin of one `reduce_rows` / `reduce_cols` launch: `[outer, n_chunks, inner]` partials.
pub fn reduce_pass<T: Float>(p: &ReduceParams, x: &[T], aux: &[T]) -> Vec<T> {
    let (r, inner, chunk) = (p.r as usize, p.inner as usize, p.chunk as usize);
    let mut out = Vec::with_capacity(p.out_len());
    for o in 0..p.outer as usize {
        for c in 0..p.n_chunks as usize {
            for i in 0..inner {
                let vals = (c * chunk..((c + 1) * chunk).min(r)).map(|k| {
                    let v = x[p.x_off as usize + (o * p.src_r as usize + k) * inner + i].to_f64();
                    match p.load {
                        0 => v,
                        1 => v * v,
                        _ => (v - aux[o * inner + i].to_f64()).powi(2),
                    }
                });
                let v = match p.combine {
                    0 => vals.sum::<f64>(),
                    1 => vals.fold(f64::NEG_INFINITY, max_nan),
                    _ => vals.fold(f64::INFINITY, min_nan),
                };
                let v = match p.post {
                    0 => v,
                    1 => v / p.divisor as f64,
                    _ => v.sqrt(),
                };
                out.push(T::from_f64(v));
            }
        }
    }
    out
}

/// Twin of one `argreduce_rows` / `argreduce_cols` launch (`cand` is read when `p.gather`).
pub fn argreduce_pass<T: Float>(p: &ReduceParams, x: &[T], cand: &[u32]) -> Vec<u32> {
    let (r, inner, chunk) = (p.r as usize, p.inner as usize, p.chunk as usize);
    let mut out = Vec::with_capacity(p.out_len());
    for o in 0..p.outer as usize {
        for c in 0..p.n_chunks as usize {
            for i in 0..inner {
                let cands = (c * chunk..((c + 1) * chunk).min(r)).map(|j| {
                    let k = if p.gather != 0 { cand[(o * r + j) * inner + i] as usize } else { j };
                    (x[p.x_off as usize + (o * p.src_r as usize + k) * inner + i].to_f64(), k)
                });
                let best = cands
                    .reduce(|a, b| {
                        let b_wins = if a.0.is_nan() || b.0.is_nan() {
                            b.0.is_nan() && (!a.0.is_nan() || b.1 < a.1)
                        } else {
                            let better = if p.combine == 3 { b.0 > a.0 } else { b.0 < a.0 };
                            better || (b.0 == a.0 && b.1 < a.1)
                        };
                        if b_wins { b } else { a }
                    })
                    .map_or(0, |b| b.1);
                out.push(best as u32);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::reduce::plan;

    /// Runs every pass of a plan through the pass twins and compares with the math twins.
    fn chained(op: ReduceOp, x: &[f64], outer: usize, r: usize, inner: usize) -> Vec<f64> {
        let passes = plan(op, outer, r, inner, 0, r as f32);
        let mut cur = x.to_vec();
        let mut cand = Vec::new();
        for p in &passes {
            if op.is_arg() {
                cand = argreduce_pass(p, x, &cand);
            } else {
                cur = reduce_pass(p, &cur, &[]);
            }
        }
        if op.is_arg() { cand.iter().map(|&k| k as f64).collect() } else { cur }
    }

    #[test]
    fn nan_propagates_through_max_min_and_the_arg_ops() {
        // Rows: NaN in the middle, NaN first, two NaNs, none; across 70,000 (two passes) too.
        let nan = f64::NAN;
        let x = [1.0, nan, 3.0, nan, 1.0, 2.0, 0.0, nan, nan, 5.0, -1.0, 2.0];
        for op in [ReduceOp::Max, ReduceOp::Min, ReduceOp::Sum] {
            let y = reduce(op, &x, 4, 3, 1);
            assert!(y[..3].iter().all(|v| v.is_nan()) && !y[3].is_nan(), "{op:?}: {y:?}");
        }
        for op in [ReduceOp::ArgMax, ReduceOp::ArgMin] {
            assert_eq!(argreduce(op, &x, 4, 3, 1), vec![1, 0, 1, if op == ReduceOp::ArgMax { 0 } else { 1 }], "{op:?}");
        }
        let (r, mut long) = (70_000, vec![1.0; 70_000]);
        long[66_000] = nan;
        long[69_000] = nan;
        long[10] = 7.0;
        for op in [ReduceOp::Max, ReduceOp::Min, ReduceOp::ArgMax, ReduceOp::ArgMin] {
            let got = chained(op, &long, 1, r, 1);
            if op.is_arg() {
                assert_eq!(got, vec![66_000.0], "{op:?}");
            } else {
                assert!(got[0].is_nan(), "{op:?}: {got:?}");
            }
        }
    }

    #[test]
    fn chained_passes_equal_the_math() {
        let (outer, r, inner) = (2, 70_000, 1);
        let x: Vec<f64> = (0..outer * r * inner).map(|i| ((i * 7919) % 1013) as f64 - 500.0).collect();
        for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::NormL2] {
            let want = reduce(op, &x, outer, r, inner);
            let got = chained(op, &x, outer, r, inner);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{op:?}: {g} vs {w}");
            }
        }
        let (outer, r, inner) = (2, 3000, 3);
        let x: Vec<f64> = (0..outer * r * inner).map(|i| ((i * 31) % 97) as f64).collect();
        for op in [ReduceOp::ArgMax, ReduceOp::ArgMin] {
            let want: Vec<f64> = argreduce(op, &x, outer, r, inner).iter().map(|&k| k as f64).collect();
            assert_eq!(chained(op, &x, outer, r, inner), want, "{op:?}");
        }
    }
}
