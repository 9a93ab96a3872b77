//! Fused log-softmax + cross-entropy (`softmax_xent.wgsl`) with sparse labels, optional class
//! weights and label smoothing, PyTorch semantics. The formulas are in the shader's header and
//! in the twin (`reference::xent_forward`, `reference::xent_backward`).
//!
//! Shape contract: logits contiguous `[n, c]`, labels u32 `[n]`, weights `[c]` (any buffer when
//! `has_weights == 0`), upstream `[n]`, all from element 0. Forward writes loss `[n]` and the
//! label's weight `[n]`; backward writes dlogits `[n, c]`. Labels `>= c` are ignored (zero loss,
//! weight and gradient), like PyTorch's `ignore_index`.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of `softmax_xent.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct XentParams {
    /// Samples (rows of the logits).
    pub n: u32,
    /// Classes (columns of the logits).
    pub c: u32,
    /// 1 when class weights are bound, else 0 (every weight 1).
    pub has_weights: u32,
    /// Label smoothing eps in [0, 1].
    pub smoothing: f32,
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// Bindings (logits, labels, weights, loss, label weight).
pub static XENT_FORWARD: KernelSpec =
    KernelSpec { shader: Shader::SoftmaxXent, entry: "xent_forward", bindings: &[R, R, R, W, W] };
/// Bindings (logits, labels, weights, upstream, dlogits).
pub static XENT_BACKWARD: KernelSpec =
    KernelSpec { shader: Shader::SoftmaxXent, entry: "xent_backward", bindings: &[R, R, R, R, W] };

/// Launch of `kernel` (one of the two above): one workgroup per sample.
pub fn launch(kernel: &'static KernelSpec, p: &XentParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.n as usize, 1))
}
