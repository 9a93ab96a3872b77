//! Softmax and log-softmax over the last axis (`softmax.wgsl`) and their backward maps.
//!
//! Shape contract: every operand is contiguous `[rows, cols]` from element 0; one workgroup per
//! row. Other axes are handled by the tensor layer (permute, contiguous, permute back).

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, Constants, KernelSpec, Launch, Shader};

/// Parameters of `softmax.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct SoftmaxParams {
    /// Rows: one workgroup each.
    pub rows: u32,
    /// Length of each row (the softmax axis).
    pub cols: u32,
    /// 1: log_softmax (forward) / its gradient (backward).
    pub log: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: u32,
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// Bindings (x, unused: any buffer, y).
pub static SOFTMAX: KernelSpec = KernelSpec { shader: Shader::Softmax, entry: "softmax_rows", bindings: &[R, R, W] };
/// Bindings (y, dy, dx).
pub static SOFTMAX_BACKWARD: KernelSpec =
    KernelSpec { shader: Shader::Softmax, entry: "softmax_backward_rows", bindings: &[R, R, W] };

/// Launch of `kernel` (one of the two above): one workgroup per row, specialized to softmax or
/// log-softmax by the `LOG` pipeline constant.
pub fn launch(kernel: &'static KernelSpec, p: &SoftmaxParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.rows as usize, 1)).with_constants(Constants::new(&[("LOG", p.log)]))
}
