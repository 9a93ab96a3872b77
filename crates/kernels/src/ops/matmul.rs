//! Batched matmul `C = act(A . B + bias)` on the register-blocked GEMM core.
//!
//! Shape contract: A is read at `a_off + b * a_bs + m * a_rs + k * a_cs` (so A^T is a stride
//! swap and a broadcast batch has `a_bs = 0`), B likewise; C is contiguous `[batch, m, n]`;
//! `bias`, when present, has `n` elements added to every row before the activation.

use bytemuck::{Pod, Zeroable};

use super::map::UnaryOp;
use super::tiles::GemmTiles;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of `matmul.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct MatmulParams {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub batch: u32,
    pub a_off: u32,
    pub a_rs: u32,
    pub a_cs: u32,
    pub a_bs: u32,
    pub b_off: u32,
    pub b_rs: u32,
    pub b_cs: u32,
    pub b_bs: u32,
    pub bias_off: u32,
    pub has_bias: u32,
    /// Epilogue activation: a [`UnaryOp`] code (`Identity` for none).
    pub act: u32,
    pub alpha: f32,
}

/// Epilogue activations the GEMM kernels fuse.
pub fn fusable_activation(op: UnaryOp) -> bool {
    use UnaryOp::*;
    matches!(op, Identity | Relu | LeakyRelu | Elu | Selu | Gelu | Sigmoid | Tanh | Silu | Softplus | HardSigmoid)
}

pub static MATMUL: KernelSpec = KernelSpec {
    shader: Shader::Matmul,
    entry: "matmul_tiled",
    bindings: &[Access::Read, Access::Read, Access::Read, Access::ReadWrite],
};

/// Launch of `matmul_tiled` with bindings (a, b, bias, c).
pub fn launch(p: &MatmulParams, tiles: GemmTiles) -> Launch {
    let grid = [p.n.div_ceil(tiles.bn()).max(1), p.m.div_ceil(tiles.bm()).max(1), p.batch.max(1)];
    Launch::new(&MATMUL, p, grid).with_constants(tiles.constants())
}
