//! The shader modules wgtrain compiles: one per op family, named after it. The pipeline label of
//! an entry point is `file:entry`.

use crate::source as src;

/// A WGSL module: one op family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shader {
    Unary,
    Binary,
    Ternary,
    Copy,
    Fill,
    Random,
    Matmul,
    GemmUniform,
    GemmPack,
    ConvPack,
    Conv2d,
    CastF16,
    Index,
    Optim,
    Reduce,
    ReduceSubgroup,
    Softmax,
    SoftmaxXent,
    Norm,
    Pool,
    Augment,
}

impl Shader {
    /// Every module, for validation and warm-up.
    pub const ALL: &'static [Shader] = &[
        Shader::Unary,
        Shader::Binary,
        Shader::Ternary,
        Shader::Copy,
        Shader::Fill,
        Shader::Random,
        Shader::Matmul,
        Shader::GemmUniform,
        Shader::GemmPack,
        Shader::ConvPack,
        Shader::Conv2d,
        Shader::CastF16,
        Shader::Index,
        Shader::Optim,
        Shader::Reduce,
        Shader::ReduceSubgroup,
        Shader::Softmax,
        Shader::SoftmaxXent,
        Shader::Norm,
        Shader::Pool,
        Shader::Augment,
    ];

    /// The module's name: its op file.
    pub fn name(self) -> &'static str {
        match self {
            Shader::Unary => "unary.wgsl",
            Shader::Binary => "binary.wgsl",
            Shader::Ternary => "ternary.wgsl",
            Shader::Copy => "copy.wgsl",
            Shader::Fill => "fill.wgsl",
            Shader::Random => "random.wgsl",
            Shader::Matmul => "matmul.wgsl",
            Shader::GemmUniform => "gemm_uniform.wgsl",
            Shader::GemmPack => "gemm_pack.wgsl",
            Shader::ConvPack => "conv_pack.wgsl",
            Shader::Conv2d => "conv2d.wgsl",
            Shader::CastF16 => "cast_f16.wgsl",
            Shader::Index => "index.wgsl",
            Shader::Optim => "optim.wgsl",
            Shader::Reduce => "reduce.wgsl",
            Shader::ReduceSubgroup => "reduce_subgroup.wgsl",
            Shader::Softmax => "softmax.wgsl",
            Shader::SoftmaxXent => "softmax_xent.wgsl",
            Shader::Norm => "norm.wgsl",
            Shader::Pool => "pool.wgsl",
            Shader::Augment => "augment.wgsl",
        }
    }

    /// The files that make up the module, in order: a file with an `enable` directive first,
    /// then shared parts, then the op file.
    pub fn parts(self) -> &'static [&'static str] {
        match self {
            Shader::Unary => &[src::MAP_COMMON, src::MATH, src::UNARY],
            Shader::Binary => &[src::MAP_COMMON, src::MATH, src::BINARY],
            Shader::Ternary => &[src::MAP_COMMON, src::TERNARY],
            Shader::Copy => &[src::MAP_COMMON, src::COPY],
            Shader::Fill => &[src::FILL],
            Shader::Random => &[src::RANDOM],
            Shader::Matmul => &[src::GEMM_CORE, src::MATH, src::MATMUL],
            Shader::GemmUniform => &[src::MATH, src::GEMM_UNIFORM],
            Shader::GemmPack => &[src::GEMM_PACK],
            Shader::ConvPack => &[src::CONV_PACK],
            Shader::Conv2d => &[src::GEMM_CORE, src::MATH, src::CONV2D],
            Shader::CastF16 => &[src::CAST_F16, src::MAP_COMMON],
            Shader::Index => &[src::INDEX],
            Shader::Optim => &[src::OPTIM],
            Shader::Reduce => &[src::REDUCE],
            Shader::ReduceSubgroup => &[src::REDUCE, src::REDUCE_SUBGROUP],
            Shader::Softmax => &[src::ROW_TREE, src::SOFTMAX],
            Shader::SoftmaxXent => &[src::ROW_TREE, src::SOFTMAX_XENT],
            Shader::Norm => &[src::NORM],
            Shader::Pool => &[src::POOL],
            Shader::Augment => &[src::AUGMENT],
        }
    }

    /// The composed WGSL text of the module.
    pub fn source(self) -> String {
        self.parts().join("\n")
    }

    /// Whether the module uses `enable f16;` and so needs `SHADER_F16`.
    pub fn needs_f16(self) -> bool {
        matches!(self, Shader::CastF16)
    }

    /// Whether the module uses subgroup operations and so needs `SUBGROUP`.
    pub fn needs_subgroups(self) -> bool {
        matches!(self, Shader::ReduceSubgroup)
    }
}
