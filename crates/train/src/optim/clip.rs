//! Gradient clipping, on the GPU with no read-back: the scale factor is a device scalar.

use wgtrain_tensor::{DType, Tensor};

use super::updatable;
use crate::error::Result;
use crate::param::Param;

/// How an optimizer clips gradients before its update.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum GradClip {
    /// No clipping.
    #[default]
    None,
    /// Each element to [-v, v] (Keras' `clipvalue`).
    Value(f32),
    /// Each tensor scaled to an L2 norm of at most this (Keras' `clipnorm`).
    Norm(f32),
    /// All gradients scaled together to a global L2 norm of at most this (Keras'
    /// `global_clipnorm`, PyTorch's `clip_grad_norm_`).
    GlobalNorm(f32),
}

/// `min(1, max / (norm + 1e-6))` as a device scalar (PyTorch's clip coefficient).
fn scale(norm: &Tensor, max: f32) -> Result<Tensor> {
    Ok(norm.add_scalar(1e-6)?.rdiv_scalar(max)?.minimum_scalar(1.0)?)
}

/// Replaces the gradients of `params` by their clipped values.
pub(crate) fn clip(params: &[Param], c: GradClip) -> Result<()> {
    match c {
        GradClip::None => {}
        GradClip::Value(v) => {
            for (p, g) in updatable(params) {
                p.var.set_grad(Some(g.clamp(-v, v)?))?;
            }
        }
        GradClip::Norm(max) => {
            for (p, g) in updatable(params) {
                let s = scale(&g.norm_l2_all()?, max)?;
                p.var.set_grad(Some(g.mul(&s)?))?;
            }
        }
        GradClip::GlobalNorm(max) => {
            let Some(norm) = global_norm(params)? else { return Ok(()) };
            let s = scale(&norm, max)?;
            for (p, g) in updatable(params) {
                p.var.set_grad(Some(g.mul(&s)?))?;
            }
        }
    }
    Ok(())
}

/// The L2 norm of all trainable gradients of `params` together, as a device scalar `[]` (no
/// read-back); `None` when no parameter has a gradient.
pub fn global_norm(params: &[Param]) -> Result<Option<Tensor>> {
    let grads: Vec<_> = updatable(params).collect();
    let Some((first, _)) = grads.first() else { return Ok(None) };
    let mut total = Tensor::zeros(first.var.device(), &[], DType::F32)?;
    for (_, g) in &grads {
        // A rank-0 parameter has no axis to reduce: its square is its sum of squares.
        let sq = if g.rank() == 0 { g.square()? } else { g.sum_sq(&all_axes(g.rank()), false)? };
        total = total.add(&sq)?;
    }
    Ok(Some(total.sqrt()?))
}

fn all_axes(rank: usize) -> Vec<isize> {
    (0..rank as isize).collect()
}
