//! EarlyStopping.

use wgtrain_tensor::Tensor;

use super::{Callback, CallbackState, Mode, state};
use crate::error::{Result, TrainError};
use crate::logs::Logs;
use crate::models::Model;

/// Stops `fit` when the monitored value has not improved for `patience` epochs, optionally
/// restoring the weights of the best epoch (Keras semantics).
pub struct EarlyStopping {
    monitor: String,
    mode: Mode,
    min_delta: f32,
    patience: usize,
    baseline: Option<f32>,
    restore_best_weights: bool,
    best: f32,
    wait: usize,
    best_weights: Option<Vec<Tensor>>,
    /// The epoch training stopped at, if it did.
    pub stopped_epoch: Option<usize>,
    /// The epoch with the best value.
    pub best_epoch: Option<usize>,
}

impl EarlyStopping {
    /// Monitors `monitor` (e.g. `"val_loss"`) with patience 0.
    pub fn new(monitor: &str) -> Self {
        EarlyStopping {
            monitor: monitor.to_string(),
            mode: Mode::Auto,
            min_delta: 0.0,
            patience: 0,
            baseline: None,
            restore_best_weights: false,
            best: f32::INFINITY,
            wait: 0,
            best_weights: None,
            stopped_epoch: None,
            best_epoch: None,
        }
    }
    /// Epochs without improvement to wait before stopping (default 0: stop at the first).
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    /// Smallest change that counts as an improvement (default 0; the sign is ignored).
    pub fn min_delta(mut self, d: f32) -> Self {
        self.min_delta = d.abs();
        self
    }
    /// Whether a larger or a smaller monitored value is better (default [`Mode::Auto`]).
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    /// Training stops unless the value beats `b` within `patience` epochs.
    pub fn baseline(mut self, b: f32) -> Self {
        self.baseline = Some(b);
        self
    }
    /// On stopping, copy back the weights of the best epoch (default off; keeps a device copy of
    /// the weights at each improvement).
    pub fn restore_best_weights(mut self, on: bool) -> Self {
        self.restore_best_weights = on;
        self
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _: &mut Model) -> Result<()> {
        self.mode = self.mode.resolve(&self.monitor);
        self.best = self.mode.worst();
        (self.wait, self.best_weights, self.stopped_epoch, self.best_epoch) = (0, None, None, None);
        Ok(())
    }

    fn on_epoch_end(&mut self, model: &mut Model, epoch: usize, logs: &Logs) -> Result<()> {
        let Some(value) = logs.get(&self.monitor) else {
            let have: Vec<&str> = logs.iter().map(|(k, _)| k).collect();
            let why = format!("monitored value {:?} is not in the logs (available: {have:?})", self.monitor);
            return Err(TrainError::config("EarlyStopping", why));
        };
        // Keras' rule: count the epoch, reset on an improvement (that also beats the baseline),
        // stop once `patience` epochs in a row brought none.
        self.wait += 1;
        if self.mode.improves(value, self.best, self.min_delta) {
            self.best = value;
            self.best_epoch = Some(epoch);
            if self.restore_best_weights {
                let copies =
                    model.params().iter().map(|p| p.var.data().copy()).collect::<std::result::Result<_, _>>()?;
                self.best_weights = Some(copies);
            }
            if self.baseline.is_none_or(|b| self.mode.improves(value, b, self.min_delta)) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(epoch);
            model.stop_training = true;
            if let Some(best) = &self.best_weights {
                for (p, w) in model.params().iter().zip(best) {
                    p.var.data().assign(w)?;
                }
            }
        }
        Ok(())
    }
    fn state(&self) -> Result<Option<CallbackState>> {
        let values = serde_json::json!({ "wait": self.wait, "best_epoch": self.best_epoch });
        let mut s = state::monitored("EarlyStopping", &self.monitor, self.mode, self.best, values);
        // Zero-padded positions keep the parameters' order when sorted by name.
        s.tensors =
            self.best_weights.iter().flatten().enumerate().map(|(i, t)| (format!("{i:05}"), t.clone())).collect();
        Ok(Some(s))
    }
    fn load_state(&mut self, s: &CallbackState) -> Result<bool> {
        let Some(best) = state::restore_best(s, "EarlyStopping", &self.monitor, self.mode) else { return Ok(false) };
        self.best = best;
        self.wait = state::counter(s, "wait");
        self.best_epoch = s.values["best_epoch"].as_u64().map(|e| e as usize);
        let weights: Vec<Tensor> = s.tensors.iter().map(|(_, t)| t.clone()).collect();
        self.best_weights = (self.restore_best_weights && !weights.is_empty()).then_some(weights);
        Ok(true)
    }
}
