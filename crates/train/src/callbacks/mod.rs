//! Callbacks: code that runs at points of `fit` (and of validation and prediction), reads the
//! logs, and may stop training (`model.stop_training = true`) or change the learning rate.
//!
//! Batch-level logs carry the values of the last read-back (every `log_every` steps), so a
//! callback never forces a GPU sync per batch.

mod backup;
mod checkpoint;
mod csv_logger;
mod early_stopping;
mod lr;
mod tensorboard;
mod terminate_nan;

pub use backup::BackupAndRestore;
pub use checkpoint::ModelCheckpoint;
pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use lr::{LearningRateScheduler, ReduceLrOnPlateau};
pub use tensorboard::TensorBoard;
pub use terminate_nan::TerminateOnNan;

use crate::error::Result;
use crate::logs::Logs;
use crate::models::Model;

/// Hooks into training. Every method has an empty default: implement the ones you need.
#[allow(unused_variables)]
pub trait Callback: Send {
    /// Before the first epoch of `fit` (a place to reset state, or restore a backup).
    fn on_train_begin(&mut self, model: &mut Model) -> Result<()> {
        Ok(())
    }
    /// After the last epoch (also after an early stop); `logs` are the last epoch's.
    fn on_train_end(&mut self, model: &mut Model, logs: &Logs) -> Result<()> {
        Ok(())
    }
    /// Before epoch `epoch` (0-based).
    fn on_epoch_begin(&mut self, model: &mut Model, epoch: usize) -> Result<()> {
        Ok(())
    }
    /// `logs` holds the epoch's loss and metrics, validation ones prefixed `val_`, and `lr`.
    fn on_epoch_end(&mut self, model: &mut Model, epoch: usize, logs: &Logs) -> Result<()> {
        Ok(())
    }
    /// Before training batch `batch` (0-based within the epoch).
    fn on_train_batch_begin(&mut self, model: &mut Model, batch: usize) -> Result<()> {
        Ok(())
    }
    /// `logs` are those of the last read-back (see the module docs).
    fn on_train_batch_end(&mut self, model: &mut Model, batch: usize, logs: &Logs) -> Result<()> {
        Ok(())
    }
    /// Before the end-of-epoch validation pass of `fit`.
    fn on_test_begin(&mut self, model: &mut Model) -> Result<()> {
        Ok(())
    }
    /// After the validation pass; `logs` hold its loss and metrics without the `val_` prefix.
    fn on_test_end(&mut self, model: &mut Model, logs: &Logs) -> Result<()> {
        Ok(())
    }
    /// Before a prediction run. `Model::predict` takes no callbacks, so only custom loops call it.
    fn on_predict_begin(&mut self, model: &mut Model) -> Result<()> {
        Ok(())
    }
    /// After a prediction run (see [`on_predict_begin`](Self::on_predict_begin)).
    fn on_predict_end(&mut self, model: &mut Model) -> Result<()> {
        Ok(())
    }
}

/// Whether `mode` wants a larger or a smaller monitored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `max` for names containing "acc", "auc", "precision", "recall" or "f1", else `min`.
    #[default]
    Auto,
    /// The monitored value should decrease (losses, errors).
    Min,
    /// The monitored value should increase (accuracy, AUC).
    Max,
}

impl Mode {
    /// Resolves `Auto` for the monitored name (Keras' rule).
    pub(crate) fn resolve(self, monitor: &str) -> Mode {
        match self {
            Mode::Auto if ["acc", "auc", "precision", "recall", "f1"].iter().any(|k| monitor.contains(k)) => Mode::Max,
            Mode::Auto => Mode::Min,
            m => m,
        }
    }
    /// Whether `value` improves on `best` by more than `min_delta`.
    pub(crate) fn improves(self, value: f32, best: f32, min_delta: f32) -> bool {
        match self {
            Mode::Max => value > best + min_delta,
            _ => value < best - min_delta,
        }
    }
    /// The starting "best".
    pub(crate) fn worst(self) -> f32 {
        if self == Mode::Max { f32::NEG_INFINITY } else { f32::INFINITY }
    }
}
