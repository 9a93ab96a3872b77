//! Tensor ops, one module per family. Each validates on the host (returning `Result` with both
//! shapes on mismatch), then records its kernel(s); none waits for the GPU.

mod augment;
mod checks;
mod conv;
mod copy;
mod elementwise;
mod index;
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
pub use matmul::MatmulOptions;
pub use norm::{BatchNormOutput, LayerNormOutput, NormGrads};
pub use optim::{AdagradParams, AdamParams, RmspropParams, SgdParams, adagrad_step, adam_step, rmsprop_step, sgd_step};
pub use pool::{MaxPool2dOutput, Pool2dOptions};
pub use reduce::ReduceOp;
pub use softmax::XentOptions;

use wgtrain_kernels::ops::map::Operand;

use crate::tensor::Tensor;

/// The strided operand of `t` viewed with `shape`'s rank (t already broadcast to `shape`).
pub(crate) fn operand(t: &Tensor) -> Operand {
    Operand { offset: t.offset, strides: t.strides.clone() }
}
