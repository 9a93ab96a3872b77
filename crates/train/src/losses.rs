//! Losses. (Interface only on this branch; the implementations land with `train-optim`.)

use wgtrain_autograd::Var;
use wgtrain_tensor::Tensor;

use crate::error::Result;

/// A training objective: the scalar mean loss of a batch.
pub trait Loss: Send + Sync {
    fn name(&self) -> &str;
    fn forward(&self, pred: &Var, target: &Tensor, sample_weight: Option<&Tensor>) -> Result<Var>;
}
