//! Elementwise maps (unary, binary, ternary, strided copy and casts) over strided operands of
//! rank <= 6 with NumPy broadcasting (a broadcast dimension has stride 0).
//!
//! Shape contract: the output is contiguous with `shape`; operand `s` is read at
//! `offsets[s] + sum_d coord_d * strides[s][d]`. [`collapse`] merges dimensions that are
//! contiguous for every operand, so most launches run at rank 1 with no index arithmetic.

use bytemuck::{Pod, Zeroable};

use crate::launch::{grid_1d, pack_dims};
use crate::{Access, Constants, KernelSpec, Launch, MAX_RANK, Shader};

/// Parameters of every elementwise kernel (WGSL `Params` in `map_common.wgsl`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct MapParams {
    pub shape: [u32; 8],
    pub strides: [[u32; 8]; 3],
    pub offsets: [u32; 4],
    pub rank: u32,
    pub n: u32,
    pub op: u32,
    pub _pad: u32,
    pub alpha: f32,
    pub beta: f32,
    pub _pad1: [u32; 2],
}

/// A strided operand: element offset and one stride per output dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operand {
    pub offset: usize,
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

/// Unary op codes (the `switch` in `math.wgsl`'s `unary_op`). Scalar arguments: `alpha`, `beta`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg = 0,
    Abs = 1,
    Exp = 2,
    Log = 3,
    Sqrt = 4,
    Rsqrt = 5,
    Square = 6,
    Relu = 7,
    /// slope alpha for x <= 0
    LeakyRelu = 8,
    /// alpha (e^x - 1) for x <= 0
    Elu = 9,
    Selu = 10,
    /// exact (erf) GELU
    Gelu = 11,
    Sigmoid = 12,
    Tanh = 13,
    Softplus = 14,
    Silu = 15,
    /// clamp(x / 6 + 1/2, 0, 1), as PyTorch and Keras 3
    HardSigmoid = 16,
    AddScalar = 17,
    MulScalar = 18,
    PowScalar = 19,
    /// clamp(x, alpha, beta)
    Clamp = 20,
    Recip = 21,
    Sign = 22,
    /// alpha - x
    RsubScalar = 23,
    Identity = 24,
    GtScalar = 25,
    GeScalar = 26,
    LtScalar = 27,
    LeScalar = 28,
    EqScalar = 29,
    NeScalar = 30,
    MaxScalar = 31,
    MinScalar = 32,
    /// alpha / x
    RdivScalar = 33,
}

impl UnaryOp {
    /// Every unary op, in code order.
    pub const ALL: [UnaryOp; 34] = {
        use UnaryOp::*;
        [
            Neg,
            Abs,
            Exp,
            Log,
            Sqrt,
            Rsqrt,
            Square,
            Relu,
            LeakyRelu,
            Elu,
            Selu,
            Gelu,
            Sigmoid,
            Tanh,
            Softplus,
            Silu,
            HardSigmoid,
            AddScalar,
            MulScalar,
            PowScalar,
            Clamp,
            Recip,
            Sign,
            RsubScalar,
            Identity,
            GtScalar,
            GeScalar,
            LtScalar,
            LeScalar,
            EqScalar,
            NeScalar,
            MaxScalar,
            MinScalar,
            RdivScalar,
        ]
    };

    /// The op with this shader code.
    pub fn from_code(code: u32) -> Option<UnaryOp> {
        UnaryOp::ALL.iter().copied().find(|o| *o as u32 == code)
    }

    /// Ops whose derivative `binary.wgsl` fuses as `dy * f'(x)` (code 100 + op).
    pub fn has_fused_grad(self) -> bool {
        (self as u32) <= UnaryOp::HardSigmoid as u32
    }
}

/// Binary op codes (`binary.wgsl`). Comparisons give 1.0 or 0.0.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
    Pow = 4,
    Maximum = 5,
    Minimum = 6,
    Eq = 7,
    Ne = 8,
    Lt = 9,
    Le = 10,
    Gt = 11,
    Ge = 12,
    /// prelu(x = a, slope = b)
    Prelu = 13,
}

impl BinaryOp {
    /// Every binary op, in code order.
    pub const ALL: [BinaryOp; 14] = {
        use BinaryOp::*;
        [Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, Prelu]
    };
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

/// Casts between 4-byte dtypes (`copy.wgsl: cast_word`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WordCast {
    F32ToI32 = 0,
    F32ToU32 = 1,
    I32ToF32 = 2,
    U32ToF32 = 3,
    /// i32 <-> u32, two's complement reinterpretation
    Reinterpret = 4,
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

pub static UNARY: KernelSpec = KernelSpec { shader: Shader::Unary, entry: "unary_map", bindings: &[R, W] };
pub static BINARY: KernelSpec = KernelSpec { shader: Shader::Binary, entry: "binary_map", bindings: &[R, R, W] };
pub static TERNARY: KernelSpec = KernelSpec { shader: Shader::Ternary, entry: "ternary_map", bindings: &[R, R, R, W] };
pub static COPY: KernelSpec = KernelSpec { shader: Shader::Copy, entry: "copy_strided", bindings: &[R, W] };
pub static CAST_WORD: KernelSpec = KernelSpec { shader: Shader::Copy, entry: "cast_word", bindings: &[R, W] };
pub static CAST_F32_F16: KernelSpec = KernelSpec { shader: Shader::CastF16, entry: "cast_f32_f16", bindings: &[R, W] };
pub static CAST_F16_F32: KernelSpec = KernelSpec { shader: Shader::CastF16, entry: "cast_f16_f32", bindings: &[R, W] };
pub static COPY_F16: KernelSpec = KernelSpec { shader: Shader::CastF16, entry: "copy_f16", bindings: &[R, W] };

/// Launch of any elementwise kernel over `p.n` elements, specialized to its op and to rank 1
/// by pipeline constants (see `map_common.wgsl` for why).
pub fn launch(kernel: &'static KernelSpec, p: &MapParams) -> Launch {
    let constants = Constants::new(&[("OP", p.op), ("RANK1", (p.rank == 1) as u32)]);
    Launch::new(kernel, p, grid_1d(p.n as usize, 256)).with_constants(constants)
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
