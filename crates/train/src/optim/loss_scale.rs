//! Keras' `LossScaleOptimizer`: dynamic loss scaling around any built-in optimizer, decided on
//! the device (`wgtrain_tensor::LossScale`), so mixed-precision training never waits for the
//! host to learn whether a step overflowed.

use serde_json::json;
use wgtrain_tensor::{Device, LossScale, LossScaleState};

use super::{Optimizer, OptimizerState, updatable};
use crate::error::{Result, TrainError};
use crate::param::Param;

/// Wraps an optimizer with a dynamic loss scale (Keras' rule: start at 2^15, halve and skip the
/// update when any gradient is not finite, double after 2,000 finite steps).
///
/// `Model::train_step` and `fit` multiply the loss by the scale before `backward`; a custom
/// loop does so itself with [`LossScaleOptimizer::scale`]. `step` then unscales the gradients,
/// runs the inner optimizer with the scale as its guard (on a non-finite step every update
/// skips itself, on the device) and updates the scale. The scale and its counters are part of
/// the optimizer's checkpoint state, so a run resumes where it was; a checkpoint without them
/// (an f32 run) resumes with a fresh scale, and the inner optimizer alone resumes from a mixed
/// one.
///
/// ```no_run
/// use wgtrain::prelude::*;
/// # fn main() -> wgtrain::Result<()> {
/// let dev = Device::new()?;
/// let w = Var::parameter(Tensor::rand_normal(&dev, &[3, 1], 0.0, 0.1, 7)?);
/// let params = vec![Param::new("w", w.clone())];
/// let mut opt = LossScaleOptimizer::new(Adam::new(1e-2), &dev)?;
/// let x = Var::constant(Tensor::rand_uniform(&dev, &[64, 3], -1.0, 1.0, 1)?);
/// for _ in 0..100 {
///     let loss = x.matmul(&w)?.square()?.mean_all()?;
///     opt.scale(&loss)?.backward()?;
///     opt.step(&params)?;
///     params.iter().for_each(|p| p.var.zero_grad());
/// }
/// println!("loss scale now {}", opt.scale_state()?.scale);
/// # Ok(()) }
/// ```
pub struct LossScaleOptimizer {
    inner: Box<dyn Optimizer>,
    scale: LossScale,
    /// The gradients of this step were unscaled already (`unscale_grads`).
    unscaled: bool,
}

impl LossScaleOptimizer {
    /// `inner` with Keras' dynamic loss scale on `device`.
    pub fn new(inner: impl Optimizer + 'static, device: &Device) -> Result<LossScaleOptimizer> {
        Ok(LossScaleOptimizer::from_parts(Box::new(inner), LossScale::new(device)?))
    }

    /// `inner` with a loss scale starting at `initial` and doubling after `growth_interval`
    /// finite steps.
    pub fn with_scale(
        inner: impl Optimizer + 'static,
        device: &Device,
        initial: f32,
        growth_interval: u32,
    ) -> Result<LossScaleOptimizer> {
        let state = LossScaleState { scale: initial, good_steps: 0, skipped: 0 };
        Ok(LossScaleOptimizer::from_parts(Box::new(inner), LossScale::with_state(device, state, growth_interval)?))
    }

    /// `inner` with `scale` (built already, so wrapping cannot fail).
    pub(crate) fn from_parts(inner: Box<dyn Optimizer>, scale: LossScale) -> LossScaleOptimizer {
        LossScaleOptimizer { inner, scale, unscaled: false }
    }

    /// `loss` times the scale: call `backward` on this one.
    pub fn scale(&self, loss: &wgtrain_autograd::Var) -> Result<wgtrain_autograd::Var> {
        Ok(loss.mul(&wgtrain_autograd::Var::constant(self.scale.scale()?))?)
    }

    /// The scale and its counters (a read-back: call it when logging).
    pub fn scale_state(&self) -> Result<LossScaleState> {
        Ok(self.scale.read()?)
    }

    /// Divides every gradient `step` will use by the scale, flagging a non-finite one.
    fn unscale_all(&self, params: &[Param]) -> Result<()> {
        updatable(params).try_for_each(|(_, g)| Ok(self.scale.unscale(&g)?))
    }

    /// The wrapped optimizer.
    pub fn inner(&self) -> &dyn Optimizer {
        self.inner.as_ref()
    }
}

/// Reads a loss scale's state out of an optimizer checkpoint's hyper-parameters.
fn saved_scale(state: &OptimizerState) -> Result<Option<(LossScaleState, u32)>> {
    let Some(s) = state.hyper.get("loss_scale") else { return Ok(None) };
    let bad = |why: String| TrainError::Config { what: "loss scale checkpoint".into(), why };
    let number = |key: &str| s.get(key).and_then(serde_json::Value::as_f64).ok_or_else(|| bad(format!("{key}: {s}")));
    let count = |key: &str| {
        let v = number(key)?;
        (v >= 0.0 && v <= u32::MAX as f64 && v.fract() == 0.0)
            .then_some(v as u32)
            .ok_or_else(|| bad(format!("{key}: {v}")))
    };
    let scale =
        LossScaleState { scale: number("scale")? as f32, good_steps: count("good_steps")?, skipped: count("skipped")? };
    Ok(Some((scale, count("growth_interval")?)))
}

impl Optimizer for LossScaleOptimizer {
    fn step(&mut self, params: &[Param]) -> Result<()> {
        // Whatever happens, the next step's gradients are unscaled afresh.
        let unscaled = std::mem::replace(&mut self.unscaled, false);
        self.inner.validate()?;
        if !unscaled {
            self.unscale_all(params)?;
        }
        self.inner.step_guarded(params, Some(&self.scale))?;
        Ok(self.scale.update()?)
    }
    fn loss_scale(&self) -> Option<&LossScale> {
        Some(&self.scale)
    }
    fn unscale_grads(&mut self, params: &[Param]) -> Result<()> {
        if !self.unscaled {
            self.unscale_all(params)?;
            self.unscaled = true;
        }
        Ok(())
    }
    delegate_hyperparameters!(inner);
    /// The inner optimizer's state, with the loss scale in `hyper["loss_scale"]` (read back
    /// from the device; left out if that fails, as the rest of the save then does too).
    fn state(&self) -> OptimizerState {
        let mut state = self.inner.state();
        if let (Ok(s), Some(hyper)) = (self.scale.read(), state.hyper.as_object_mut()) {
            hyper.insert(
                "loss_scale".into(),
                json!({ "scale": s.scale, "good_steps": s.good_steps, "skipped": s.skipped,
                        "growth_interval": self.scale.growth_interval() }),
            );
        }
        state
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        // A checkpoint of an f32 run has no scale: resume with a fresh one (same interval).
        let (s, interval) = saved_scale(state)?.unwrap_or((
            LossScaleState { scale: wgtrain_tensor::DEFAULT_INITIAL_SCALE, good_steps: 0, skipped: 0 },
            self.scale.growth_interval(),
        ));
        let scale = LossScale::with_state(self.scale.device(), s, interval)?;
        self.inner.load_state(state)?;
        self.scale = scale;
        self.unscaled = false;
        Ok(())
    }
}
