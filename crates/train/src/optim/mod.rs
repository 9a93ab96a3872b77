//! Optimizers, gradient clipping and learning-rate schedules.
//!
//! Every optimizer runs the foundation's fused update kernel: one dispatch per parameter
//! tensor, updating the parameter and its state in place, with nothing read back. State
//! tensors are created on a parameter's first step and keyed by the parameter's name, so a
//! checkpoint restores them onto the right tensors.

/// The `Optimizer` methods every optimizer here shares: its learning rate lives in `self.hp.lr`,
/// its step count in `self.step`, its state in `self.slots` (slot names `SLOTS`, kind `$kind`).
macro_rules! shared_methods {
    (field $kind:ident) => {
        shared_methods!(@with self, self.$kind);
    };
    ($kind:literal) => {
        shared_methods!(@with self, $kind);
    };
    (@with $self:ident, $kind:expr) => {
        fn learning_rate(&$self) -> f32 {
            $self.hp.lr
        }
        fn set_learning_rate(&mut $self, lr: f32) -> Result<()> {
            check::learning_rate($kind, lr)?;
            $self.hp.lr = lr;
            Ok(())
        }
        fn load_state(&mut $self, state: &OptimizerState) -> Result<()> {
            $self.slots.import($kind, SLOTS, state)?;
            $self.step = state.step;
            Ok(())
        }
    };
}

/// The `Optimizer` methods a wrapping optimizer (a loss scale, a distributed sum) passes straight
/// to the optimizer it wraps, `self.$inner`.
macro_rules! delegate_hyperparameters {
    ($inner:ident) => {
        fn learning_rate(&self) -> f32 {
            self.$inner.learning_rate()
        }
        fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
            self.$inner.set_learning_rate(lr)
        }
        fn validate(&self) -> Result<()> {
            self.$inner.validate()
        }
    };
}
pub(crate) use delegate_hyperparameters;

mod adagrad;
mod adam;
mod check;
mod clip;
mod from_config;
mod loss_scale;
mod rmsprop;
mod schedule;
mod sgd;
mod slots;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use clip::{GradClip, global_norm};
pub(crate) use from_config::optimizer_from_config;
pub use loss_scale::LossScaleOptimizer;
pub use rmsprop::Rmsprop;
pub use schedule::{
    Constant, CosineAnnealing, CyclicLr, CyclicMode, ExponentialDecay, InverseTimeDecay, OneCycle, PiecewiseConstant,
    StepDecay, Warmup,
};
pub use sgd::Sgd;

use wgtrain_tensor::{DType, LossScale, Tensor, UpdateOptions};

use crate::error::{Result, TrainError};
use crate::param::Param;

/// Updates parameters from their gradients.
///
/// `Model::compile` takes one; in a custom loop, call [`step`](Self::step) after `backward`
/// and clear the gradients yourself (they accumulate across backward passes):
///
/// ```no_run
/// use wgtrain::prelude::*;
/// # fn main() -> wgtrain::Result<()> {
/// let dev = Device::new()?;
/// // Fit y = x . [1, 2, 3] + 0.5 by linear regression.
/// let w = Var::parameter(Tensor::rand_normal(&dev, &[3, 1], 0.0, 0.1, 7)?);
/// let b = Var::parameter(Tensor::zeros(&dev, &[1], DType::F32)?);
/// let params = vec![Param::new("w", w.clone()), Param::new("b", b.clone())];
/// let mut opt = Sgd::new(0.1).momentum(0.9);
/// let x = Var::constant(Tensor::rand_uniform(&dev, &[128, 3], -1.0, 1.0, 1)?);
/// let true_w = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0], &[3, 1])?;
/// let y = Var::constant(x.data().matmul(&true_w)?.add_scalar(0.5)?);
/// for _ in 0..200 {
///     let loss = x.matmul(&w)?.add(&b)?.sub(&y)?.square()?.mean_all()?;
///     loss.backward()?;
///     opt.step(&params)?;
///     params.iter().for_each(|p| p.var.zero_grad());
/// }
/// println!("w = {:?}, b = {:?}", w.to_vec()?, b.to_vec()?);
/// # Ok(()) }
/// ```
pub trait Optimizer: Send {
    /// Updates every param that has a gradient (params without one, or frozen, are skipped),
    /// one fused dispatch per tensor, after this optimizer's gradient clipping. Never reads
    /// anything back to the host.
    fn step(&mut self, params: &[Param]) -> Result<()>;
    /// [`step`](Self::step) guarded by a loss scale: each update skips itself on the device
    /// when the scale flagged this step's gradients as not finite ([`LossScaleOptimizer`]
    /// passes its scale here). The built-in optimizers pass the guard to their fused kernels;
    /// the default runs `step` unguarded and refuses a guard.
    fn step_guarded(&mut self, params: &[Param], guard: Option<&LossScale>) -> Result<()> {
        match guard {
            None => self.step(params),
            Some(_) => Err(TrainError::Config {
                what: "optimizer".into(),
                why: "this optimizer cannot skip a step on the device (no step_guarded): wrap a built-in one".into(),
            }),
        }
    }
    /// The loss scale this optimizer applies, if any (mixed precision): `train_step` and `fit`
    /// multiply the loss by it before `backward`.
    fn loss_scale(&self) -> Option<&LossScale> {
        None
    }
    /// Unscales the gradients in place ahead of [`step`](Self::step), for code that reads them
    /// first (gradient-norm logging, clipping by hand); `step` then does not unscale them
    /// again. Nothing to do without a loss scale.
    fn unscale_grads(&mut self, params: &[Param]) -> Result<()> {
        let _ = params;
        Ok(())
    }
    /// The current learning rate.
    fn learning_rate(&self) -> f32;
    /// Sets the learning rate used by the next `step` (schedules and callbacks call this); a
    /// NaN, infinite or negative rate is refused (`TrainError::Hyperparameter`) and the rate
    /// stays as it was.
    fn set_learning_rate(&mut self, lr: f32) -> Result<()>;
    /// Checks every hyper-parameter's range (the learning rate finite and >= 0, betas in
    /// [0, 1), eps > 0, ...). `step` calls it before updating anything and `fit` before its
    /// first batch; the default checks the learning rate only.
    fn validate(&self) -> Result<()> {
        check::learning_rate("optimizer", self.learning_rate())
    }
    /// Everything needed to resume exactly: kind, step count, hyper-parameters, and state
    /// tensors named `<param name>/<slot>` (e.g. `dense_1/kernel/m`).
    fn state(&self) -> OptimizerState;
    /// Restores `state`, validating the kind and the tensor names (shapes are checked against
    /// the parameters at the next step), with an error naming what differs.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()>;
}

