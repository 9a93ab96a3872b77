//! Tensor ops, one module per family. Each validates on the host (returning `Result` with both
//! shapes on mismatch), then records its kernel(s); none waits for the GPU.

mod augment;
mod cells;
mod checks;
mod conv;
mod copy;
mod elementwise;
mod index;
mod loss_scale;
mod matmul;
mod norm;
mod optim;
mod pool;
mod reduce;
mod rows;
mod softmax;

pub use augment::AugmentOptions;
pub(crate) use checks::ignore_bits;
pub use conv::Conv2dOptions;
pub use loss_scale::{DEFAULT_GROWTH_INTERVAL, DEFAULT_INITIAL_SCALE, LossScale, LossScaleState};
pub use matmul::MatmulOptions;
pub use norm::{BatchNormOutput, LayerNormOutput, NormGrads};
pub use optim::{
    AdagradParams, AdamParams, RmspropParams, SgdParams, UpdateOptions, adagrad_step, adam_step, rmsprop_step, sgd_step,
};
pub use pool::{MaxPool2dOutput, Pool2dOptions};
pub use reduce::ReduceOp;
pub use softmax::XentOptions;

use wgtrain_kernels::ops::map::Operand;
use wgtrain_kernels::ops::matmul::GemmPrecision;

use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// The strided operand of `t` viewed with `shape`'s rank (t already broadcast to `shape`).
pub(crate) fn operand(t: &Tensor) -> Operand {
    Operand { offset: t.offset, strides: t.strides.clone() }
}

/// The precision of a GEMM-shaped op (matmul, the convolutions) on `lhs` and `rhs` storing
/// `out` (default: the operands' dtype): both operands f32, or both f16 on an adapter with
/// `SHADER_F16`, storing f16 or f32.
pub(crate) fn gemm_precision(
    op: &'static str,
    lhs: &Tensor,
    rhs: &Tensor,
    out: Option<DType>,
) -> Result<GemmPrecision> {
    rhs.expect_dtype(op, lhs.dtype())?;
    let f16 = lhs.expect_float(op)?;
    let precision = match (f16, out.unwrap_or(lhs.dtype())) {
        (false, DType::F32) => GemmPrecision::F32,
        (true, DType::F16) => GemmPrecision::F16,
        (true, DType::F32) => GemmPrecision::F16ToF32,
        (_, output) => {
            let why = format!("{:?} operands give f32, or (f16 operands) f16 or f32, not {output:?}", lhs.dtype());
            return Err(TensorError::Argument { op, why });
        }
    };
    Ok(precision)
}
