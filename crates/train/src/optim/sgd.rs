//! Stochastic gradient descent.

use serde_json::json;
use wgtrain_tensor::{SgdParams, sgd_step};

use super::clip::clip;
use super::slots::Slots;
use super::{GradClip, Optimizer, OptimizerState, check, updatable, update_in_place};
use crate::error::Result;
use crate::param::Param;
use wgtrain_tensor::LossScale;

const SLOTS: &[&str] = &["momentum"];

/// SGD with optional momentum (PyTorch's form: `b = mu b + (1 - dampening) g`, `p -= lr b`,
/// or with Nesterov `p -= lr (g + mu b)`), L2 weight decay added to the gradient.
pub struct Sgd {
    hp: SgdParams,
    clip: GradClip,
    step: u64,
    slots: Slots,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`: no momentum, dampening, weight decay or clipping.
    pub fn new(lr: f32) -> Self {
        let hp = SgdParams { lr, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, step: 0 };
        Sgd { hp, clip: GradClip::None, step: 0, slots: Slots::default() }
    }
    /// Momentum factor `mu` (default 0).
    pub fn momentum(mut self, m: f32) -> Self {
        self.hp.momentum = m;
        self
    }
    /// Nesterov momentum (default off; needs a momentum > 0 to matter).
    pub fn nesterov(mut self, on: bool) -> Self {
        self.hp.nesterov = on;
        self
    }
    /// Dampening of the gradient entering the momentum buffer (default 0).
    pub fn dampening(mut self, d: f32) -> Self {
        self.hp.dampening = d;
        self
    }
    /// L2 weight decay added to the gradient (default 0).
    pub fn weight_decay(mut self, wd: f32) -> Self {
        self.hp.weight_decay = wd;
        self
    }
    /// Clips gradients before each update (default none).
    pub fn clip(mut self, c: GradClip) -> Self {
        self.clip = c;
        self
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &[Param]) -> Result<()> {
        self.step_guarded(params, None)
    }
    fn step_guarded(&mut self, params: &[Param], guard: Option<&LossScale>) -> Result<()> {
        self.validate()?;
        clip(params, self.clip)?;
        self.step += 1;
        for (p, g) in updatable(params) {
            let hp = SgdParams { step: self.slots.tick(p), ..self.hp };
            let state = if hp.momentum == 0.0 { None } else { Some(self.slots.of(p, SLOTS, 0.0)?) };
            let buf = state.as_ref().map(|s| &s[0]);
            update_in_place(p, guard, |param, up| sgd_step(param, &g, buf, &hp, up))?;
        }
        Ok(())
    }
    shared_methods!("SGD");
    fn validate(&self) -> Result<()> {
        let h = &self.hp;
        check::learning_rate("SGD", h.lr)?;
        check::non_negative("SGD", "momentum", h.momentum)?;
        check::fraction("SGD", "dampening", h.dampening)?;
        check::non_negative("SGD", "weight decay", h.weight_decay)?;
        check::clip("SGD", self.clip)
    }
    fn state(&self) -> OptimizerState {
        let h = &self.hp;
        let hyper = json!({ "lr": h.lr, "momentum": h.momentum, "dampening": h.dampening,
                            "weight_decay": h.weight_decay, "nesterov": h.nesterov, "clip": self.clip });
        OptimizerState {
            kind: "SGD".into(),
            step: self.step,
            hyper,
            tensors: self.slots.export(SLOTS),
            param_steps: self.slots.steps(),
        }
    }
}
