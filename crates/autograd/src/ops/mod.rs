//! The differentiable ops: each forward runs the tensor crate's kernel and records one small
//! backward rule built from the tensor crate's kernels too (no host round-trips). One file per
//! op family; the calculus is in a comment above each rule.

mod cells;
mod conv;
mod elementwise;
mod index;
mod matmul;
mod norm;
mod pool;
mod random;
mod reduce;
mod shape;
mod softmax;

pub use softmax::Reduction;

use wgtrain_tensor::Tensor;

use crate::error::Result;

/// The gradient `g` of a broadcast result summed back to an operand of `shape` (NumPy
/// broadcasting: leading dimensions added, extent-1 dimensions stretched).
pub(crate) fn sum_to(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.clone());
    }
    let lead = g.rank() - shape.len();
    let mut axes: Vec<isize> = (0..lead as isize).collect();
    for (i, &s) in shape.iter().enumerate() {
        if s == 1 && g.shape()[lead + i] != 1 {
            axes.push((lead + i) as isize);
        }
    }
    let summed = if axes.is_empty() { g.clone() } else { g.sum(&axes, false)? };
    Ok(summed.reshape(shape)?)
}

/// `dy` of a reduction over `axes` (sorted, non-negative) brought back to the input's
/// `shape` as a broadcast view (no copy).
pub(crate) fn expand_reduced(dy: &Tensor, axes: &[usize], keepdim: bool, shape: &[usize]) -> Result<Tensor> {
    let mut g = dy.clone();
    if !keepdim {
        for &a in axes {
            g = g.unsqueeze(a)?;
        }
    }
    Ok(g.broadcast_to(shape)?)
}
