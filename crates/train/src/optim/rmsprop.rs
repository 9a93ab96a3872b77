//! RMSprop.

use serde_json::json;
use wgtrain_tensor::{RmspropParams, rmsprop_step};

use super::clip::clip;
use super::slots::Slots;
use super::{GradClip, Optimizer, OptimizerState, check, updatable, update_in_place};
use crate::error::Result;
use crate::param::Param;
use wgtrain_tensor::LossScale;

const SLOTS: &[&str] = &["square_avg", "momentum", "grad_avg"];

/// RMSprop (PyTorch's form: alpha 0.99, eps 1e-8 outside the root; optional momentum and
/// centered variance).
pub struct Rmsprop {
    hp: RmspropParams,
    clip: GradClip,
    step: u64,
    slots: Slots,
}

impl Rmsprop {
    /// RMSprop with learning rate `lr` and the defaults above.
    pub fn new(lr: f32) -> Self {
        let hp = RmspropParams { lr, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false };
        Rmsprop { hp, clip: GradClip::None, step: 0, slots: Slots::default() }
    }
    /// Smoothing constant of the squared-gradient average (default 0.99).
    pub fn alpha(mut self, a: f32) -> Self {
        self.hp.alpha = a;
        self
    }
    /// Term added to the denominator (default 1e-8).
    pub fn eps(mut self, e: f32) -> Self {
        self.hp.eps = e;
        self
    }
    /// Momentum factor (default 0: no momentum buffer).
    pub fn momentum(mut self, m: f32) -> Self {
        self.hp.momentum = m;
        self
    }
    /// Normalize by the gradient's estimated variance instead of its raw second moment (default off).
    pub fn centered(mut self, on: bool) -> Self {
        self.hp.centered = on;
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

impl Optimizer for Rmsprop {
    fn step(&mut self, params: &[Param]) -> Result<()> {
        self.step_guarded(params, None)
    }
    fn step_guarded(&mut self, params: &[Param], guard: Option<&LossScale>) -> Result<()> {
        self.validate()?;
        clip(params, self.clip)?;
        self.step += 1;
        for (p, g) in updatable(params) {
            // Counted (though RMSprop's update does not use it) so saved states say how old
            // each parameter's averages are.
            self.slots.tick(p);
            let s = self.slots.of(p, SLOTS, 0.0)?;
            let buf = (self.hp.momentum > 0.0).then_some(&s[1]);
            let avg = self.hp.centered.then_some(&s[2]);
            update_in_place(p, guard, |param, up| rmsprop_step(param, &g, &s[0], buf, avg, &self.hp, up))?;
        }
        Ok(())
    }
    shared_methods!("RMSprop");
    fn validate(&self) -> Result<()> {
        let h = &self.hp;
        check::learning_rate("RMSprop", h.lr)?;
        check::fraction("RMSprop", "alpha", h.alpha)?;
        check::positive("RMSprop", "eps", h.eps)?;
        check::non_negative("RMSprop", "momentum", h.momentum)?;
        check::non_negative("RMSprop", "weight decay", h.weight_decay)?;
        check::clip("RMSprop", self.clip)
    }
    fn state(&self) -> OptimizerState {
        let h = &self.hp;
        let hyper = json!({ "lr": h.lr, "alpha": h.alpha, "eps": h.eps, "weight_decay": h.weight_decay,
                            "momentum": h.momentum, "centered": h.centered, "clip": self.clip });
        OptimizerState {
            kind: "RMSprop".into(),
            step: self.step,
            hyper,
            tensors: self.slots.export(SLOTS),
            param_steps: self.slots.steps(),
        }
    }
}
