//! Dynamic loss scaling kept on the device (`loss_scale.wgsl`), so mixed-precision training
//! never waits for the host to decide whether a step overflowed.
//!
//! A step with a [`LossScale`]: multiply the loss by [`LossScale::scale`] before `backward`
//! (small f16 gradients then stay representable), call [`LossScale::unscale`] on every
//! gradient (which flags a non-finite one on the device), run the optimizer with the scale as
//! its guard (an update skips itself on a flagged step, leaving weights and state untouched),
//! then [`LossScale::update`]: Keras' rule halves the scale after a flagged step (but never
//! below one) and doubles it after `growth_interval` finite ones. The host reads the scale
//! only when it asks ([`LossScale::read`]), e.g. when it logs.

use wgtrain_kernels::ops::loss_scale::{self, FOUND, GOOD, SCALE, SKIPPED, STATE_WORDS};

use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// Keras' initial scale, 2^15.
pub const DEFAULT_INITIAL_SCALE: f32 = 32768.0;
/// Keras' growth interval: finite steps before the scale doubles.
pub const DEFAULT_GROWTH_INTERVAL: u32 = 2000;

/// Where a loss scale stands: what checkpoints keep and logs show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossScaleState {
    /// The scale the next step multiplies its loss by.
    pub scale: f32,
    /// Finite steps since the scale last changed.
    pub good_steps: u32,
    /// Steps skipped so far because their gradients were not finite.
    pub skipped: u32,
}

/// A dynamic loss scale on one device. Clones share the state.
#[derive(Debug, Clone)]
pub struct LossScale {
    /// [`STATE_WORDS`] words: the scale as f32, then three u32 counters (stored as their bits).
    state: Tensor,
    growth_interval: u32,
}

impl LossScale {
    /// Keras' dynamic loss scale: 2^15, doubling after 2,000 finite steps.
    pub fn new(device: &Device) -> Result<LossScale> {
        LossScale::with_state(
            device,
            LossScaleState { scale: DEFAULT_INITIAL_SCALE, good_steps: 0, skipped: 0 },
            DEFAULT_GROWTH_INTERVAL,
        )
    }

    /// A loss scale starting from `state` (a fresh one, or one a checkpoint kept), doubling
    /// after `growth_interval` finite steps. The scale must be finite and at least 1, the
    /// interval at least 1.
    pub fn with_state(device: &Device, state: LossScaleState, growth_interval: u32) -> Result<LossScale> {
        let op = "loss_scale";
        if !state.scale.is_finite() || state.scale < 1.0 {
            return Err(TensorError::Argument { op, why: format!("scale {} must be finite and >= 1", state.scale) });
        }
        if growth_interval == 0 {
            return Err(TensorError::Argument { op, why: "growth_interval must be >= 1".into() });
        }
        let mut words = [0.0f32; STATE_WORDS];
        words[SCALE] = state.scale;
        words[GOOD] = f32::from_bits(state.good_steps);
        words[SKIPPED] = f32::from_bits(state.skipped);
        words[FOUND] = f32::from_bits(0);
        Ok(LossScale { state: Tensor::from_slice(device, &words, &[STATE_WORDS])?, growth_interval })
    }

    /// The scale as an f32 scalar tensor on the device (a view of the state): multiply the
    /// loss by it before `backward`.
    pub fn scale(&self) -> Result<Tensor> {
        self.state.slice(0, SCALE, SCALE + 1, 1)?.reshape(&[])
    }

    /// Divides `grad` (f32, contiguous at offset 0) by the scale in place, and flags the step
    /// on the device when any result is not finite.
    pub fn unscale(&self, grad: &Tensor) -> Result<()> {
        let op = "loss_scale_unscale";
        grad.same_device(op, &self.state)?;
        grad.expect_dtype(op, DType::F32)?;
        if !grad.is_contiguous() || grad.offset != 0 {
            let why = format!("the gradient must be contiguous at offset 0 (it is unscaled in place): {grad:?}");
            return Err(TensorError::Argument { op, why });
        }
        if grad.is_empty() {
            return Ok(());
        }
        grad.mark_modified();
        self.state.mark_modified();
        grad.device().dispatch(&loss_scale::unscale(grad.len()), &[self.state.binding(), grad.binding()])
    }

    /// Ends a step: halves the scale after a flagged step (counting the skip) or counts a
    /// finite one (doubling the scale after `growth_interval` of them), and clears the flag.
    pub fn update(&self) -> Result<()> {
        self.state.mark_modified();
        self.state.device().dispatch(&loss_scale::update(self.growth_interval), &[self.state.binding()])
    }

    /// Reads the state back (a host sync: call it when logging, not every step).
    pub fn read(&self) -> Result<LossScaleState> {
        let words = self.state.to_vec::<f32>()?;
        Ok(LossScaleState { scale: words[SCALE], good_steps: words[GOOD].to_bits(), skipped: words[SKIPPED].to_bits() })
    }

    /// The device the state lives on.
    pub fn device(&self) -> &Device {
        self.state.device()
    }

    /// Finite steps after which the scale doubles.
    pub fn growth_interval(&self) -> u32 {
        self.growth_interval
    }

    /// The state tensor the optimizer kernels bind as their guard.
    pub(crate) fn state(&self) -> &Tensor {
        &self.state
    }
}
