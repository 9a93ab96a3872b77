//! Constant fills (any 4-byte dtype, as a bit pattern) and f32 `arange`, on contiguous output.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of `fill.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct FillParams {
    /// Elements to write.
    pub n: u32,
    /// The 32-bit word written by `fill_value`.
    pub word: u32,
    /// `fill_arange`: `out[i] = start + i * step`.
    pub start: f32,
    /// `fill_arange`: increment between consecutive elements.
    pub step: f32,
}

/// Writes [`FillParams::word`] to every element: (out).
pub static FILL_VALUE: KernelSpec =
    KernelSpec { shader: Shader::Fill, entry: "fill_value", bindings: &[Access::ReadWrite] };
/// Writes `start + i * step` as f32: (out).
pub static FILL_ARANGE: KernelSpec =
    KernelSpec { shader: Shader::Fill, entry: "fill_arange", bindings: &[Access::ReadWrite] };

/// Launch of a fill kernel over `p.n` elements.
pub fn launch(kernel: &'static KernelSpec, p: &FillParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.n as usize, 256))
}
