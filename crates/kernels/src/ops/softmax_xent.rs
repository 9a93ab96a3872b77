//! Fused log-softmax + cross-entropy (`softmax_xent.wgsl`) with sparse labels, optional class
//! weights and label smoothing, PyTorch semantics. The formulas are in the shader's header and
//! in the twin (`reference::xent_forward`, `reference::xent_backward`).
//!
//! Shape contract: logits contiguous `[n, c]`, labels u32 `[n]`, weights `[c]` (any buffer when
//! `has_weights == 0`), upstream `[n]`, all from element 0. Forward writes loss `[n]` and the
//! label's weight `[n]`; backward writes dlogits `[n, c]`. The label `ignore` (when
//! `has_ignore`) gets zero loss, weight and gradient, like PyTorch's `ignore_index`; other
//! labels outside `0..c` are refused by `ops::fault::check_indices`, run before these kernels,
//! and read nothing out of range here (the same zero row).

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of `softmax_xent.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Default)]
pub struct XentParams {
    /// Samples (rows of the logits).
    pub n: u32,
    /// Classes (columns of the logits).
    pub c: u32,
    /// 1 when class weights are bound, else 0 (every weight 1).
    pub has_weights: u32,
    /// Label smoothing eps in [0, 1].
    pub smoothing: f32,
    /// 1 when samples labelled `ignore` are skipped.
    pub has_ignore: u32,
    /// The skipped label's bits (an i32 such as -100 as its two's complement).
    pub ignore: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 2],
}

impl XentParams {
    /// Whether label `y` (bits) contributes nothing: the ignored label, or one outside `0..c`.
    pub fn skips(&self, y: u32) -> bool {
        y >= self.c || (self.has_ignore != 0 && y == self.ignore)
    }
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// Bindings (logits, labels, weights, loss, label weight).
pub static XENT_FORWARD: KernelSpec =
    KernelSpec { shader: Shader::SoftmaxXent, entry: "xent_forward", bindings: &[R, R, R, W, W] };
/// Bindings (logits, labels, weights, upstream, dlogits).
pub static XENT_BACKWARD: KernelSpec =
    KernelSpec { shader: Shader::SoftmaxXent, entry: "xent_backward", bindings: &[R, R, R, R, W] };

/// `XENT_FORWARD` with an invocation per row (for rows of at most `ROWS_MAX_C` classes).
pub static XENT_FORWARD_ROWS: KernelSpec =
    KernelSpec { shader: Shader::SoftmaxXent, entry: "xent_forward_rows", bindings: &[R, R, R, W, W] };
/// `XENT_BACKWARD` with an invocation per row.
pub static XENT_BACKWARD_ROWS: KernelSpec =
    KernelSpec { shader: Shader::SoftmaxXent, entry: "xent_backward_rows", bindings: &[R, R, R, R, W] };

/// Rows this narrow take the row-per-invocation kernels (serial loops, no workgroup trees).
pub const ROWS_MAX_C: u32 = 64;

/// The forward (`backward` false) or backward pass for `p`: a 256-thread workgroup per row, or
/// an invocation per row when rows have at most `ROWS_MAX_C` classes.
pub fn launch_pass(backward: bool, p: &XentParams) -> Launch {
    if p.c <= ROWS_MAX_C {
        let kernel = if backward { &XENT_BACKWARD_ROWS } else { &XENT_FORWARD_ROWS };
        return Launch::new(kernel, p, grid_1d(p.n as usize, 64));
    }
    launch(if backward { &XENT_BACKWARD } else { &XENT_FORWARD }, p)
}

/// `kernel` (one of the 256-thread tree kernels) with a workgroup per row.
pub fn launch(kernel: &'static KernelSpec, p: &XentParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.n as usize, 1))
}
