//! Reductions over a set of axes or all axes: sum, mean, max, min, argmax / argmin (u32, first
//! index on ties), variance (two-pass: mean, then squared deviations) and the L2 norm.
//!
//! Layout: the input is viewed as `[outer, r, inner]`. When the reduced axes are adjacent
//! (e.g. the last axis, the first, a middle block, all) that is a free view of the contiguous
//! input; otherwise (e.g. axes 0 and 2 of a rank-3 tensor) the kept axes are permuted first and
//! the reduced ones last, and `contiguous()` copies once, giving `[outer, r, 1]`. Either way the
//! result is the kept axes in their original order (with size-1 axes in place when `keepdim`).
//! Long axes run as several passes (see `wgtrain_kernels::ops::reduce::plan`). Rows
//! (`inner == 1`, r >= 64) of value ops use the subgroup kernel where the adapter has `SUBGROUP`
//! ([`Tensor::reduce_with`] picks explicitly). Every pass folds in a fixed order (no atomics),
//! so results are bit-for-bit repeatable on one adapter. NaN inputs: sums and
//! means propagate them; max, min and the arg ops follow the adapter's `max` / `min` and
//! comparisons (unspecified for NaN).
//!
//! ```no_run
//! use wgtrain_tensor::{Device, Tensor};
//! # fn main() -> wgtrain_tensor::Result<()> {
//! let dev = Device::new()?;
//! let x = Tensor::from_slice(&dev, &[1.0f32, 5.0, 3.0, 5.0, 2.0, 0.0], &[2, 3])?;
//! assert_eq!(x.sum(&[1], false)?.to_vec::<f32>()?, vec![9.0, 7.0]);
//! assert_eq!(x.argmax(-1, false)?.to_vec::<u32>()?, vec![1, 0]);
//! assert_eq!(x.max_all()?.item::<f32>()?, 5.0);
//! # Ok(()) }
//! ```

pub use wgtrain_kernels::ops::reduce::ReduceOp;
use wgtrain_kernels::ops::reduce::{self, ReduceParams};

use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::plan::{Form, Streaming, TexturedForm};
use crate::shape::axis;
use crate::tensor::Tensor;

/// A contiguous input viewed as `[outer, r, inner]`, and the result's shape.
struct Layout {
    x: Tensor,
    outer: usize,
    r: usize,
    inner: usize,
    out_shape: Vec<usize>,
}

/// Sorted, distinct, non-negative axes; an error names the op and the shape.
fn normalize_axes(op: &'static str, axes: &[isize], shape: &[usize]) -> Result<Vec<usize>> {
    if axes.is_empty() {
        return Err(TensorError::Argument {
            op,
            why: format!("no axes given for shape {shape:?} (use the _all form)"),
        });
    }
    let mut out = axes.iter().map(|&a| axis(op, a, shape.len())).collect::<Result<Vec<_>>>()?;
    out.sort_unstable();
    if out.windows(2).any(|w| w[0] == w[1]) {
        return Err(TensorError::Argument { op, why: format!("axes {axes:?} repeat an axis of shape {shape:?}") });
    }
    Ok(out)
}

