//! Layer norm and batch norm (`norm.wgsl`): forward with fused two-pass statistics, backward,
//! and batch norm's running-statistics update.
//!
//! Shape contract (all contiguous, f32): layer norm views x as `[rows, d]` and normalizes each
//! row (gamma, beta `[d]`; mean, rstd `[rows]`); batch norm views x as `[n, c, hw]` and
//! normalizes each channel over its `n * hw` elements (gamma, beta, mean, rstd `[c]`).

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of `norm.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct NormParams {
    /// Layer norm: rows; batch norm: batch size n.
    pub outer: u32,
    /// Layer norm: 1; batch norm: channels c.
    pub chans: u32,
    /// Layer norm: d, the normalized length; batch norm: hw, pixels per channel image.
    pub inner: u32,
    /// 1 when a scale `gamma` is bound, else 0 (scale 1).
    pub has_gamma: u32,
    /// 1 when a shift `beta` is bound, else 0 (shift 0).
    pub has_beta: u32,
    /// Added to the variance before the reciprocal square root.
    pub eps: f32,
    /// Batch norm: weight of the batch statistics in the running update.
    pub momentum: f32,
    /// `batch_norm_apply`: 1 when the statistics bindings hold (running mean, running variance);
    /// 0 when they hold (the `[3, c]` scratch of `batch_norm_stats`, read from row 1: shift and
    /// delta, mean = shift + delta) and rstd.
    pub from_var: u32,
    /// Element offset of the mean in its binding, so running statistics may be views into a
    /// larger buffer.
    pub mean_off: u32,
    /// Element offset of the variance (or rstd) in its binding.
    pub var_off: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: [u32; 2],
}

impl NormParams {
    /// Layer norm over `rows` rows of `d` elements.
    pub fn layer(rows: usize, d: usize, eps: f32) -> Self {
        Self::with(rows, 1, d, eps)
    }
    /// Batch norm over `n` images of `c` channels of `hw` pixels.
    pub fn batch(n: usize, c: usize, hw: usize, eps: f32) -> Self {
        Self::with(n, c, hw, eps)
    }
    fn with(outer: usize, chans: usize, inner: usize, eps: f32) -> Self {
        NormParams { outer: outer as u32, chans: chans as u32, inner: inner as u32, eps, ..Zeroable::zeroed() }
    }
    /// Elements of the whole input.
    pub fn len(&self) -> usize {
        self.outer as usize * self.chans as usize * self.inner as usize
    }
    /// Whether the input has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// (x, gamma, beta, y, mean, rstd).
pub static LAYER_FORWARD: KernelSpec =
    KernelSpec { shader: Shader::Norm, entry: "layer_norm_forward", bindings: &[R, R, R, W, W, W] };
/// (x, gamma, dy, mean, rstd, dx).
pub static LAYER_BACKWARD_DX: KernelSpec =
    KernelSpec { shader: Shader::Norm, entry: "layer_norm_backward_dx", bindings: &[R, R, R, R, R, W] };
/// (x, unused, dy, mean, rstd, dgamma, dbeta).
pub static LAYER_BACKWARD_PARAMS: KernelSpec =
    KernelSpec { shader: Shader::Norm, entry: "layer_norm_backward_params", bindings: &[R, R, R, R, R, W, W] };
/// (x, mean, rstd, scratch `[3, c]`: biased variance, shift, delta).
pub static BATCH_STATS: KernelSpec =
    KernelSpec { shader: Shader::Norm, entry: "batch_norm_stats", bindings: &[R, W, W, W] };
/// (batch mean, batch variance, running mean, running variance); the running ones in place.
pub static BATCH_UPDATE_RUNNING: KernelSpec =
    KernelSpec { shader: Shader::Norm, entry: "batch_norm_update_running", bindings: &[R, R, W, W] };
/// (x, gamma, beta, y, scratch or running mean, rstd or running variance).
pub static BATCH_APPLY: KernelSpec =
    KernelSpec { shader: Shader::Norm, entry: "batch_norm_apply", bindings: &[R, R, R, W, R, R] };
/// (x, unused, dy, mean, rstd, dgamma, dbeta).
pub static BATCH_BACKWARD_REDUCE: KernelSpec =
    KernelSpec { shader: Shader::Norm, entry: "batch_norm_backward_reduce", bindings: &[R, R, R, R, R, W, W] };
/// (x, gamma, dy, mean, rstd, dgamma, dbeta, dx).
pub static BATCH_BACKWARD_DX: KernelSpec =
    KernelSpec { shader: Shader::Norm, entry: "batch_norm_backward_dx", bindings: &[R, R, R, R, R, R, R, W] };

/// A workgroup per row.
pub fn layer_forward(p: &NormParams) -> Launch {
    Launch::new(&LAYER_FORWARD, p, grid_1d(p.outer as usize, 1))
}
/// A workgroup per row.
pub fn layer_backward_dx(p: &NormParams) -> Launch {
    Launch::new(&LAYER_BACKWARD_DX, p, grid_1d(p.outer as usize, 1))
}
/// An invocation per column.
pub fn layer_backward_params(p: &NormParams) -> Launch {
    Launch::new(&LAYER_BACKWARD_PARAMS, p, grid_1d(p.inner as usize, 256))
}
/// A workgroup per channel.
pub fn batch_stats(p: &NormParams) -> Launch {
    Launch::new(&BATCH_STATS, p, grid_1d(p.chans as usize, 1))
}
/// An invocation per channel.
pub fn batch_update_running(p: &NormParams) -> Launch {
    Launch::new(&BATCH_UPDATE_RUNNING, p, grid_1d(p.chans as usize, 256))
}
/// An invocation per element.
pub fn batch_apply(p: &NormParams) -> Launch {
    Launch::new(&BATCH_APPLY, p, grid_1d(p.len(), 256))
}
/// A workgroup per channel.
pub fn batch_backward_reduce(p: &NormParams) -> Launch {
    Launch::new(&BATCH_BACKWARD_REDUCE, p, grid_1d(p.chans as usize, 1))
}
/// An invocation per element.
pub fn batch_backward_dx(p: &NormParams) -> Launch {
    Launch::new(&BATCH_BACKWARD_DX, p, grid_1d(p.len(), 256))
}
