//! Adagrad.

use serde_json::json;
use wgtrain_tensor::{AdagradParams, adagrad_step};

use super::clip::clip;
use super::slots::Slots;
use super::{GradClip, Optimizer, OptimizerState, check, updatable, update_in_place};
use crate::error::Result;
use crate::param::Param;
use wgtrain_tensor::LossScale;

const SLOTS: &[&str] = &["sum"];

/// Adagrad (PyTorch's form, eps 1e-10, accumulator starting at `initial_accumulator`, 0 by
/// default; Keras starts it at 0.1).
pub struct Adagrad {
    hp: AdagradParams,
    initial: f32,
    clip: GradClip,
    step: u64,
    slots: Slots,
}

impl Adagrad {
    /// Adagrad with learning rate `lr` and the defaults above.
    pub fn new(lr: f32) -> Self {
        let hp = AdagradParams { lr, eps: 1e-10, weight_decay: 0.0 };
        Adagrad { hp, initial: 0.0, clip: GradClip::None, step: 0, slots: Slots::default() }
    }
    /// Starting value of the squared-gradient sum (default 0).
    pub fn initial_accumulator(mut self, v: f32) -> Self {
        self.initial = v;
        self
    }
    /// Term added to the denominator (default 1e-10).
    pub fn eps(mut self, e: f32) -> Self {
        self.hp.eps = e;
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

impl Optimizer for Adagrad {
    fn step(&mut self, params: &[Param]) -> Result<()> {
        self.step_guarded(params, None)
    }
    fn step_guarded(&mut self, params: &[Param], guard: Option<&LossScale>) -> Result<()> {
        self.validate()?;
        clip(params, self.clip)?;
        self.step += 1;
        for (p, g) in updatable(params) {
            // Counted (though Adagrad's update does not use it) so saved states say how old
            // each parameter's sums are.
            self.slots.tick(p);
            let s = self.slots.of(p, SLOTS, self.initial)?;
            update_in_place(p, guard, |param, up| adagrad_step(param, &g, &s[0], &self.hp, up))?;
        }
        Ok(())
    }
    shared_methods!("Adagrad");
    fn validate(&self) -> Result<()> {
        let h = &self.hp;
        check::learning_rate("Adagrad", h.lr)?;
        check::positive("Adagrad", "eps", h.eps)?;
        check::non_negative("Adagrad", "weight decay", h.weight_decay)?;
        check::non_negative("Adagrad", "initial accumulator", self.initial)?;
        check::clip("Adagrad", self.clip)
    }
    fn state(&self) -> OptimizerState {
        let hyper = json!({ "lr": self.hp.lr, "eps": self.hp.eps, "weight_decay": self.hp.weight_decay, "initial": self.initial, "clip": self.clip });
        OptimizerState {
            kind: "Adagrad".into(),
            step: self.step,
            hyper,
            tensors: self.slots.export(SLOTS),
            param_steps: self.slots.steps(),
        }
    }
}
