//! Softmax and log-softmax over the last axis (`softmax.wgsl`) and their backward maps.
//!
//! Shape contract: every operand is contiguous `[rows, cols]` from element 0; one workgroup per
//! row, or one invocation per row for narrow rows ([`ROWS_MAX_COLS`]). Other axes are handled
//! by the tensor layer (permute, contiguous, permute back).

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

/// [`SOFTMAX`] with one invocation per row (for rows of at most [`ROWS_MAX_COLS`]).
pub static SOFTMAX_SERIAL: KernelSpec =
    KernelSpec { shader: Shader::Softmax, entry: "softmax_rows_serial", bindings: &[R, R, W] };
/// [`SOFTMAX_BACKWARD`] with one invocation per row.
pub static SOFTMAX_BACKWARD_SERIAL: KernelSpec =
    KernelSpec { shader: Shader::Softmax, entry: "softmax_backward_rows_serial", bindings: &[R, R, W] };

/// The widest rows the one-invocation-per-row variants take: a 256-thread tree's barriers cost
/// a software adapter far more than a narrow row's arithmetic (a classifier's softmax over 10
/// classes), while wide rows keep a workgroup each so a GPU spreads them.
pub const ROWS_MAX_COLS: u32 = 64;

/// Launch of `kernel` ([`SOFTMAX`] or [`SOFTMAX_BACKWARD`]), specialized to softmax or
/// log-softmax by the `LOG` pipeline constant: one workgroup per row, or for rows of at most
/// [`ROWS_MAX_COLS`] the kernel's serial variant, one invocation per row.
pub fn launch(kernel: &'static KernelSpec, p: &SoftmaxParams) -> Launch {
    let constants = Constants::new(&[("LOG", p.log)]);
    if p.cols <= ROWS_MAX_COLS {
        let serial = if std::ptr::eq(kernel, &SOFTMAX_BACKWARD) { &SOFTMAX_BACKWARD_SERIAL } else { &SOFTMAX_SERIAL };
        return Launch::new(serial, p, grid_1d(p.rows as usize, 64)).with_constants(constants);
    }
    Launch::new(kernel, p, grid_1d(p.rows as usize, 1)).with_constants(constants)
}
