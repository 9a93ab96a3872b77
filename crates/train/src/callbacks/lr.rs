//! Learning-rate callbacks: a schedule per epoch or per step, and ReduceLROnPlateau.

use super::{Callback, CallbackState, Mode, state};
use crate::error::{Result, TrainError};
use crate::logs::Logs;
use crate::models::Model;
use crate::optim::LrSchedule;

/// Sets the learning rate from a schedule before each epoch (`per_epoch`, or Keras' form
/// `new(|epoch, lr| ...)`) or each optimizer step (`per_step`, counting steps over the whole run).
pub struct LearningRateScheduler {
    rule: Rule,
    per_step: bool,
}

/// Where a [`LearningRateScheduler`] takes the rate from.
enum Rule {
    Schedule(Box<dyn LrSchedule>),
    /// Keras' `schedule(epoch, lr)`: the next rate from the epoch and the current one.
    Function(Box<dyn FnMut(usize, f32) -> f32 + Send>),
}

impl LearningRateScheduler {
    /// Keras' `LearningRateScheduler(schedule)`: at the start of every epoch, sets
    /// `schedule(epoch, current_lr)` (the epoch 0-based), e.g. `|epoch, lr| if epoch < 10 { lr }
    /// else { lr * 0.9 }`. A rate that is NaN, infinite or negative stops `fit` with an error.
    pub fn new(schedule: impl FnMut(usize, f32) -> f32 + Send + 'static) -> Self {
        LearningRateScheduler { rule: Rule::Function(Box::new(schedule)), per_step: false }
    }
    /// Sets `schedule.lr(epoch)` (0-based) at the start of every epoch.
    pub fn per_epoch(schedule: impl LrSchedule + 'static) -> Self {
        LearningRateScheduler { rule: Rule::Schedule(Box::new(schedule)), per_step: false }
    }
    /// Sets `schedule.lr(global_step)` before every training batch.
    pub fn per_step(schedule: impl LrSchedule + 'static) -> Self {
        LearningRateScheduler { rule: Rule::Schedule(Box::new(schedule)), per_step: true }
    }
    fn set(&mut self, model: &mut Model, t: u64) -> Result<()> {
        let lr = match &mut self.rule {
            Rule::Schedule(s) => s.lr(t),
            Rule::Function(f) => {
                let current = model.learning_rate().unwrap_or(0.0);
                f(t as usize, current)
            }
        };
        model.set_learning_rate(lr)
    }
}

impl Callback for LearningRateScheduler {
    fn on_epoch_begin(&mut self, model: &mut Model, epoch: usize) -> Result<()> {
        if !self.per_step {
            self.set(model, epoch as u64)?;
        }
        Ok(())
    }
    fn on_train_batch_begin(&mut self, model: &mut Model, _: usize) -> Result<()> {
        if self.per_step {
            let step = model.global_step();
            self.set(model, step)?;
        }
        Ok(())
    }
}

/// Multiplies the learning rate by `factor` when the monitored value has not improved for
/// `patience` epochs, then waits `cooldown` epochs; never below `min_lr` (Keras semantics).
pub struct ReduceLrOnPlateau {
    monitor: String,
    factor: f32,
    patience: usize,
    mode: Mode,
    min_delta: f32,
    cooldown: usize,
    min_lr: f32,
    best: f32,
    wait: usize,
    cooldown_left: usize,
}

impl ReduceLrOnPlateau {
    /// factor 0.1, patience 10, min_delta 1e-4, as Keras.
    pub fn new(monitor: &str) -> Self {
        ReduceLrOnPlateau {
            monitor: monitor.to_string(),
            factor: 0.1,
            patience: 10,
            mode: Mode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: f32::INFINITY,
            wait: 0,
            cooldown_left: 0,
        }
    }
    /// Multiplier of the learning rate on a plateau, in [0, 1) (default 0.1; checked when `fit` starts).
    pub fn factor(mut self, f: f32) -> Self {
        self.factor = f;
        self
    }
    /// Epochs without improvement before reducing (default 10).
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    /// Smallest change that counts as an improvement (default 1e-4).
    pub fn min_delta(mut self, d: f32) -> Self {
        self.min_delta = d;
        self
    }
    /// Epochs to wait after a reduction before counting again (default 0).
    pub fn cooldown(mut self, c: usize) -> Self {
        self.cooldown = c;
        self
    }
    /// Lower bound of the learning rate (default 0).
    pub fn min_lr(mut self, lr: f32) -> Self {
        self.min_lr = lr;
        self
    }
    /// Whether a larger or a smaller monitored value is better (default [`Mode::Auto`]).
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
}

impl Callback for ReduceLrOnPlateau {
    fn on_train_begin(&mut self, _: &mut Model) -> Result<()> {
        if !(0.0..1.0).contains(&self.factor) {
            return Err(TrainError::config("ReduceLROnPlateau", format!("factor {} must be in [0, 1)", self.factor)));
        }
        self.mode = self.mode.resolve(&self.monitor);
        (self.best, self.wait, self.cooldown_left) = (self.mode.worst(), 0, 0);
        Ok(())
    }
    fn on_epoch_end(&mut self, model: &mut Model, _: usize, logs: &Logs) -> Result<()> {
        let Some(value) = logs.get(&self.monitor) else {
            return Err(TrainError::config("ReduceLROnPlateau", format!("{:?} is not in the logs", self.monitor)));
        };
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.wait = 0;
        }
        if self.mode.improves(value, self.best, self.min_delta) {
            self.best = value;
            self.wait = 0;
        } else if self.cooldown_left == 0 {
            self.wait += 1;
            if self.wait >= self.patience
                && let Some(lr) = model.learning_rate()
                && lr > self.min_lr
            {
                model.set_learning_rate((lr * self.factor).max(self.min_lr))?;
                self.cooldown_left = self.cooldown;
                self.wait = 0;
            }
        }
        Ok(())
    }
    fn state(&self) -> Result<Option<CallbackState>> {
        let values = serde_json::json!({ "wait": self.wait, "cooldown_left": self.cooldown_left });
        Ok(Some(state::monitored("ReduceLROnPlateau", &self.monitor, self.mode, self.best, values)))
    }
    fn load_state(&mut self, s: &CallbackState) -> Result<bool> {
        let Some(best) = state::restore_best(s, "ReduceLROnPlateau", &self.monitor, self.mode) else {
            return Ok(false);
        };
        (self.best, self.wait, self.cooldown_left) =
            (best, state::counter(s, "wait"), state::counter(s, "cooldown_left"));
        Ok(true)
    }
}
