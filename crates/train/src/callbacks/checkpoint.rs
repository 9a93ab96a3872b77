//! ModelCheckpoint.

use std::path::PathBuf;

use super::{Callback, CallbackState, Mode, state};
use crate::error::{Result, TrainError};
use crate::logs::Logs;
use crate::models::Model;

/// Saves the model at the end of epochs: every `every` epochs, or only when the monitored
/// value improves (`save_best_only`). The path is a template: `{epoch}` becomes the 1-based
/// epoch number and `{<log name>}` (e.g. `{val_loss}`) that value with 4 decimals. Saves a
/// full checkpoint folder (`Model::save`), or one safetensors file with `weights_only`.
///
/// An epoch whose logs hold a NaN or infinite loss (`loss`, `val_loss`, ...) is never saved:
/// its weights are likely NaN, even when the monitored value (say `val_accuracy`, of NaN
/// predictions) looks fine. A non-finite monitored value is never taken as the best either.
pub struct ModelCheckpoint {
    template: String,
    monitor: String,
    mode: Mode,
    save_best_only: bool,
    weights_only: bool,
    every: usize,
    best: f32,
    /// Paths written, in order.
    pub saved: Vec<PathBuf>,
}

impl ModelCheckpoint {
    /// Saves every epoch to `path_template`, monitoring `val_loss` in [`Mode::Auto`] when
    /// `save_best_only` is set.
    pub fn new(path_template: &str) -> Self {
        ModelCheckpoint {
            template: path_template.to_string(),
            monitor: "val_loss".into(),
            mode: Mode::Auto,
            save_best_only: false,
            weights_only: false,
            every: 1,
            best: f32::INFINITY,
            saved: Vec::new(),
        }
    }
    /// The log value `save_best_only` compares (default `val_loss`); an error if it is not logged.
    pub fn monitor(mut self, m: &str) -> Self {
        self.monitor = m.to_string();
        self
    }
    /// Whether a larger or a smaller monitored value is better (default [`Mode::Auto`]).
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    /// Save only when the monitored value improves on the best so far (default off).
    pub fn save_best_only(mut self, on: bool) -> Self {
        self.save_best_only = on;
        self
    }
    /// Save one safetensors file of weights (`Model::save_weights`) instead of a checkpoint folder
    /// (default off).
    pub fn weights_only(mut self, on: bool) -> Self {
        self.weights_only = on;
        self
    }
    /// Save every `n` epochs (ignored with `save_best_only`).
    pub fn every(mut self, n: usize) -> Self {
        self.every = n.max(1);
        self
    }

    fn path(&self, epoch: usize, logs: &Logs) -> PathBuf {
        let mut p = self.template.replace("{epoch}", &(epoch + 1).to_string());
        for (k, v) in logs.iter() {
            p = p.replace(&format!("{{{k}}}"), &format!("{v:.4}"));
        }
        PathBuf::from(p)
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, _: &mut Model) -> Result<()> {
        self.mode = self.mode.resolve(&self.monitor);
        self.best = self.mode.worst();
        Ok(())
    }
    fn on_epoch_end(&mut self, model: &mut Model, epoch: usize, logs: &Logs) -> Result<()> {
        let improved = if self.save_best_only {
            let Some(v) = logs.get(&self.monitor) else {
                return Err(TrainError::config("ModelCheckpoint", format!("{:?} is not in the logs", self.monitor)));
            };
            if !v.is_finite() || !self.mode.improves(v, self.best, 0.0) {
                return Ok(());
            }
            Some(v)
        } else if !(epoch + 1).is_multiple_of(self.every) {
            return Ok(());
        } else {
            None
        };
        if let Some((name, value)) = logs.non_finite_loss() {
            eprintln!("ModelCheckpoint: not saving epoch {}: {name} is {value}", epoch + 1);
            return Ok(());
        }
        if let Some(v) = improved {
            self.best = v;
        }
        let path = self.path(epoch, logs);
        if self.weights_only {
            model.save_weights(&path)?
        } else {
            model.save(&path)?
        }
        self.saved.push(path);
        Ok(())
    }
    fn state(&self) -> Result<Option<CallbackState>> {
        Ok(Some(state::monitored("ModelCheckpoint", &self.monitor, self.mode, self.best, serde_json::json!({}))))
    }
    fn load_state(&mut self, s: &CallbackState) -> Result<bool> {
        let Some(best) = state::restore_best(s, "ModelCheckpoint", &self.monitor, self.mode) else { return Ok(false) };
        self.best = best;
        Ok(true)
    }
}
