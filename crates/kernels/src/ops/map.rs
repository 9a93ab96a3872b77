//! Elementwise maps (unary, binary, ternary, strided copy and casts) over strided operands of
//! rank <= 6 with NumPy broadcasting (a broadcast dimension has stride 0).
//!
//! Shape contract: the output is contiguous with `shape`; operand `s` is read at
//! `offsets[s] + sum_d coord_d * strides[s][d]`. [`collapse`] merges dimensions that are
//! contiguous for every operand, so most launches run at rank 1 with no index arithmetic.

use bytemuck::{Pod, Zeroable};

use crate::launch::{grid_1d, pack_dims};
use crate::{Access, Constants, ElemKernel, KernelSpec, Launch, MAX_RANK, Shader};

pub use super::op_table::{BinaryOp, UnaryOp};

/// Parameters of every elementwise kernel (WGSL `Params` in `map_common.wgsl`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct MapParams {
    /// Output extents after [`collapse`], packed by [`pack_dims`].
    pub shape: [u32; 8],
    /// Element strides of operands 0..3, one per output dimension (0 = broadcast).
    pub strides: [[u32; 8]; 3],
    /// Element offset of each operand into its buffer.
    pub offsets: [u32; 4],
    /// Number of valid entries in `shape` and `strides` (at least 1).
    pub rank: u32,
    /// Output elements.
    pub n: u32,
    /// Op code: [`UnaryOp`], [`BinaryOp`] (or [`grad_code`]), [`TernaryOp`] or [`WordCast`].
    pub op: u32,
    /// Padding to the WGSL struct's layout.
    pub _pad: u32,
    /// First scalar argument of the op.
    pub alpha: f32,
    /// Second scalar argument of the op (upper bound of [`UnaryOp::Clamp`]).
    pub beta: f32,
    /// Padding to the WGSL struct's size.
    pub _pad1: [u32; 2],
}

/// A strided operand: element offset and one stride per output dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operand {
    /// Element offset of the view's first element.
    pub offset: usize,
    /// Element stride per output dimension; 0 broadcasts.
    pub strides: Vec<usize>,
}

impl MapParams {
    /// Params for `shape` over `operands` (at most 3), after collapsing dimensions.
    pub fn new(shape: &[usize], operands: &[Operand], op: u32, alpha: f32, beta: f32) -> Self {
        debug_assert!(shape.len() <= MAX_RANK && operands.len() <= 3);
        let (cshape, cstrides) = collapse(shape, operands);
        let mut strides = [[0u32; 8]; 3];
        let mut offsets = [0u32; 4];
        for (s, o) in operands.iter().enumerate() {
            strides[s] = pack_dims(&cstrides[s]);
            offsets[s] = o.offset as u32;
        }
        MapParams {
            shape: pack_dims(&cshape),
            strides,
            offsets,
            rank: cshape.len() as u32,
            n: shape.iter().product::<usize>() as u32,
            op,
            _pad: 0,
            alpha,
            beta,
            _pad1: [0; 2],
        }
    }

    /// Whether the first `operands` operands are each contiguous from an element offset that is
    /// a multiple of 4, so each is whole texels of a linear texture (the texture variants).
    pub fn texel_aligned(&self, operands: usize) -> bool {
        self.rank == 1 && (0..operands).all(|s| self.strides[s][0] == 1 && self.offsets[s].is_multiple_of(4))
    }

    /// Extents, as a slice of `rank` values.
    pub fn dims(&self) -> Vec<usize> {
        self.shape[..self.rank as usize].iter().map(|&d| d as usize).collect()
    }

    /// Strides of operand `s`.
    pub fn operand_strides(&self, s: usize) -> Vec<usize> {
        self.strides[s][..self.rank as usize].iter().map(|&d| d as usize).collect()
    }
}

/// Drops unit dimensions and merges neighbours `d, d+1` wherever every operand has
/// `stride[d] == stride[d+1] * shape[d+1]`. Always returns rank >= 1.
pub fn collapse(shape: &[usize], operands: &[Operand]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut dims: Vec<usize> = Vec::new();
    let mut strides: Vec<Vec<usize>> = vec![Vec::new(); operands.len()];
    for (d, &e) in shape.iter().enumerate() {
        if e == 1 {
            continue;
        }
        let mergeable = !dims.is_empty()
            && operands.iter().enumerate().all(|(s, o)| {
                let last = *strides[s].last().unwrap_or(&0);
                last == o.strides[d] * e
            });
        if mergeable {
            *dims.last_mut().unwrap_or(&mut 0) *= e;
            for (s, o) in operands.iter().enumerate() {
                if let Some(l) = strides[s].last_mut() {
                    *l = o.strides[d];
                }
            }
        } else {
            dims.push(e);
            for (s, o) in operands.iter().enumerate() {
                strides[s].push(o.strides[d]);
            }
        }
    }
    if dims.is_empty() {
        dims.push(1);
        for s in &mut strides {
            s.push(1);
        }
    }
    (dims, strides)
}

/// Code of the fused gradient `b * f'(a)` of a unary op.
pub fn grad_code(op: UnaryOp) -> u32 {
    100 + op as u32
}

/// Ternary op codes (`ternary.wgsl`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TernaryOp {
    /// c != 0 ? a : b
    Where = 0,
    /// c * (a > 0 ? 1 : b): PReLU gradient w.r.t. x (a = x, b = slope, c = dy)
    PreluGradX = 1,
    /// c * (a > 0 ? 0 : a): PReLU gradient w.r.t. the slope
    PreluGradSlope = 2,
}

