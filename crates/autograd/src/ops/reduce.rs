//! Reductions. Each gradient is the upstream gradient broadcast back over the reduced axes,
//! scaled by the derivative of the reduction.

use wgtrain_tensor::{ReduceOp, Tensor, shape::axis};

use super::expand_reduced;
use crate::error::{AutogradError, Result};
use crate::node::record;
use crate::var::Var;

/// `axes` as sorted non-negative indices into a rank-`rank` shape.
fn normalize(op: &'static str, axes: &[isize], rank: usize) -> Result<Vec<usize>> {
    let mut out = axes.iter().map(|&a| axis(op, a, rank)).collect::<std::result::Result<Vec<_>, _>>()?;
    out.sort_unstable();
    Ok(out)
}

/// Every axis of a rank-`rank` value.
fn all_axes(rank: usize) -> Vec<isize> {
    (0..rank as isize).collect()
}

impl Var {
    /// Sum over `axes`. d/dx: dy broadcast.
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Result<Var> {
        let ax = normalize("sum", axes, self.rank())?;
        let y = self.data().sum(axes, keepdim)?;
        let shape = self.shape().to_vec();
        Ok(record("sum", y, &[self], vec![], move |c| Ok(vec![Some(expand_reduced(c.grad, &ax, keepdim, &shape)?)])))
    }

    /// Mean over `axes`. d/dx: dy / count broadcast.
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Result<Var> {
        let ax = normalize("mean", axes, self.rank())?;
        let y = self.data().mean(axes, keepdim)?;
        let shape = self.shape().to_vec();
        let count = ax.iter().map(|&a| shape[a]).product::<usize>() as f32;
        Ok(record("mean", y, &[self], vec![], move |c| {
            Ok(vec![Some(expand_reduced(&c.grad.mul_scalar(1.0 / count)?, &ax, keepdim, &shape)?)])
        }))
    }

    /// Sum of every element, shape `[]`.
    pub fn sum_all(&self) -> Result<Var> {
        // A scalar is its own sum (and mean): there is no axis to reduce.
        if self.rank() == 0 {
            return Ok(self.clone());
        }
        self.sum(&all_axes(self.rank()), false)
    }
    /// Mean of every element, shape `[]`.
    pub fn mean_all(&self) -> Result<Var> {
        if self.rank() == 0 {
            return Ok(self.clone());
        }
        self.mean(&all_axes(self.rank()), false)
    }

    /// Maximum over `axes`; the whole gradient goes to the first maximum (in row-major order
    /// over the reduced axes), as the foundation's argmax picks it.
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Result<Var> {
        self.extreme(ReduceOp::Max, axes, keepdim)
    }
    /// Minimum over `axes`; the whole gradient goes to the first minimum.
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Result<Var> {
        self.extreme(ReduceOp::Min, axes, keepdim)
    }

    fn extreme(&self, op: ReduceOp, axes: &[isize], keepdim: bool) -> Result<Var> {
        let name = if op == ReduceOp::Max { "max" } else { "min" };
        let ax = normalize(name, axes, self.rank())?;
        let y = self.data().reduce(op, axes, keepdim)?;
        // The winners' flat indices over the reduced axes, found once in the forward pass.
        let (moved, winners) = arg_extreme(self.data(), op, &ax)?;
        let shape = self.shape().to_vec();
        Ok(record(name, y, &[self], vec![winners], move |c| {
            let dy = expand_reduced(c.grad, &ax, keepdim, &keep_shape(&shape, &ax))?;
            // dy at the kept positions, scattered to each winner's slot of the moved layout.
            let rows = moved.iter().take(moved.len() - 1).product::<usize>();
            let dy = dy.reshape(&[rows, 1])?;
            let r = moved[moved.len() - 1];
            let scattered = Tensor::gather_backward(&dy, 1, &c.saved[0], &[rows, r])?;
            Ok(vec![Some(unmove(&scattered, &shape, &ax)?)])
        }))
    }

