//! Metrics. (Interface only on this branch; the implementations land with `train-optim`.)

use wgtrain_tensor::Tensor;

use crate::error::Result;

/// A quantity accumulated on the GPU over batches and read back by `result`.
pub trait Metric: Send {
    fn name(&self) -> String;
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()>;
    fn result(&self) -> Result<f32>;
    fn reset(&mut self);
}
