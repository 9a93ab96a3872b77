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
mod state;
mod tensorboard;
mod terminate_nan;

pub use backup::BackupAndRestore;
pub use checkpoint::ModelCheckpoint;
pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use lr::{LearningRateScheduler, ReduceLrOnPlateau};
pub use tensorboard::TensorBoard;
pub use terminate_nan::TerminateOnNan;

use wgtrain_tensor::Tensor;

use crate::error::Result;
use crate::logs::Logs;
use crate::models::Model;

/// What a callback keeps across epochs, saved in checkpoints written during `fit` (by
/// `BackupAndRestore`) and restored when a run resumes, so a resumed run decides as the
/// uninterrupted one would (`ModelCheckpoint`'s best value, `EarlyStopping`'s patience).
#[derive(Debug, Clone)]
pub struct CallbackState {
    /// The callback's type; a state is restored only into a callback of the same kind at the
    /// same position in `FitOptions::callbacks`.
    pub kind: String,
    /// Counters, best values, settings that must agree (JSON).
    pub values: serde_json::Value,
    /// Device tensors (e.g. the best weights kept by `EarlyStopping`), by name.
    pub tensors: Vec<(String, Tensor)>,
}

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
    /// After every callback's `on_epoch_end` for `epoch`, when each callback's
    /// [`state`](Self::state) is that of the finished epoch: where `BackupAndRestore` saves, so
    /// what it saves does not depend on the order of the callbacks.
    fn on_epoch_commit(&mut self, model: &mut Model, epoch: usize) -> Result<()> {
        Ok(())
    }
    /// The state to save with a checkpoint of the run (`None`: nothing to keep).
    fn state(&self) -> Result<Option<CallbackState>> {
        Ok(None)
    }
    /// Restores a state this kind of callback saved; `Ok(false)` when it is not of this kind
    /// (or was saved with other settings, e.g. another monitored value) and so was not used.
    fn load_state(&mut self, state: &CallbackState) -> Result<bool> {
        Ok(false)
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