    /// Variance over `axes` with `correction` (1: unbiased, 0: biased).
    /// d/dx: `2 (x - mean) / (N - correction)` times dy broadcast.
    pub fn var(&self, axes: &[isize], correction: f32, keepdim: bool) -> Result<Var> {
        let ax = normalize("var", axes, self.rank())?;
        let y = self.data().var(axes, correction, keepdim)?;
        let shape = self.shape().to_vec();
        let count = ax.iter().map(|&a| shape[a]).product::<usize>() as f32;
        Ok(record("var", y, &[self], vec![self.data().clone()], move |c| {
            // f16 x is reduced in f32 (the output's dtype): its gradient is taken there too.
            let x = &c.saved[0].cast(wgtrain_tensor::DType::F32)?;
            let axes: Vec<isize> = ax.iter().map(|&a| a as isize).collect();
            let centered = x.sub(&x.mean(&axes, true)?)?;
            let dy = expand_reduced(c.grad, &ax, keepdim, &shape)?;
            Ok(vec![Some(centered.mul(&dy)?.mul_scalar(2.0 / (count - correction))?)])
        }))
    }

    /// Euclidean norm over `axes`. d/dx: `x / ||x||` times dy (0 where the norm is 0).
    pub fn norm_l2(&self, axes: &[isize], keepdim: bool) -> Result<Var> {
        let ax = normalize("norm_l2", axes, self.rank())?;
        let y = self.data().norm_l2(axes, keepdim)?;
        let shape = self.shape().to_vec();
        let saved = vec![self.data().clone(), y.clone()];
        Ok(record("norm_l2", y, &[self], saved, move |c| {
            let (x, norm) = (&c.saved[0].cast(wgtrain_tensor::DType::F32)?, &c.saved[1]);
            let one = Tensor::ones(norm.device(), &[], wgtrain_tensor::DType::F32)?;
            let safe = norm.eq_scalar(0.0)?.where_(&one, norm)?;
            let scale = expand_reduced(&c.grad.div(&safe)?, &ax, keepdim, &shape)?;
            Ok(vec![Some(x.mul(&scale)?)])
        }))
    }

    /// Sum of squares over `axes`. d/dx: `2 x dy`.
    pub fn sum_sq(&self, axes: &[isize], keepdim: bool) -> Result<Var> {
        let ax = normalize("sum_sq", axes, self.rank())?;
        let y = self.data().sum_sq(axes, keepdim)?;
        let shape = self.shape().to_vec();
        Ok(record("sum_sq", y, &[self], vec![self.data().clone()], move |c| {
            let dy = expand_reduced(c.grad, &ax, keepdim, &shape)?;
            Ok(vec![Some(c.saved[0].cast(wgtrain_tensor::DType::F32)?.mul(&dy)?.mul_scalar(2.0)?)])
        }))
    }
}

/// `shape` with the reduced axes set to 1.
fn keep_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().map(|(i, &s)| if axes.contains(&i) { 1 } else { s }).collect()
}

/// The permutation that moves `axes` (sorted) last, keeping the order of the others.
fn moving_perm(rank: usize, axes: &[usize]) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..rank).filter(|a| !axes.contains(a)).collect();
    perm.extend(axes);
    perm
}

/// x with the reduced axes moved last and flattened into one (`[kept..., reduced]`), and the
/// arg-max/min `[kept, 1]` (u32) of each row of that layout.
fn arg_extreme(x: &Tensor, op: ReduceOp, axes: &[usize]) -> Result<(Vec<usize>, Tensor)> {
    if axes.is_empty() {
        return Err(AutogradError::Argument { op: "max/min", why: "no axes to reduce".into() });
    }
    let perm = moving_perm(x.rank(), axes);
    let r: usize = axes.iter().map(|&a| x.shape()[a]).product();
    let rows = x.len() / r.max(1);
    let flat = x.permute(&perm)?.reshape(&[rows, r])?;
    let arg = if op == ReduceOp::Max { flat.argmax(1, true)? } else { flat.argmin(1, true)? };
    let mut moved: Vec<usize> = perm.iter().take(perm.len() - axes.len()).map(|&a| x.shape()[a]).collect();
    moved.push(r);
    Ok((moved, arg))
}

/// Undoes `arg_extreme`'s layout: `[rows, r]` back to `shape`.
fn unmove(g: &Tensor, shape: &[usize], axes: &[usize]) -> Result<Tensor> {
    let perm = moving_perm(shape.len(), axes);
    let permuted_shape: Vec<usize> = perm.iter().map(|&a| shape[a]).collect();
    let mut inverse = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    Ok(g.reshape(&permuted_shape)?.permute(&inverse)?)
}