fn layout(t: &Tensor, axes: &[usize], keepdim: bool) -> Result<Layout> {
    let shape = &t.shape;
    let out_shape: Vec<usize> = (0..shape.len())
        .filter_map(|d| match (axes.contains(&d), keepdim) {
            (false, _) => Some(shape[d]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    let (lo, hi) = (axes[0], axes[axes.len() - 1]);
    let prod = |ds: &[usize]| ds.iter().product::<usize>();
    if hi - lo + 1 == axes.len() {
        let x = t.contiguous()?;
        let (outer, r, inner) = (prod(&shape[..lo]), prod(&shape[lo..=hi]), prod(&shape[hi + 1..]));
        return Ok(Layout { x, outer, r, inner, out_shape });
    }
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let x = t.permute(&perm)?.contiguous()?;
    let outer = kept.iter().map(|&d| shape[d]).product();
    Ok(Layout { x, outer, r: axes.iter().map(|&d| shape[d]).product(), inner: 1, out_shape })
}

/// Runs the passes of `op` on `l.x`; `aux` is the mean for `VarDev`. Row passes of value ops
/// use the subgroup kernel when `subgroups` (checked against the adapter by the caller).
fn run(op: ReduceOp, l: &Layout, aux: Option<&Tensor>, divisor: f32, subgroups: bool) -> Result<Tensor> {
    let dev = l.x.device();
    // The value ops' first pass has a texture form (one thread per row), which the planner
    // picks on software adapters; the passes are planned for the form it picks.
    let textured = !op.is_arg() && dev.streaming_form(l.x.len(), Some(1)) == Form::Textured;
    let rows_min = if textured { reduce::TEXTURE_ROWS_MIN } else { reduce::ROWS_MIN };
    let passes: Vec<ReduceParams> = reduce::plan_with(op, l.outer, l.r, l.inner, l.x.offset, divisor, rows_min);
    let dtype = if op.is_arg() { DType::U32 } else { DType::F32 };
    let mut prev: Option<Tensor> = None;
    for p in &passes {
        let out = if p.is_last() {
            Tensor::empty(dev, &l.out_shape, dtype)?
        } else {
            Tensor::empty(dev, &[p.out_len()], dtype)?
        };
        let prev_or_x = prev.as_ref().unwrap_or(&l.x).binding();
        let (b1, b2) =
            if op.is_arg() { (l.x.binding(), prev_or_x) } else { (prev_or_x, aux.unwrap_or(&l.x).binding()) };
        let texture_pass = if prev.is_none() && textured {
            reduce::launch_texture(&ReduceParams { x_off: (l.x.offset % 4) as u32, ..*p })
        } else {
            None
        };
        let out_binding = out.binding();
        let textured = texture_pass
            .map(|launch| move || TexturedForm { launch, inputs: vec![&l.x], outputs: vec![b2, out_binding] });
        let gpu = (reduce::launch_with(p, subgroups), &[b1, b2, out_binding][..]);
        dev.run_streaming(Streaming { gpu, textured, texture_inputs: 1, elements: l.x.len() })?;
        prev = Some(out);
    }
    prev.ok_or_else(|| TensorError::Argument { op: "reduce", why: "no passes".into() })
}

impl Tensor {
    /// Reduces `axes` (negative count from the end; at least one, no repeats) with `op`.
    /// f32 or f16 input, reduced in f32; the result is f32, or u32 for `ArgMax` / `ArgMin`. `VarDev` is not a
    /// user-level op: use [`var`](Self::var).
    /// Uses the subgroup row kernel where the adapter has `SUBGROUP`.
    pub fn reduce(&self, op: ReduceOp, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce_with(op, axes, keepdim, self.device().has_subgroups())
    }

    /// [`reduce`](Self::reduce) with the row kernel chosen explicitly: `subgroups = false` is the
    /// portable shared-memory tree, `true` the subgroup variant (an error without `SUBGROUP`).
    pub fn reduce_with(&self, op: ReduceOp, axes: &[isize], keepdim: bool, subgroups: bool) -> Result<Tensor> {
        let name = op_name(op);
        if self.dtype() == DType::F16 {
            return self.widened(name)?.reduce_with(op, axes, keepdim, subgroups);
        }
        if subgroups && !self.device().has_subgroups() {
            return Err(TensorError::Feature { op: name, feature: "SUBGROUP" });
        }
        let axes = normalize_axes(name, axes, &self.shape)?;
        self.reduce_axes(op, &axes, keepdim, subgroups)
    }

    fn reduce_axes(&self, op: ReduceOp, axes: &[usize], keepdim: bool, subgroups: bool) -> Result<Tensor> {
        let name = op_name(op);
        self.expect_dtype(name, DType::F32)?;
        if op == ReduceOp::VarDev {
            return Err(TensorError::Argument { op: name, why: "use var() for the variance".into() });
        }
        let l = layout(self, axes, keepdim)?;
        if l.outer * l.inner == 0 {
            return Tensor::empty(self.device(), &l.out_shape, if op.is_arg() { DType::U32 } else { DType::F32 });
        }
        if l.r == 0 {
            return match op {
                ReduceOp::Sum | ReduceOp::SumSq | ReduceOp::NormL2 => {
                    Tensor::zeros(self.device(), &l.out_shape, DType::F32)
                }
                ReduceOp::Mean => Tensor::full(self.device(), &l.out_shape, f32::NAN),
                _ => Err(TensorError::Shape {
                    op: name,
                    expected: "non-empty reduced axes".into(),
                    got: self.shape.clone(),
                }),
            };
        }
        run(op, &l, None, l.r as f32, subgroups)
    }

    fn reduce_all(&self, op: ReduceOp) -> Result<Tensor> {
        let flat = if self.rank() == 0 { self.reshape(&[1])? } else { self.clone() };
        let axes: Vec<usize> = (0..flat.rank()).collect();
        flat.reduce_axes(op, &axes, false, self.device().has_subgroups())
    }

    /// Sum over `axes`.
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Sum, axes, keepdim)
    }
    /// Mean over `axes` (the sum divided once by the count).
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Mean, axes, keepdim)
    }
    /// Maximum over `axes`.
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Max, axes, keepdim)
    }
    /// Minimum over `axes`.
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Min, axes, keepdim)
    }
    /// sqrt(sum of squares) over `axes`.
    pub fn norm_l2(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::NormL2, axes, keepdim)
    }
    /// Sum of squares over `axes`.
    pub fn sum_sq(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::SumSq, axes, keepdim)
    }
    /// Index (u32) of the largest value along `axis`; the first one on ties.
    pub fn argmax(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::ArgMax, &[axis], keepdim)
    }
    /// Index (u32) of the smallest value along `axis`; the first one on ties.
    pub fn argmin(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::ArgMin, &[axis], keepdim)
    }

    /// Sum of every element, shape `[]`.
    pub fn sum_all(&self) -> Result<Tensor> {
        self.reduce_all(ReduceOp::Sum)
    }
    /// Mean of every element, shape `[]`.
    pub fn mean_all(&self) -> Result<Tensor> {
        self.reduce_all(ReduceOp::Mean)
    }
    /// Largest element, shape `[]`.
    pub fn max_all(&self) -> Result<Tensor> {
        self.reduce_all(ReduceOp::Max)
    }
    /// Smallest element, shape `[]`.
    pub fn min_all(&self) -> Result<Tensor> {
        self.reduce_all(ReduceOp::Min)
    }
    /// L2 norm of every element, shape `[]`.
    pub fn norm_l2_all(&self) -> Result<Tensor> {
        self.reduce_all(ReduceOp::NormL2)
    }

    /// Variance over `axes`: sum (x - mean)^2 / (n - correction), with n the count. Correction
    /// 0 is the population variance (the default of this crate), 1 the unbiased sample
    /// variance. Two passes over the data (mean first), so large means do not cancel.
    pub fn var(&self, axes: &[isize], correction: f32, keepdim: bool) -> Result<Tensor> {
        let name = "var";
        if self.dtype() == DType::F16 {
            return self.widened(name)?.var(axes, correction, keepdim);
        }
        self.expect_dtype(name, DType::F32)?;
        let axes = normalize_axes(name, axes, &self.shape)?;
        let l = layout(self, &axes, keepdim)?;
        if l.outer * l.inner == 0 || l.r == 0 {
            return Tensor::full(self.device(), &l.out_shape, f32::NAN);
        }
        let sg = self.device().has_subgroups();
        let mean = run(ReduceOp::Mean, &l, None, l.r as f32, sg)?;
        run(ReduceOp::VarDev, &l, Some(&mean), l.r as f32 - correction, sg)
    }

    /// Variance of every element, shape `[]`.
    pub fn var_all(&self, correction: f32) -> Result<Tensor> {
        let flat = self.reshape(&[self.len()])?;
        flat.var(&[0], correction, false)?.reshape(&[])
    }
}

fn op_name(op: ReduceOp) -> &'static str {
    match op {
        ReduceOp::Sum => "sum",
        ReduceOp::Mean => "mean",
        ReduceOp::Max => "max",
        ReduceOp::Min => "min",
        ReduceOp::SumSq => "sum_sq",
        ReduceOp::NormL2 => "norm_l2",
        ReduceOp::VarDev => "var",
        ReduceOp::ArgMax => "argmax",
        ReduceOp::ArgMin => "argmin",
    }
}
