//! Views and data movement: reshape, permute, transpose, slice, broadcast, squeeze, concat,
//! pad. Their gradients move the upstream gradient back (a view where possible).

use wgtrain_tensor::{DType, Tensor};

use super::sum_to;
use crate::error::Result;
use crate::node::record;
use crate::var::Var;

impl Var {
    /// Same elements, new shape (`usize::MAX` infers one extent).
    pub fn reshape(&self, shape: &[usize]) -> Result<Var> {
        let y = self.data().reshape(shape)?;
        let back = self.shape().to_vec();
        Ok(record("reshape", y, &[self], vec![], move |c| Ok(vec![Some(c.grad.reshape(&back)?)])))
    }

    /// This value in `dtype` (f32 <-> f16 for mixed precision: an f32 master weight cast to an
    /// f16 copy for a layer's compute, an f16 output cast to f32 for the loss). Its gradient
    /// comes back in the input's dtype (the engine casts it). A leaf keeps its cast copy for
    /// the next cast while its data is unchanged (`cast_copy.rs`).
    pub fn cast(&self, dtype: DType) -> Result<Var> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        let y = self.cast_data(dtype)?;
        Ok(record("cast", y, &[self], vec![], |c| Ok(vec![Some(c.grad.clone())])))
    }

    /// `[d0, d1, ...]` to `[d0, d1 * ...]`: one row per sample.
    pub fn flatten(&self) -> Result<Var> {
        let rows = self.shape().first().copied().unwrap_or(1);
        let cols = self.len().checked_div(rows).unwrap_or(0);
        self.reshape(&[rows, cols])
    }

    /// Reorders dimensions (a view). d/dx: the inverse permutation of dy.
    pub fn permute(&self, perm: &[usize]) -> Result<Var> {
        let y = self.data().permute(perm)?;
        let mut inverse = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        Ok(record("permute", y, &[self], vec![], move |c| Ok(vec![Some(c.grad.permute(&inverse)?)])))
    }

    /// Swaps two dimensions (a view).
    pub fn transpose(&self, a: isize, b: isize) -> Result<Var> {
        let y = self.data().transpose(a, b)?;
        Ok(record("transpose", y, &[self], vec![], move |c| Ok(vec![Some(c.grad.transpose(a, b)?)])))
    }

    /// Elements `start..end` by `step` along `axis` (a view). d/dx: dy written into zeros.
    pub fn slice(&self, axis: isize, start: usize, end: usize, step: usize) -> Result<Var> {
        let y = self.data().slice(axis, start, end, step)?;
        let shape = self.shape().to_vec();
        Ok(record("slice", y, &[self], vec![], move |c| {
            let g = Tensor::zeros(c.grad.device(), &shape, c.grad.dtype())?;
            g.slice(axis, start, end, step)?.assign(c.grad)?;
            Ok(vec![Some(g)])
        }))
    }

    /// Broadcasts to `shape` (a view with zero strides). d/dx: dy summed over the broadcast.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Var> {
        let y = self.data().broadcast_to(shape)?;
        let back = self.shape().to_vec();
        Ok(record("broadcast_to", y, &[self], vec![], move |c| Ok(vec![Some(sum_to(c.grad, &back)?)])))
    }

    /// Inserts an extent-1 dimension at `axis`.
    pub fn unsqueeze(&self, axis: usize) -> Result<Var> {
        let y = self.data().unsqueeze(axis)?;
        let back = self.shape().to_vec();
        Ok(record("unsqueeze", y, &[self], vec![], move |c| Ok(vec![Some(c.grad.reshape(&back)?)])))
    }

    /// Removes the extent-1 dimension `axis`.
    pub fn squeeze(&self, axis: isize) -> Result<Var> {
        let y = self.data().squeeze(axis)?;
        let back = self.shape().to_vec();
        Ok(record("squeeze", y, &[self], vec![], move |c| Ok(vec![Some(c.grad.reshape(&back)?)])))
    }

    /// Joins values along `axis`. d/dx_i: the slice of dy that x_i filled.
    pub fn concat(vars: &[&Var], axis: isize) -> Result<Var> {
        let tensors: Vec<&Tensor> = vars.iter().map(|v| v.data()).collect();
        let y = Tensor::concat(&tensors, axis)?;
        let ax = wgtrain_tensor::shape::axis("concat", axis, y.rank())?;
        let extents: Vec<usize> = vars.iter().map(|v| v.shape()[ax]).collect();
        Ok(record("concat", y, vars, vec![], move |c| {
            let mut start = 0;
            let mut grads = Vec::with_capacity(extents.len());
            for (i, &e) in extents.iter().enumerate() {
                grads.push(c.needs(i).then(|| c.grad.slice(axis, start, start + e, 1)).transpose()?);
                start += e;
            }
            Ok(grads)
        }))
    }

    /// Constant padding, `pads[d] = (before, after)`. d/dx: the unpadded window of dy.
    pub fn pad(&self, pads: &[(usize, usize)], value: f32) -> Result<Var> {
        let y = self.data().pad(pads, value)?;
        let window: Vec<(usize, usize)> = pads.iter().zip(self.shape()).map(|(&(lo, _), &e)| (lo, lo + e)).collect();
        Ok(record("pad", y, &[self], vec![], move |c| {
            let mut g = c.grad.clone();
            for (d, &(lo, hi)) in window.iter().enumerate() {
                g = g.slice(d as isize, lo, hi, 1)?;
            }
            Ok(vec![Some(g)])
        }))
    }

    /// A row-major copy (identity gradient): for ops that need dense input.
    pub fn contiguous(&self) -> Result<Var> {
        let y = self.data().contiguous()?;
        Ok(record("contiguous", y, &[self], vec![], |c| Ok(vec![Some(c.grad.clone())])))
    }
}
