//! Optimizers, gradient clipping and learning-rate schedules.
//! (Interface only on this branch; the implementations land with the `train-optim` branch.)

use wgtrain_tensor::Tensor;

use crate::error::Result;
use crate::param::Param;

/// Updates parameters from their gradients.
pub trait Optimizer: Send {
    /// Updates every param that has a gradient, one fused dispatch per tensor, after clipping.
    fn step(&mut self, params: &[Param]) -> Result<()>;
    fn learning_rate(&self) -> f32;
    fn set_learning_rate(&mut self, lr: f32);
    /// Everything needed to resume exactly.
    fn state(&self) -> OptimizerState;
    /// Restores `state`, validating kind, names and shapes.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()>;
}

/// An optimizer's resumable state.
#[derive(Debug, Clone)]
pub struct OptimizerState {
    pub kind: String,
    pub step: u64,
    pub hyper: serde_json::Value,
    pub tensors: Vec<(String, Tensor)>,
}

/// A learning rate as a function of a step or epoch counter.
pub trait LrSchedule: Send + Sync {
    fn lr(&self, t: u64) -> f32;
}
