//! TerminateOnNaN.

use super::Callback;
use crate::error::Result;
use crate::logs::{Logs, StopReason};
use crate::models::Model;

/// Stops training at the first read-back that shows a NaN or infinite loss: the `loss` of a
/// batch read-back (every `log_every` steps), or any `loss` / `val_loss` / `..._loss` at the end
/// of an epoch. It says so on stderr (which loss, its value, the epoch and batch), sets
/// `model.stop_reason` (so `History::stop_reason` tells the caller) and stops `fit` after the
/// current epoch's end-of-epoch callbacks (`ModelCheckpoint` never saves such an epoch).
#[derive(Debug, Default)]
pub struct TerminateOnNan {
    /// The batch at which a non-finite loss was seen (`None` if it was seen at an epoch's end).
    pub stopped_at: Option<usize>,
    /// What stopped the run, if anything did.
    pub reason: Option<StopReason>,
    epoch: usize,
}

impl TerminateOnNan {
    /// Watches the `loss` of every batch read-back and the losses of every epoch.
    pub fn new() -> Self {
        Self::default()
    }

    fn check(&mut self, model: &mut Model, batch: Option<usize>, logs: &Logs) {
        if self.reason.is_some() {
            return; // already stopping; the stale batch logs would repeat the message
        }
        let Some((name, value)) = logs.non_finite_loss() else { return };
        let reason = StopReason::NonFiniteLoss { name: name.to_string(), value, epoch: self.epoch, batch };
        eprintln!("TerminateOnNan: {reason}; training stops");
        self.stopped_at = batch;
        self.reason = Some(reason.clone());
        model.stop_reason = Some(reason);
        model.stop_training = true;
    }
}

impl Callback for TerminateOnNan {
    fn on_train_begin(&mut self, _: &mut Model) -> Result<()> {
        (self.stopped_at, self.reason, self.epoch) = (None, None, 0);
        Ok(())
    }
    fn on_epoch_begin(&mut self, _: &mut Model, epoch: usize) -> Result<()> {
        self.epoch = epoch;
        Ok(())
    }
    fn on_train_batch_end(&mut self, model: &mut Model, batch: usize, logs: &Logs) -> Result<()> {
        self.check(model, Some(batch), logs);
        Ok(())
    }
    fn on_epoch_end(&mut self, model: &mut Model, epoch: usize, logs: &Logs) -> Result<()> {
        self.epoch = epoch;
        self.check(model, None, logs);
        Ok(())
    }
}
