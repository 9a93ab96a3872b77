//! The fused recurrent cells: a step's elementwise part in one dispatch each way, where the
//! unfused graph takes about ten forward and twenty backward.
//! - LSTM (`lstm_cell.wgsl`, `lstm_cell_grad.wgsl`): gate pre-activations `[n, 4u]` and the
//!   previous cell state to `[n, 2u]` (h then c).
//! - GRU (`gru_cell.wgsl`, `gru_cell_grad.wgsl`): the input's projection `[n, 3u]`, the state's
//!   projection `[n, 3u]` (with its own bias, inside the reset gate, as Keras' `reset_after`)
//!   and the previous state to the new state `[n, u]`.
//!
//! Their twins are in [`crate::reference`] (`lstm_cell`, `gru_cell` and their gradients).

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of every cell kernel.
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

use Access::{Read, ReadWrite};

/// (gates `[n, 4u]`, c_prev `[n, u]`) to hc `[n, 2u]` (h then c).
pub static LSTM_CELL: KernelSpec =
    KernelSpec { shader: Shader::LstmCell, entry: "lstm_cell", bindings: &[Read, Read, ReadWrite] };
/// (gates, c_prev, hc, dhc `[n, 2u]`) to `[n, 5u]`: the gates' gradient, then c_prev's.
pub static LSTM_CELL_GRAD: KernelSpec = KernelSpec {
    shader: Shader::LstmCellGrad,
    entry: "lstm_cell_grad",
    bindings: &[Read, Read, Read, Read, ReadWrite],
};
/// (x projection `[n, 3u]`, h projection `[n, 3u]`, h_prev `[n, u]`) to h `[n, u]`.
pub static GRU_CELL: KernelSpec =
    KernelSpec { shader: Shader::GruCell, entry: "gru_cell", bindings: &[Read, Read, Read, ReadWrite] };
/// (x projection, h projection, h_prev, dh `[n, u]`) to `[n, 7u]`: the x projection's
/// gradient, the h projection's, then h_prev's.
pub static GRU_CELL_GRAD: KernelSpec =
    KernelSpec { shader: Shader::GruCellGrad, entry: "gru_cell_grad", bindings: &[Read, Read, Read, Read, ReadWrite] };

/// Launch of `spec` over `n` samples of `units` (one invocation per unit).
fn launch(spec: &'static KernelSpec, n: usize, units: usize) -> Launch {
    let p = CellParams { n: n as u32, units: units as u32, ..Default::default() };
    Launch::new(spec, &p, grid_1d(n * units, 256))
}

/// The forward LSTM cell over `n` samples of `units`.
pub fn lstm(n: usize, units: usize) -> Launch {
    launch(&LSTM_CELL, n, units)
}

/// The backward LSTM cell.
pub fn lstm_grad(n: usize, units: usize) -> Launch {
    launch(&LSTM_CELL_GRAD, n, units)
}

/// The forward GRU cell.
pub fn gru(n: usize, units: usize) -> Launch {
    launch(&GRU_CELL, n, units)
}

/// The backward GRU cell.
pub fn gru_grad(n: usize, units: usize) -> Launch {
    launch(&GRU_CELL_GRAD, n, units)
}
