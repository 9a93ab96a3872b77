//! The fused LSTM cell (`lstm_cell.wgsl`, `lstm_cell_grad.wgsl`): a recurrent step's
//! elementwise part (four gate activations, the cell and hidden states) in one dispatch each
//! way, where the unfused graph takes about ten forward and twenty backward. Its twin is
//! [`crate::reference::lstm_cell`].

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of both cell kernels.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Default)]
pub struct CellParams {
    /// Samples (rows).
    pub n: u32,
    /// Units of the cell (each gate's width).
    pub units: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: [u32; 2],
}

/// (gates `[n, 4u]`, c_prev `[n, u]`) to hc `[n, 2u]` (h then c).
pub static LSTM_CELL: KernelSpec = KernelSpec {
    shader: Shader::LstmCell,
    entry: "lstm_cell",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite],
};
/// (gates, c_prev, hc, dhc `[n, 2u]`) to `[n, 5u]`: the gates' gradient, then c_prev's.
pub static LSTM_CELL_GRAD: KernelSpec = KernelSpec {
    shader: Shader::LstmCellGrad,
    entry: "lstm_cell_grad",
    bindings: &[Access::Read, Access::Read, Access::Read, Access::Read, Access::ReadWrite],
};

/// Launch of the forward cell over `n` samples of `units`.
pub fn forward(n: usize, units: usize) -> Launch {
    let p = CellParams { n: n as u32, units: units as u32, ..Default::default() };
    Launch::new(&LSTM_CELL, &p, grid_1d(n * units, 256))
}

/// Launch of the backward cell over `n` samples of `units`.
pub fn backward(n: usize, units: usize) -> Launch {
    let p = CellParams { n: n as u32, units: units as u32, ..Default::default() };
    Launch::new(&LSTM_CELL_GRAD, &p, grid_1d(n * units, 256))
}
