//! The one place that embeds WGSL files (through the `shaders` symlink to the workspace's
//! `shaders/` folder, so `cargo package` still finds them).
//!
//! A shader *module* is one file, or a small shared file followed by the op's file: WGSL has no
//! `#include`, and the tiled GEMM core is shared by matmul and the three convolution passes.
//! Every composed module is validated by naga in the tests, exactly as it is compiled.
//!
//! `shaders/` holds what every adapter runs; `shaders/cpu/` is the software-adapter wing: the
//! GEMMs and packs of the CPU strategies, and the texture forms of streaming kernels, each
//! composed *after* the GPU file it reads from (its params and helpers), so a GPU never
//! compiles them.

/// The GPU GEMM: workgroup tiles and the register-blocked inner product loop, shared by matmul
/// and the convolutions.
pub const GEMM_TILED: &str = include_str!("../shaders/gemm_tiled.wgsl");
/// Elementwise unary ops; the `OP` pipeline constant selects one.
pub const UNARY: &str = include_str!("../shaders/unary.wgsl");
/// Broadcasting binary ops and unary-op gradients.
pub const BINARY: &str = include_str!("../shaders/binary.wgsl");
/// `where` and the PReLU gradients.
pub const TERNARY: &str = include_str!("../shaders/ternary.wgsl");
/// Elementwise parameter struct and strided indexing.
pub const MAP_COMMON: &str = include_str!("../shaders/map_common.wgsl");
/// NaN-propagating max, min and clamp (by the bits), shared by every kernel that selects by
/// comparison.
pub const NAN: &str = include_str!("../shaders/nan.wgsl");
/// Activation math shared by the elementwise kernels and the GEMM epilogues.
pub const MATH: &str = include_str!("../shaders/math.wgsl");
/// Strided copies and 4-byte casts.
pub const COPY: &str = include_str!("../shaders/copy.wgsl");
/// Constant and arange fills.
pub const FILL: &str = include_str!("../shaders/fill.wgsl");
/// Philox4x32-10 random fills and dropout.
pub const RANDOM: &str = include_str!("../shaders/random.wgsl");
/// The element type of the elementwise modules: f32.
pub const ELEM_F32: &str = include_str!("../shaders/elem_f32.wgsl");
/// The element type of the elementwise modules: f16.
pub const ELEM_F16: &str = include_str!("../shaders/elem_f16.wgsl");
/// `enable f16;`, first in every module that reads or writes f16.
pub const ENABLE_F16: &str = include_str!("../shaders/enable_f16.wgsl");
/// A GEMM's operands and bias as f32.
pub const GEMM_IN_F32: &str = include_str!("../shaders/gemm_in_f32.wgsl");
/// A GEMM's operands and bias as f16, widened to f32 as they are read.
pub const GEMM_IN_F16: &str = include_str!("../shaders/gemm_in_f16.wgsl");
/// A GEMM's output stored as f32.
pub const GEMM_OUT_F32: &str = include_str!("../shaders/gemm_out_f32.wgsl");
/// A GEMM's output rounded to f16.
pub const GEMM_OUT_F16: &str = include_str!("../shaders/gemm_out_f16.wgsl");
/// Batched matmul entry points on [`GEMM_TILED`], reading and writing through a `GEMM_IN_*`
/// and a `GEMM_OUT_*` part.
pub const MATMUL: &str = include_str!("../shaders/matmul.wgsl");
/// The parameters of a batched matmul, shared by [`MATMUL`] and [`MATMUL_COOP`].
pub const MATMUL_PARAMS: &str = include_str!("../shaders/matmul_params.wgsl");
/// Batched f16 matmul on cooperative matrices (tensor cores), through `GEMM_IN_F16` and a
/// `GEMM_OUT_*` part.
pub const MATMUL_COOP: &str = include_str!("../shaders/matmul_coop.wgsl");
/// `enable wgpu_cooperative_matrix;`, after [`ENABLE_F16`] in every module on cooperative
/// matrices.
pub const ENABLE_COOP: &str = include_str!("../shaders/enable_coop.wgsl");
/// CPU-adapter GEMM over uniform windows, and the pack that fills them.
pub const GEMM_UNIFORM: &str = include_str!("../shaders/cpu/gemm_uniform.wgsl");
/// The 8 x 16 register block and its outer product, shared by the CPU-adapter GEMMs.
pub const GEMM_BLOCK: &str = include_str!("../shaders/cpu/gemm_block.wgsl");
/// CPU-adapter GEMM over whole operands copied into textures.
pub const GEMM_TEXTURE: &str = include_str!("../shaders/cpu/gemm_texture.wgsl");
/// Adds up the partial C blocks of a split-K [`GEMM_TEXTURE`].
pub const GEMM_SPLIT_SUM: &str = include_str!("../shaders/cpu/gemm_split_sum.wgsl");
/// Packs a GEMM operand into the uniform windows of [`GEMM_UNIFORM`].
pub const GEMM_PACK: &str = include_str!("../shaders/cpu/gemm_pack.wgsl");
/// Packs a convolution operand (explicit im2col) into the uniform windows of [`GEMM_UNIFORM`].
pub const CONV_PACK: &str = include_str!("../shaders/cpu/conv_pack.wgsl");
/// Shifted copies of a stride-1 convolution's padded source, read by [`GEMM_TEXTURE`] as im2col.
pub const CONV_SHIFT: &str = include_str!("../shaders/cpu/conv_shift.wgsl");
/// Implicit-GEMM convolution passes on [`GEMM_TILED`].
pub const CONV2D: &str = include_str!("../shaders/conv2d.wgsl");
/// f16 casts and copies (composed after [`ENABLE_F16`]).
pub const CAST_F16: &str = include_str!("../shaders/cast_f16.wgsl");
/// Embedding, gather, their gradients and one-hot.
pub const INDEX: &str = include_str!("../shaders/index.wgsl");
/// Device-side index and finiteness checks that report through the fault record.
pub const FAULT: &str = include_str!("../shaders/fault.wgsl");
/// Dynamic loss scaling: unscaling gradients and updating the scale on the device.
pub const LOSS_SCALE: &str = include_str!("../shaders/loss_scale.wgsl");
/// What the fused recurrent cells share: parameters and activations (after [`NAN`], [`MATH`]).
pub const CELL_COMMON: &str = include_str!("../shaders/cell_common.wgsl");
/// The LSTM cell kernels' inputs and gate activations (after [`CELL_COMMON`]).
pub const LSTM_GATES: &str = include_str!("../shaders/lstm_gates.wgsl");
/// The GRU cell kernels' inputs and gate activations (after [`CELL_COMMON`]).
pub const GRU_GATES: &str = include_str!("../shaders/gru_gates.wgsl");
/// The fused LSTM cell's forward step (composed after [`LSTM_GATES`]).
pub const LSTM_CELL: &str = include_str!("../shaders/lstm_cell.wgsl");
/// The fused LSTM cell's backward step (composed after [`LSTM_GATES`]).
pub const LSTM_CELL_GRAD: &str = include_str!("../shaders/lstm_cell_grad.wgsl");
/// The fused GRU cell's forward step (composed after [`GRU_GATES`]).
pub const GRU_CELL: &str = include_str!("../shaders/gru_cell.wgsl");
/// The fused GRU cell's backward step (composed after [`GRU_GATES`]).
pub const GRU_CELL_GRAD: &str = include_str!("../shaders/gru_cell_grad.wgsl");
/// Fused optimizer updates, composed after an `OPTIM_COPY_*` part.
pub const OPTIM: &str = include_str!("../shaders/optim.wgsl");
/// The f16 copy an [`OPTIM`] update refreshes: none (plain training).
pub const OPTIM_COPY_NONE: &str = include_str!("../shaders/optim_copy_none.wgsl");
/// The f16 copy an [`OPTIM`] update refreshes: the parameter's, at binding 7 (mixed precision).
pub const OPTIM_COPY_F16: &str = include_str!("../shaders/optim_copy_f16.wgsl");
/// Reductions over the middle axis of `[outer, r, inner]`.
pub const REDUCE: &str = include_str!("../shaders/reduce.wgsl");
/// Subgroup row reduction, composed after `REDUCE`.
pub const REDUCE_SUBGROUP: &str = include_str!("../shaders/reduce_subgroup.wgsl");
/// Workgroup tree max/sum shared by the softmax row kernels.
pub const ROW_TREE: &str = include_str!("../shaders/row_tree.wgsl");
/// Softmax and log-softmax rows, composed after [`ROW_TREE`].
pub const SOFTMAX: &str = include_str!("../shaders/softmax.wgsl");
/// Fused log-softmax + cross-entropy rows, composed after [`ROW_TREE`].
pub const SOFTMAX_XENT: &str = include_str!("../shaders/softmax_xent.wgsl");
/// Layer and batch norm.
pub const NORM: &str = include_str!("../shaders/norm.wgsl");
/// The texel addressing of operands copied linearly into textures (streaming kernels).
pub const LINEAR_TEXTURE: &str = include_str!("../shaders/cpu/linear_texture.wgsl");
/// 2-D pooling.
pub const POOL: &str = include_str!("../shaders/pool.wgsl");
/// Image batch augmentation.
pub const AUGMENT: &str = include_str!("../shaders/augment.wgsl");
/// [`UNARY`] reading its operand from a linear texture (software adapters).
pub const UNARY_TEXTURE: &str = include_str!("../shaders/cpu/unary_texture.wgsl");
/// [`BINARY`] reading its operands from linear textures (software adapters).
pub const BINARY_TEXTURE: &str = include_str!("../shaders/cpu/binary_texture.wgsl");
/// The vec4 Adam step of [`OPTIM`] reading its inputs from linear textures (software adapters).
pub const OPTIM_TEXTURE: &str = include_str!("../shaders/cpu/optim_texture.wgsl");
/// The max-pool passes of [`POOL`] reading from linear textures (software adapters).
pub const POOL_TEXTURE: &str = include_str!("../shaders/cpu/pool_texture.wgsl");
/// The value reductions of [`REDUCE`] reading x from a linear texture (software adapters).
pub const REDUCE_TEXTURE: &str = include_str!("../shaders/cpu/reduce_texture.wgsl");