/// An optimizer's resumable state.
#[derive(Debug, Clone)]
pub struct OptimizerState {
    /// Optimizer kind (`"SGD"`, `"Adam"`, `"AdamW"`, `"RMSprop"`, `"Adagrad"`); must match on load.
    pub kind: String,
    /// Steps taken by the optimizer.
    pub step: u64,
    /// Updates of each parameter (Adam's bias corrections and SGD's first momentum step go by
    /// these, as PyTorch's per-parameter `step`); a parameter with state but no count here is
    /// taken to be at `step`.
    pub param_steps: Vec<(String, u64)>,
    /// Hyper-parameters as JSON, for the checkpoint (informational on load).
    pub hyper: serde_json::Value,
    /// State tensors named `<param name>/<slot>`.
    pub tensors: Vec<(String, Tensor)>,
}

/// A learning rate as a function of a counter: a step or an epoch index (the caller decides,
/// see `callbacks::LearningRateScheduler`).
pub trait LrSchedule: Send + Sync {
    /// The learning rate at counter `t` (a 0-based epoch or a global step count).
    fn lr(&self, t: u64) -> f32;
}

/// The params `step` updates: trainable, with a gradient.
pub(crate) fn updatable(params: &[Param]) -> impl Iterator<Item = (&Param, Tensor)> {
    params.iter().filter(|p| p.var.requires_grad()).filter_map(|p| p.var.grad().map(|g| (p, g)))
}

/// Updates `p` in place with `update` (a `*_step` of `wgtrain_tensor`), guarded by `guard`.
/// When the parameter keeps a current f16 copy (its layers compute in f16: see
/// `wgtrain_autograd`'s `cast_copy`), the same dispatch rewrites the copy, and the parameter is
/// told so: the next forward pass casts no weight.
pub(crate) fn update_in_place(
    p: &Param,
    guard: Option<&LossScale>,
    update: impl FnOnce(&Tensor, UpdateOptions) -> wgtrain_tensor::Result<()>,
) -> Result<()> {
    let copy = p.var.current_copy(DType::F16);
    update(p.var.data(), UpdateOptions { guard, f16_copy: copy.as_ref() })?;
    if copy.is_some() {
        p.var.copy_rewritten();
    }
    Ok(())
}

/// A boxed optimizer is an optimizer (choose one at run time, then `compile`).
impl<T: Optimizer + ?Sized> Optimizer for Box<T> {
    fn step(&mut self, params: &[Param]) -> Result<()> {
        (**self).step(params)
    }
    fn step_guarded(&mut self, params: &[Param], guard: Option<&LossScale>) -> Result<()> {
        (**self).step_guarded(params, guard)
    }
    fn loss_scale(&self) -> Option<&LossScale> {
        (**self).loss_scale()
    }
    fn unscale_grads(&mut self, params: &[Param]) -> Result<()> {
        (**self).unscale_grads(params)
    }
    fn learning_rate(&self) -> f32 {
        (**self).learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        (**self).set_learning_rate(lr)
    }
    fn validate(&self) -> Result<()> {
        (**self).validate()
    }
    fn state(&self) -> OptimizerState {
        (**self).state()
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        (**self).load_state(state)
    }
}
