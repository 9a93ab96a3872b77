//! Adam and AdamW.

use serde_json::json;
use wgtrain_tensor::{AdamParams, adam_step};

use super::clip::clip;
use super::slots::Slots;
use super::{GradClip, Optimizer, OptimizerState, check, updatable, update_in_place};
use crate::error::Result;
use crate::param::Param;
use wgtrain_tensor::LossScale;

const SLOTS: &[&str] = &["m", "v"];

/// Adam (PyTorch's form: bias-corrected moments, eps added to the corrected root; L2 weight
/// decay added to the gradient). Defaults beta1 0.9, beta2 0.999, eps 1e-7 (Keras'; PyTorch
/// uses eps 1e-8).
pub struct Adam {
    hp: AdamParams,
    kind: &'static str,
    clip: GradClip,
    step: u64,
    slots: Slots,
}

/// AdamW: Adam with decoupled weight decay (`p -= lr wd p` before the update; PyTorch's
/// default weight decay is 0.01).
pub struct AdamW;

impl AdamW {
    /// AdamW with learning rate `lr` and decoupled `weight_decay`; returns an [`Adam`] configured
    /// as AdamW (its other builders apply).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lr: f32, weight_decay: f32) -> Adam {
        let mut a = Adam::new(lr);
        (a.hp.weight_decay, a.hp.decoupled, a.kind) = (weight_decay, true, "AdamW");
        a
    }
}

impl Adam {
    /// Adam with learning rate `lr` and the defaults above, no weight decay, no clipping.
    pub fn new(lr: f32) -> Self {
        let hp = AdamParams { lr, beta1: 0.9, beta2: 0.999, eps: 1e-7, weight_decay: 0.0, decoupled: false, step: 0 };
        Adam { hp, kind: "Adam", clip: GradClip::None, step: 0, slots: Slots::default() }
    }
    /// Decay rates of the first- and second-moment averages (default 0.9, 0.999).
    pub fn betas(mut self, beta1: f32, beta2: f32) -> Self {
        (self.hp.beta1, self.hp.beta2) = (beta1, beta2);
        self
    }
    /// Term added to the denominator (Keras' `epsilon`, default 1e-7; PyTorch's is 1e-8).
    pub fn eps(mut self, eps: f32) -> Self {
        self.hp.eps = eps;
        self
    }
    /// L2 weight decay for Adam, decoupled decay for AdamW.
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

impl Optimizer for Adam {
    fn step(&mut self, params: &[Param]) -> Result<()> {
        self.step_guarded(params, None)
    }
    fn step_guarded(&mut self, params: &[Param], guard: Option<&LossScale>) -> Result<()> {
        self.validate()?;
        clip(params, self.clip)?;
        self.step += 1;
        for (p, g) in updatable(params) {
            let hp = AdamParams { step: self.slots.tick(p), ..self.hp };
            let s = self.slots.of(p, SLOTS, 0.0)?;
            update_in_place(p, guard, |param, up| adam_step(param, &g, &s[0], &s[1], &hp, up))?;
        }
        Ok(())
    }
    shared_methods!(field kind);
    fn validate(&self) -> Result<()> {
        let h = &self.hp;
        check::learning_rate(self.kind, h.lr)?;
        check::decay(self.kind, "beta1", h.beta1)?;
        check::decay(self.kind, "beta2", h.beta2)?;
        check::positive(self.kind, "eps", h.eps)?;
        check::non_negative(self.kind, "weight decay", h.weight_decay)?;
        check::clip(self.kind, self.clip)
    }
    fn state(&self) -> OptimizerState {
        let h = &self.hp;
        let hyper = json!({ "lr": h.lr, "beta1": h.beta1, "beta2": h.beta2, "eps": h.eps,
                            "weight_decay": h.weight_decay, "clip": self.clip });
        OptimizerState {
            kind: self.kind.into(),
            step: self.step,
            hyper,
            tensors: self.slots.export(SLOTS),
            param_steps: self.slots.steps(),
        }
    }
}
