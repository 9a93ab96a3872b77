//! Horovod's `DistributedOptimizer`: any optimizer, its step preceded by the gradient sum over
//! processes. Wrap the whole optimizer, a [`LossScaleOptimizer`] included: the scaled gradients
//! are summed first (an overflow on any rank reaches every rank), then unscaled, so every
//! replica skips or takes the same steps.
//!
//! [`LossScaleOptimizer`]: crate::optim::LossScaleOptimizer

use wgtrain_tensor::LossScale;

use super::Distributed;
use crate::error::Result;
use crate::optim::{Optimizer, OptimizerState, delegate_hyperparameters};
use crate::param::Param;

/// An optimizer whose every step first sums the gradients over the processes of a
/// [`Distributed`] group (and divides by their number).
pub struct DistributedOptimizer<O: Optimizer> {
    inner: O,
    dist: Distributed,
    /// The gradients of this step were summed already (by `unscale_grads`, before a norm).
    summed: bool,
}

impl<O: Optimizer> DistributedOptimizer<O> {
    /// `inner`, stepping on gradients summed over `dist`.
    pub fn new(inner: O, dist: &Distributed) -> Self {
        DistributedOptimizer { inner, dist: dist.clone(), summed: false }
    }
    /// The wrapped optimizer.
    pub fn inner(&mut self) -> &mut O {
        &mut self.inner
    }

    /// Sums this step's gradients over the processes, unless done already.
    fn sum_once(&mut self, params: &[Param]) -> Result<()> {
        if !self.summed {
            self.dist.all_reduce_grads(params)?;
            self.summed = true;
        }
        Ok(())
    }
}

impl<O: Optimizer> Optimizer for DistributedOptimizer<O> {
    fn step(&mut self, params: &[Param]) -> Result<()> {
        self.sum_once(params)?;
        self.summed = false;
        self.inner.step(params)
    }
    fn step_guarded(&mut self, params: &[Param], guard: Option<&LossScale>) -> Result<()> {
        self.sum_once(params)?;
        self.summed = false;
        self.inner.step_guarded(params, guard)
    }
    fn loss_scale(&self) -> Option<&LossScale> {
        self.inner.loss_scale()
    }
    /// Sums first: an overflow on any process must reach every process before the finite
    /// check, or one would skip the step another takes.
    fn unscale_grads(&mut self, params: &[Param]) -> Result<()> {
        self.sum_once(params)?;
        self.inner.unscale_grads(params)
    }
    delegate_hyperparameters!(inner);
    fn state(&self) -> OptimizerState {
        self.inner.state()
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        self.inner.load_state(state)
    }
}
