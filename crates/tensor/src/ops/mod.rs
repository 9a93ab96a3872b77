//! Tensor ops, one module per family. Each validates on the host (returning `Result` with both
//! shapes on mismatch), then records its kernel(s); none waits for the GPU.

mod conv;
mod copy;
mod elementwise;
mod matmul;
mod norm;
mod pool;

pub use conv::Conv2dOptions;
pub use matmul::MatmulOptions;
pub use norm::{BatchNormOutput, LayerNormOutput, NormGrads};
pub use pool::{MaxPool2dOutput, Pool2dOptions};

use wgtrain_kernels::ops::map::Operand;

use crate::tensor::Tensor;

/// The strided operand of `t` viewed with `shape`'s rank (t already broadcast to `shape`).
pub(crate) fn operand(t: &Tensor) -> Operand {
    Operand { offset: t.offset, strides: t.strides.clone() }
}
