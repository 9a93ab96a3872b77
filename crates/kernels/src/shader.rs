//! The shader modules wgtrain compiles: one per op family, named after it. The pipeline label of
//! an entry point is `file:entry`.

use crate::source as src;

/// The parts of a module on the tiled GEMM core: the op's files (matmul or conv2d) between the
/// core and its element parts (`gemm_in_*`, `gemm_out_*`), after `enable f16;` when `f16:`.
macro_rules! gemm_module {
    ($($op:expr),+; $input:expr, $output:expr) => {
        &[src::GEMM_TILED, src::NAN, src::MATH, $($op,)+ $input, $output]
    };
    (f16: $($op:expr),+; $input:expr, $output:expr) => {
        &[src::ENABLE_F16, src::GEMM_TILED, src::NAN, src::MATH, $($op,)+ $input, $output]
    };
}

/// The parts of a matmul on cooperative matrices, storing through `$output`.
macro_rules! coop_module {
    ($output:expr) => {
        &[
            src::ENABLE_F16,
            src::ENABLE_COOP,
            src::NAN,
            src::MATH,
            src::MATMUL_PARAMS,
            src::MATMUL_COOP,
            src::GEMM_IN_F16,
            $output,
        ]
    };
}

/// A WGSL module: one op family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shader {
    /// Elementwise unary ops and activations (`unary.wgsl`).
    Unary,
    /// Broadcasting binary ops and the unary-op gradients (`binary.wgsl`).
    Binary,
    /// Three-operand ops: `where` and the PReLU gradients (`ternary.wgsl`).
    Ternary,
    /// [`Shader::Unary`] on f16 tensors (computing in f32); needs `SHADER_F16`.
    UnaryF16,
    /// [`Shader::Binary`] on f16 tensors (computing in f32); needs `SHADER_F16`.
    BinaryF16,
    /// [`Shader::Ternary`] on f16 tensors (computing in f32); needs `SHADER_F16`.
    TernaryF16,
    /// Strided copies and casts between the 4-byte dtypes (`copy.wgsl`).
    Copy,
    /// Constant fills and arange (`fill.wgsl`).
    Fill,
    /// Philox uniform/normal fills and dropout (`random.wgsl`).
    Random,
    /// Batched matmul with fused bias and activation on the tiled GEMM core (`matmul.wgsl`).
    Matmul,
    /// [`Shader::Matmul`] on f16 operands, accumulating in f32, storing f16; needs
    /// `SHADER_F16` (`matmul.wgsl` with `gemm_in_f16.wgsl`, `gemm_out_f16.wgsl`).
    MatmulF16,
    /// [`Shader::Matmul`] on f16 operands, accumulating and storing f32 (a gradient that feeds
    /// an f32 master weight); needs `SHADER_F16`.
    MatmulF16F32,
    /// Batched f16 matmul on cooperative matrices (tensor cores), f32 sums, storing f16
    /// (`matmul_coop.wgsl`); needs `SHADER_F16` and `EXPERIMENTAL_COOPERATIVE_MATRIX`.
    MatmulCoopF16,
    /// [`Shader::MatmulCoopF16`] storing f32.
    MatmulCoopF16F32,
    /// CPU-adapter GEMM that reads its operands through uniform windows (`cpu/gemm_uniform.wgsl`).
    GemmUniform,
    /// Packs a GEMM operand into the uniform windows of [`Shader::GemmUniform`] (`cpu/gemm_pack.wgsl`).
    GemmPack,
    /// CPU-adapter GEMM that reads whole operands from textures (`cpu/gemm_texture.wgsl`).
    GemmTexture,
    /// Adds up the partial C blocks of a split-K [`Shader::GemmTexture`] (`cpu/gemm_split_sum.wgsl`).
    GemmSplitSum,
    /// Packs a convolution operand (explicit im2col) into uniform windows (`cpu/conv_pack.wgsl`).
    ConvPack,
    /// Shifted copies of a stride-1 convolution's padded source, which the texture GEMM reads
    /// as im2col (`cpu/conv_shift.wgsl`).
    ConvShift,
    /// Implicit-GEMM 2-D convolution: forward, input and weight gradients (`conv2d.wgsl`).
    Conv2d,
    /// [`Shader::Conv2d`] on f16 operands, accumulating in f32, storing f16; needs `SHADER_F16`.
    Conv2dF16,
    /// [`Shader::Conv2d`] on f16 operands, accumulating and storing f32; needs `SHADER_F16`.
    Conv2dF16F32,
    /// Casts and copies involving f16; needs `SHADER_F16` (`cast_f16.wgsl`).
    CastF16,
    /// Embedding, gather, their scatter-add gradients and one-hot (`index.wgsl`).
    Index,
    /// Index and finiteness checks reported through the fault record (`fault.wgsl`).
    Fault,
    /// Fused in-place optimizer updates (`optim.wgsl`).
    Optim,
    /// [`Shader::Optim`] that also stores each updated f32 parameter's f16 copy (mixed
    /// precision); needs `SHADER_F16`.
    OptimF16Copy,
    /// Dynamic loss scaling: gradient unscaling and the scale's update (`loss_scale.wgsl`).
    LossScale,
    /// The fused LSTM cell, forward (`lstm_cell.wgsl`).
    LstmCell,
    /// The fused LSTM cell, backward (`lstm_cell_grad.wgsl`).
    LstmCellGrad,
    /// The fused GRU cell, forward (`gru_cell.wgsl`).
    GruCell,
    /// The fused GRU cell, backward (`gru_cell_grad.wgsl`).
    GruCellGrad,
    /// Fixed-order reductions and arg-reductions (`reduce.wgsl`).
    Reduce,
    /// Subgroup variant of the row reduction; needs `SUBGROUP` (`reduce_subgroup.wgsl`).
    ReduceSubgroup,
    /// Softmax and log-softmax over the last axis, forward and backward (`softmax.wgsl`).
    Softmax,
    /// Fused log-softmax + sparse cross-entropy (`softmax_xent.wgsl`).
    SoftmaxXent,
    /// Layer and batch norm, forward and backward (`norm.wgsl`).
    Norm,
    /// Max, average and global average pooling, forward and backward (`pool.wgsl`).
    Pool,
    /// [`Shader::Pool`] on f16 tensors (comparing and summing in f32); needs `SHADER_F16`.
    PoolF16,
    /// Random crop, flips and normalization of image batches (`augment.wgsl`).
    Augment,
    /// [`Shader::Random`] with dropout on f16 tensors; needs `SHADER_F16`.
    RandomF16,
    /// [`Shader::Augment`] on f16 images (computing in f32); needs `SHADER_F16`.
    AugmentF16,
    /// [`Shader::Unary`] reading its operand from a linear texture (`cpu/unary_texture.wgsl`).
    UnaryTexture,
    /// [`Shader::Binary`] reading its operands from linear textures (`cpu/binary_texture.wgsl`).
    BinaryTexture,
    /// The vec4 Adam step reading its inputs from linear textures (`cpu/optim_texture.wgsl`).
    OptimTexture,
    /// The max-pool passes reading from linear textures (`cpu/pool_texture.wgsl`).
    PoolTexture,
    /// The value reductions reading x from a linear texture (`cpu/reduce_texture.wgsl`).
    ReduceTexture,
}