impl TernaryOp {
    /// Every ternary op.
    pub const ALL: [TernaryOp; 3] = [TernaryOp::Where, TernaryOp::PreluGradX, TernaryOp::PreluGradSlope];
}

/// Casts between 4-byte dtypes (`copy.wgsl: cast_word`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WordCast {
    /// f32 -> i32, truncating toward zero
    F32ToI32 = 0,
    /// f32 -> u32, truncating toward zero; negatives become 0
    F32ToU32 = 1,
    /// i32 -> f32
    I32ToF32 = 2,
    /// u32 -> f32
    U32ToF32 = 3,
    /// i32 <-> u32, two's complement reinterpretation
    Reinterpret = 4,
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;
const T: Access = Access::Texture;

/// [`UnaryOp`] over one strided operand, on f32 or f16 tensors: (x, out).
pub static UNARY: ElemKernel = ElemKernel::new(Shader::Unary, Shader::UnaryF16, "unary_map", &[R, W]);
/// [`BinaryOp`] or a fused unary gradient over two broadcast operands: (a, b, out).
pub static BINARY: ElemKernel = ElemKernel::new(Shader::Binary, Shader::BinaryF16, "binary_map", &[R, R, W]);
/// [`UNARY`] reading its operand from a linear texture, four elements per invocation, for
/// contiguous operands on CPU adapters ([`MapParams::texel_aligned`]): (x texture, out).
pub static UNARY_TEXTURE: KernelSpec =
    KernelSpec { shader: Shader::UnaryTexture, entry: "unary_map_texture", bindings: &[T, W] };
/// [`BINARY`] reading both operands from linear textures: (a texture, b texture, out).
pub static BINARY_TEXTURE: KernelSpec =
    KernelSpec { shader: Shader::BinaryTexture, entry: "binary_map_texture", bindings: &[T, T, W] };
/// [`TernaryOp`] over three broadcast operands: (a, b, c, out).
pub static TERNARY: ElemKernel = ElemKernel::new(Shader::Ternary, Shader::TernaryF16, "ternary_map", &[R, R, R, W]);
/// Strided copy of raw 32-bit words (f32, i32 or u32): (src, dst); dst may be a strided view.
pub static COPY: KernelSpec = KernelSpec { shader: Shader::Copy, entry: "copy_strided", bindings: &[R, W] };
/// [`WordCast`] between the 4-byte dtypes: (src, dst).
pub static CAST_WORD: KernelSpec = KernelSpec { shader: Shader::Copy, entry: "cast_word", bindings: &[R, W] };
/// f32 -> f16 cast (needs `SHADER_F16`): (src, dst).
pub static CAST_F32_F16: KernelSpec = KernelSpec { shader: Shader::CastF16, entry: "cast_f32_f16", bindings: &[R, W] };
/// f16 -> f32 cast (needs `SHADER_F16`): (src, dst).
pub static CAST_F16_F32: KernelSpec = KernelSpec { shader: Shader::CastF16, entry: "cast_f16_f32", bindings: &[R, W] };
/// Strided copy of f16 elements (needs `SHADER_F16`): (src, dst).
pub static COPY_F16: KernelSpec = KernelSpec { shader: Shader::CastF16, entry: "copy_f16", bindings: &[R, W] };

/// Launch of any elementwise kernel over `p.n` elements, specialized to its op and to rank 1
/// by pipeline constants (see `map_common.wgsl` for why).
pub fn launch(kernel: &'static KernelSpec, p: &MapParams) -> Launch {
    let constants = Constants::new(&[("OP", p.op), ("RANK1", (p.rank == 1) as u32)]);
    Launch::new(kernel, p, grid_1d(p.n as usize, 256)).with_constants(constants)
}

/// Launch of [`UNARY_TEXTURE`] or [`BINARY_TEXTURE`]: an invocation per four elements.
pub fn launch_texture(kernel: &'static KernelSpec, p: &MapParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.n.div_ceil(4) as usize, 256)).with_constants(Constants::new(&[("OP", p.op)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(offset: usize, strides: &[usize]) -> Operand {
        Operand { offset, strides: strides.to_vec() }
    }

    #[test]
    fn contiguous_operands_collapse_to_rank_one() {
        let (d, s) = collapse(&[2, 3, 4], &[op(0, &[12, 4, 1]), op(5, &[12, 4, 1])]);
        assert_eq!(d, vec![24]);
        assert_eq!(s, vec![vec![1], vec![1]]);
    }

    #[test]
    fn broadcast_and_transposed_dimensions_stay_apart() {
        // a is a transposed [4, 3] matrix: its dimensions cannot merge.
        let (d, s) = collapse(&[3, 4], &[op(0, &[1, 3]), op(0, &[4, 1])]);
        assert_eq!((d, s), (vec![3, 4], vec![vec![1, 3], vec![4, 1]]));
        // b broadcast along dim 0; the trailing dims of both are contiguous and merge.
        let (d, s) = collapse(&[2, 3, 4], &[op(0, &[12, 4, 1]), op(0, &[0, 4, 1])]);
        assert_eq!((d, s), (vec![2, 12], vec![vec![12, 1], vec![0, 1]]));
    }

    #[test]
    fn unit_dimensions_are_dropped_and_scalars_have_rank_one() {
        let (d, s) = collapse(&[1, 5, 1], &[op(0, &[0, 1, 0])]);
        assert_eq!((d, s), (vec![5], vec![vec![1]]));
        let (d, _) = collapse(&[], &[op(3, &[])]);
        assert_eq!(d, vec![1]);
    }
}
