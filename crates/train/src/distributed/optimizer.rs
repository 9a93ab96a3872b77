//! Horovod's `DistributedOptimizer`: any optimizer, its step preceded by the gradient sum over
//! processes. Wrap the whole optimizer, a [`LossScaleOptimizer`] included: the scaled gradients
//! are summed first (an overflow on any rank reaches every rank), then unscaled, so every
//! replica skips or takes the same steps.
//!
//! [`LossScaleOptimizer`]: crate::optim::LossScaleOptimizer

use wgtrain_tensor::LossScale;

use super::Distributed;
use crate::error::Result;
use crate::optim::{Optimizer, OptimizerState};
use crate::param::Param;

/// An optimizer whose every step first sums the gradients over the processes of a
/// [`Distributed`] group (and divides by their number).
pub struct DistributedOptimizer<O: Optimizer> {
    inner: O,
    dist: Distributed,
}

impl<O: Optimizer> DistributedOptimizer<O> {
    /// `inner`, stepping on gradients summed over `dist`.
    pub fn new(inner: O, dist: &Distributed) -> Self {
        DistributedOptimizer { inner, dist: dist.clone() }
    }
    /// The wrapped optimizer.
    pub fn inner(&mut self) -> &mut O {
        &mut self.inner
    }
}

impl<O: Optimizer> Optimizer for DistributedOptimizer<O> {
    fn step(&mut self, params: &[Param]) -> Result<()> {
        self.dist.all_reduce_grads(params)?;
        self.inner.step(params)
    }
    fn step_guarded(&mut self, params: &[Param], guard: Option<&LossScale>) -> Result<()> {
        self.dist.all_reduce_grads(params)?;
        self.inner.step_guarded(params, guard)
    }
    fn loss_scale(&self) -> Option<&LossScale> {
        self.inner.loss_scale()
    }
    fn unscale_grads(&mut self, params: &[Param]) -> Result<()> {
        self.inner.unscale_grads(params)
    }
    fn learning_rate(&self) -> f32 {
        self.inner.learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        self.inner.set_learning_rate(lr)
    }
    fn validate(&self) -> Result<()> {
        self.inner.validate()
    }
    fn state(&self) -> OptimizerState {
        self.inner.state()
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        self.inner.load_state(state)
    }
}
