//! TerminateOnNaN.

use super::Callback;
use crate::error::Result;
use crate::logs::Logs;
use crate::models::Model;

/// Stops training as soon as a read-back shows a NaN or infinite loss.
#[derive(Debug, Default)]
pub struct TerminateOnNan {
    /// The batch at which a non-finite loss was seen.
    pub stopped_at: Option<usize>,
}

impl TerminateOnNan {
    /// Watches the `loss` of every batch read-back.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Callback for TerminateOnNan {
    fn on_train_batch_end(&mut self, model: &mut Model, batch: usize, logs: &Logs) -> Result<()> {
        if logs.get("loss").is_some_and(|l| !l.is_finite()) {
            self.stopped_at = Some(batch);
            model.stop_training = true;
        }
        Ok(())
    }
}