/// Every WGSL file, by its path under `shaders/`, for the validation test (which fails if this list is empty or
/// misses a file in `shaders/`).
pub const FILES: &[(&str, &str)] = &[
    ("gemm_tiled.wgsl", GEMM_TILED),
    ("unary.wgsl", UNARY),
    ("binary.wgsl", BINARY),
    ("ternary.wgsl", TERNARY),
    ("map_common.wgsl", MAP_COMMON),
    ("math.wgsl", MATH),
    ("nan.wgsl", NAN),
    ("copy.wgsl", COPY),
    ("fill.wgsl", FILL),
    ("random.wgsl", RANDOM),
    ("matmul.wgsl", MATMUL),
    ("matmul_params.wgsl", MATMUL_PARAMS),
    ("matmul_coop.wgsl", MATMUL_COOP),
    ("enable_coop.wgsl", ENABLE_COOP),
    ("enable_f16.wgsl", ENABLE_F16),
    ("elem_f32.wgsl", ELEM_F32),
    ("elem_f16.wgsl", ELEM_F16),
    ("gemm_in_f32.wgsl", GEMM_IN_F32),
    ("gemm_in_f16.wgsl", GEMM_IN_F16),
    ("gemm_out_f32.wgsl", GEMM_OUT_F32),
    ("gemm_out_f16.wgsl", GEMM_OUT_F16),
    ("cpu/gemm_uniform.wgsl", GEMM_UNIFORM),
    ("cpu/gemm_pack.wgsl", GEMM_PACK),
    ("cpu/gemm_block.wgsl", GEMM_BLOCK),
    ("cpu/gemm_texture.wgsl", GEMM_TEXTURE),
    ("cpu/gemm_split_sum.wgsl", GEMM_SPLIT_SUM),
    ("cpu/conv_pack.wgsl", CONV_PACK),
    ("cpu/conv_shift.wgsl", CONV_SHIFT),
    ("conv2d.wgsl", CONV2D),
    ("cast_f16.wgsl", CAST_F16),
    ("index.wgsl", INDEX),
    ("fault.wgsl", FAULT),
    ("optim.wgsl", OPTIM),
    ("optim_copy_none.wgsl", OPTIM_COPY_NONE),
    ("optim_copy_f16.wgsl", OPTIM_COPY_F16),
    ("loss_scale.wgsl", LOSS_SCALE),
    ("cell_common.wgsl", CELL_COMMON),
    ("lstm_gates.wgsl", LSTM_GATES),
    ("gru_gates.wgsl", GRU_GATES),
    ("lstm_cell.wgsl", LSTM_CELL),
    ("lstm_cell_grad.wgsl", LSTM_CELL_GRAD),
    ("gru_cell.wgsl", GRU_CELL),
    ("gru_cell_grad.wgsl", GRU_CELL_GRAD),
    ("reduce.wgsl", REDUCE),
    ("reduce_subgroup.wgsl", REDUCE_SUBGROUP),
    ("row_tree.wgsl", ROW_TREE),
    ("softmax.wgsl", SOFTMAX),
    ("softmax_xent.wgsl", SOFTMAX_XENT),
    ("norm.wgsl", NORM),
    ("pool.wgsl", POOL),
    ("cpu/linear_texture.wgsl", LINEAR_TEXTURE),
    ("augment.wgsl", AUGMENT),
    ("cpu/unary_texture.wgsl", UNARY_TEXTURE),
    ("cpu/binary_texture.wgsl", BINARY_TEXTURE),
    ("cpu/optim_texture.wgsl", OPTIM_TEXTURE),
    ("cpu/pool_texture.wgsl", POOL_TEXTURE),
    ("cpu/reduce_texture.wgsl", REDUCE_TEXTURE),
];