impl Shader {
    /// Every module, for validation and warm-up.
    pub const ALL: &'static [Shader] = &[
        Shader::Unary,
        Shader::Binary,
        Shader::Ternary,
        Shader::UnaryF16,
        Shader::BinaryF16,
        Shader::TernaryF16,
        Shader::Copy,
        Shader::Fill,
        Shader::Random,
        Shader::Matmul,
        Shader::MatmulF16,
        Shader::MatmulF16F32,
        Shader::MatmulCoopF16,
        Shader::MatmulCoopF16F32,
        Shader::GemmUniform,
        Shader::GemmPack,
        Shader::GemmTexture,
        Shader::GemmSplitSum,
        Shader::ConvPack,
        Shader::ConvShift,
        Shader::Conv2d,
        Shader::Conv2dF16,
        Shader::Conv2dF16F32,
        Shader::CastF16,
        Shader::Index,
        Shader::Fault,
        Shader::Optim,
        Shader::OptimF16Copy,
        Shader::LossScale,
        Shader::LstmCell,
        Shader::LstmCellGrad,
        Shader::GruCell,
        Shader::GruCellGrad,
        Shader::Reduce,
        Shader::ReduceSubgroup,
        Shader::Softmax,
        Shader::SoftmaxXent,
        Shader::Norm,
        Shader::Pool,
        Shader::PoolF16,
        Shader::Augment,
        Shader::RandomF16,
        Shader::AugmentF16,
        Shader::UnaryTexture,
        Shader::BinaryTexture,
        Shader::OptimTexture,
        Shader::PoolTexture,
        Shader::ReduceTexture,
    ];

    /// The module's name: its op file.
    pub fn name(self) -> &'static str {
        match self {
            Shader::Unary => "unary.wgsl",
            Shader::Binary => "binary.wgsl",
            Shader::Ternary => "ternary.wgsl",
            Shader::UnaryF16 => "unary.wgsl (f16)",
            Shader::BinaryF16 => "binary.wgsl (f16)",
            Shader::TernaryF16 => "ternary.wgsl (f16)",
            Shader::Copy => "copy.wgsl",
            Shader::Fill => "fill.wgsl",
            Shader::Random => "random.wgsl",
            Shader::Matmul => "matmul.wgsl",
            Shader::MatmulF16 => "matmul.wgsl (f16)",
            Shader::MatmulF16F32 => "matmul.wgsl (f16 -> f32)",
            Shader::MatmulCoopF16 => "matmul_coop.wgsl (f16)",
            Shader::MatmulCoopF16F32 => "matmul_coop.wgsl (f16 -> f32)",
            Shader::GemmUniform => "cpu/gemm_uniform.wgsl",
            Shader::GemmPack => "cpu/gemm_pack.wgsl",
            Shader::GemmTexture => "cpu/gemm_texture.wgsl",
            Shader::GemmSplitSum => "cpu/gemm_split_sum.wgsl",
            Shader::ConvPack => "cpu/conv_pack.wgsl",
            Shader::ConvShift => "cpu/conv_shift.wgsl",
            Shader::Conv2d => "conv2d.wgsl",
            Shader::Conv2dF16 => "conv2d.wgsl (f16)",
            Shader::Conv2dF16F32 => "conv2d.wgsl (f16 -> f32)",
            Shader::CastF16 => "cast_f16.wgsl",
            Shader::Index => "index.wgsl",
            Shader::Fault => "fault.wgsl",
            Shader::Optim => "optim.wgsl",
            Shader::OptimF16Copy => "optim.wgsl (f16 copy)",
            Shader::LossScale => "loss_scale.wgsl",
            Shader::LstmCell => "lstm_cell.wgsl",
            Shader::LstmCellGrad => "lstm_cell_grad.wgsl",
            Shader::GruCell => "gru_cell.wgsl",
            Shader::GruCellGrad => "gru_cell_grad.wgsl",
            Shader::Reduce => "reduce.wgsl",
            Shader::ReduceSubgroup => "reduce_subgroup.wgsl",
            Shader::Softmax => "softmax.wgsl",
            Shader::SoftmaxXent => "softmax_xent.wgsl",
            Shader::Norm => "norm.wgsl",
            Shader::Pool => "pool.wgsl",
            Shader::PoolF16 => "pool.wgsl (f16)",
            Shader::Augment => "augment.wgsl",
            Shader::RandomF16 => "random.wgsl (f16)",
            Shader::AugmentF16 => "augment.wgsl (f16)",
            Shader::UnaryTexture => "cpu/unary_texture.wgsl",
            Shader::BinaryTexture => "cpu/binary_texture.wgsl",
            Shader::OptimTexture => "cpu/optim_texture.wgsl",
            Shader::PoolTexture => "cpu/pool_texture.wgsl",
            Shader::ReduceTexture => "cpu/reduce_texture.wgsl",
        }
    }

    /// The files that make up the module, in order: a file with an `enable` directive first,
    /// then shared parts, then the op file.
    pub fn parts(self) -> &'static [&'static str] {
        match self {
            Shader::Unary => &[src::ELEM_F32, src::MAP_COMMON, src::NAN, src::MATH, src::UNARY],
            Shader::Binary => &[src::ELEM_F32, src::MAP_COMMON, src::NAN, src::MATH, src::BINARY],
            Shader::Ternary => &[src::ELEM_F32, src::MAP_COMMON, src::TERNARY],
            Shader::UnaryF16 => &[src::ENABLE_F16, src::ELEM_F16, src::MAP_COMMON, src::NAN, src::MATH, src::UNARY],
            Shader::BinaryF16 => &[src::ENABLE_F16, src::ELEM_F16, src::MAP_COMMON, src::NAN, src::MATH, src::BINARY],
            Shader::TernaryF16 => &[src::ENABLE_F16, src::ELEM_F16, src::MAP_COMMON, src::TERNARY],
            Shader::Copy => &[src::MAP_COMMON, src::COPY],
            Shader::Fill => &[src::FILL],
            Shader::Random => &[src::ELEM_F32, src::NAN, src::RANDOM],
            Shader::RandomF16 => &[src::ENABLE_F16, src::ELEM_F16, src::NAN, src::RANDOM],
            Shader::Matmul => gemm_module!(src::MATMUL_PARAMS, src::MATMUL; src::GEMM_IN_F32, src::GEMM_OUT_F32),
            Shader::MatmulF16 => {
                gemm_module!(f16: src::MATMUL_PARAMS, src::MATMUL; src::GEMM_IN_F16, src::GEMM_OUT_F16)
            }
            Shader::MatmulF16F32 => {
                gemm_module!(f16: src::MATMUL_PARAMS, src::MATMUL; src::GEMM_IN_F16, src::GEMM_OUT_F32)
            }
            Shader::MatmulCoopF16 => coop_module!(src::GEMM_OUT_F16),
            Shader::MatmulCoopF16F32 => coop_module!(src::GEMM_OUT_F32),
            Shader::GemmUniform => &[src::NAN, src::MATH, src::GEMM_BLOCK, src::GEMM_UNIFORM],
            Shader::GemmTexture => &[src::LINEAR_TEXTURE, src::NAN, src::MATH, src::GEMM_BLOCK, src::GEMM_TEXTURE],
            Shader::GemmSplitSum => &[src::GEMM_SPLIT_SUM],
            Shader::GemmPack => &[src::GEMM_PACK],
            Shader::ConvPack => &[src::LINEAR_TEXTURE, src::CONV_PACK],
            Shader::ConvShift => &[src::LINEAR_TEXTURE, src::CONV_SHIFT],
            Shader::Conv2d => gemm_module!(src::CONV2D; src::GEMM_IN_F32, src::GEMM_OUT_F32),
            Shader::Conv2dF16 => gemm_module!(f16: src::CONV2D; src::GEMM_IN_F16, src::GEMM_OUT_F16),
            Shader::Conv2dF16F32 => gemm_module!(f16: src::CONV2D; src::GEMM_IN_F16, src::GEMM_OUT_F32),
            Shader::CastF16 => &[src::ENABLE_F16, src::CAST_F16, src::MAP_COMMON],
            Shader::Index => &[src::INDEX],
            Shader::Fault => &[src::FAULT],
            Shader::Optim => &[src::OPTIM_COPY_NONE, src::OPTIM],
            Shader::OptimF16Copy => &[src::ENABLE_F16, src::OPTIM_COPY_F16, src::OPTIM],
            Shader::LossScale => &[src::LOSS_SCALE],
            Shader::LstmCell => &[src::NAN, src::MATH, src::CELL_COMMON, src::LSTM_GATES, src::LSTM_CELL],
            Shader::LstmCellGrad => &[src::NAN, src::MATH, src::CELL_COMMON, src::LSTM_GATES, src::LSTM_CELL_GRAD],
            Shader::GruCell => &[src::NAN, src::MATH, src::CELL_COMMON, src::GRU_GATES, src::GRU_CELL],
            Shader::GruCellGrad => &[src::NAN, src::MATH, src::CELL_COMMON, src::GRU_GATES, src::GRU_CELL_GRAD],
            Shader::Reduce => &[src::NAN, src::REDUCE],
            Shader::ReduceSubgroup => &[src::NAN, src::REDUCE, src::REDUCE_SUBGROUP],
            Shader::Softmax => &[src::NAN, src::ROW_TREE, src::SOFTMAX],
            Shader::SoftmaxXent => &[src::NAN, src::ROW_TREE, src::SOFTMAX_XENT],
            Shader::Norm => &[src::NORM],
            Shader::Pool => &[src::ELEM_F32, src::NAN, src::POOL],
            Shader::PoolF16 => &[src::ENABLE_F16, src::ELEM_F16, src::NAN, src::POOL],
            Shader::Augment => &[src::ELEM_F32, src::NAN, src::AUGMENT],
            Shader::AugmentF16 => &[src::ENABLE_F16, src::ELEM_F16, src::NAN, src::AUGMENT],
            Shader::UnaryTexture => &[src::MAP_COMMON, src::NAN, src::MATH, src::LINEAR_TEXTURE, src::UNARY_TEXTURE],
            Shader::BinaryTexture => &[
                src::ELEM_F32,
                src::MAP_COMMON,
                src::NAN,
                src::MATH,
                src::BINARY,
                src::LINEAR_TEXTURE,
                src::BINARY_TEXTURE,
            ],
            Shader::OptimTexture => &[src::OPTIM_COPY_NONE, src::OPTIM, src::LINEAR_TEXTURE, src::OPTIM_TEXTURE],
            Shader::PoolTexture => &[src::ELEM_F32, src::NAN, src::POOL, src::LINEAR_TEXTURE, src::POOL_TEXTURE],
            Shader::ReduceTexture => &[src::NAN, src::REDUCE, src::LINEAR_TEXTURE, src::REDUCE_TEXTURE],
        }
    }

    /// Whether the module belongs to the software-adapter wing (`shaders/cpu/`): GPUs never
    /// compile it.
    pub fn is_cpu_wing(self) -> bool {
        self.name().starts_with("cpu/")
    }

    /// The composed WGSL text of the module.
    pub fn source(self) -> String {
        self.parts().join("\n")
    }

    /// Whether the module uses `enable f16;` and so needs `SHADER_F16`.
    pub fn needs_f16(self) -> bool {
        self.parts().first() == Some(&src::ENABLE_F16)
    }

    /// Whether the module uses subgroup operations and so needs `SUBGROUP`.
    pub fn needs_subgroups(self) -> bool {
        matches!(self, Shader::ReduceSubgroup)
    }

    /// Whether the module runs on cooperative matrices (wgpu's
    /// `EXPERIMENTAL_COOPERATIVE_MATRIX`, with subgroups exactly 32 wide).
    pub fn needs_coop(self) -> bool {
        self.parts().contains(&src::ENABLE_COOP)
    }
}
