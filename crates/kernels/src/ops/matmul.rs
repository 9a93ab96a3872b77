//! Batched matmul `C = act(A . B + bias)` on the register-blocked GEMM core.
//!
//! Shape contract: A is read at `a_off + b * a_bs + m * a_rs + k * a_cs` (so A^T is a stride
//! swap and a broadcast batch has `a_bs = 0`), B likewise; C is contiguous `[batch, m, n]`;
//! `bias`, when present, has `n` elements added to every row before the activation.
//!
//! Precision: operands and bias are f32, or f16 (mixed precision); whatever they are, the
//! products, their sum, the bias and the activation are f32, and C is rounded once to the
//! type asked for ([`GemmPrecision`]).

use bytemuck::{Pod, Zeroable};

use super::map::UnaryOp;
use super::tiles::GemmTiles;
use crate::{Access, GemmKernel, KernelSpec, Launch, Shader};

/// Parameters of `matmul.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct MatmulParams {
    /// Rows of A and C.
    pub m: u32,
    /// Columns of B and C.
    pub n: u32,
    /// Inner dimension.
    pub k: u32,
    /// Batches of C.
    pub batch: u32,
    /// Element offset of A.
    pub a_off: u32,
    /// A's element stride between rows (along m).
    pub a_rs: u32,
    /// A's element stride between columns (along k).
    pub a_cs: u32,
    /// A's element stride between batches (0 = broadcast).
    pub a_bs: u32,
    /// Element offset of B.
    pub b_off: u32,
    /// B's element stride between rows (along k).
    pub b_rs: u32,
    /// B's element stride between columns (along n).
    pub b_cs: u32,
    /// B's element stride between batches (0 = broadcast).
    pub b_bs: u32,
    /// Element offset of the bias.
    pub bias_off: u32,
    /// 1 when the `n`-element bias is added to every row, else 0.
    pub has_bias: u32,
    /// Epilogue activation: a [`UnaryOp`] code (`Identity` for none).
    pub act: u32,
    /// Scalar argument of the epilogue activation.
    pub alpha: f32,
}

/// Epilogue activations the GEMM kernels fuse (`epilogue: true` in the op table).
pub fn fusable_activation(op: UnaryOp) -> bool {
    op.fuses_into_epilogue()
}

/// The element types a GEMM reads and writes. Accumulation is f32 in every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GemmPrecision {
    /// f32 operands, bias and output.
    F32,
    /// f16 operands and bias, f16 output (rounded once, after the epilogue).
    F16,
    /// f16 operands and bias, f32 output: a product that feeds f32 (a master weight's
    /// gradient).
    F16ToF32,
}

/// Tiled batched GEMM in each precision: (a, b, bias, c); see [`launch`].
pub static MATMUL: GemmKernel =
    GemmKernel::new([Shader::Matmul, Shader::MatmulF16, Shader::MatmulF16F32], "matmul_tiled");

/// Launch of `matmul_tiled` in `precision` with bindings (a, b, bias, c).
pub fn launch(p: &MatmulParams, tiles: GemmTiles, precision: GemmPrecision) -> Launch {
    let grid = [p.n.div_ceil(tiles.bn()).max(1), p.m.div_ceil(tiles.bm()).max(1), p.batch.max(1)];
    Launch::new(MATMUL.of(precision), p, grid).with_constants(tiles.constants())
}

/// The f16 matmul on cooperative matrices (tensor cores): f16 -> f16 and f16 -> f32. Its
/// workgroup is one subgroup of 32 invocations computing a 32 x 32 block of C.
#[derive(Debug)]
pub struct CoopKernel {
    /// f16 operands and output.
    pub f16: KernelSpec,
    /// f16 operands, f32 output.
    pub f16_to_f32: KernelSpec,
}

/// [`CoopKernel`]'s entry point (lhs, rhs, bias, out; as [`MATMUL`]).
pub static MATMUL_COOP: CoopKernel = {
    const GEMM: &[Access] = &[Access::Read, Access::Read, Access::Read, Access::ReadWrite];
    CoopKernel {
        f16: KernelSpec { shader: Shader::MatmulCoopF16, entry: "matmul_coop", bindings: GEMM },
        f16_to_f32: KernelSpec { shader: Shader::MatmulCoopF16F32, entry: "matmul_coop", bindings: GEMM },
    }
};

/// The side of the block of C one cooperative workgroup computes (`CB` in `matmul_coop.wgsl`).
pub const COOP_BLOCK: u32 = 32;

/// Launch of [`MATMUL_COOP`] for f16 operands storing `precision`'s output; `None` for f32
/// operands, which cooperative matrices of f16 cannot take.
pub fn launch_coop(p: &MatmulParams, precision: GemmPrecision) -> Option<Launch> {
    let kernel = match precision {
        GemmPrecision::F32 => return None,
        GemmPrecision::F16 => &MATMUL_COOP.f16,
        GemmPrecision::F16ToF32 => &MATMUL_COOP.f16_to_f32,
    };
    let grid = [p.n.div_ceil(COOP_BLOCK).max(1), p.m.div_ceil(COOP_BLOCK).max(1), p.batch.max(1)];
    Some(Launch::new(kernel, p, grid))
}
