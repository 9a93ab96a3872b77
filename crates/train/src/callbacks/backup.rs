//! BackupAndRestore.

use std::path::PathBuf;

use super::Callback;
use crate::checkpoint::remove_checkpoint;
use crate::error::Result;
use crate::logs::Logs;
use crate::models::Model;

/// Makes `fit` resumable: saves a full checkpoint in `dir` after every epoch (the model, the
/// optimizer and the state of every other callback, once they have all seen the epoch); when
/// `fit` starts and a backup exists (the last run was interrupted), restores it and continues
/// at the next epoch, with the same shuffling and dropout streams, and the same callback
/// decisions, as an uninterrupted run.
///
/// The backup is checked before it is trusted: it must fit this model and optimizer (the
/// load is strict and all-or-nothing), and `fit` refuses one from past the epochs it is asked
/// for. It is deleted when a `fit` that saved it completes; a backup this run did not write
/// (for example one restored as already complete) is kept, and so are files of yours in `dir`.
pub struct BackupAndRestore {
    dir: PathBuf,
    /// The epoch a restore resumed at, if one happened.
    pub resumed_at: Option<usize>,
    /// Whether this run has written the backup (only then may it delete it).
    saved: bool,
}

impl BackupAndRestore {
    /// Backs up into folder `dir` (created as needed; its checkpoint removed when `fit` completes).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        BackupAndRestore { dir: dir.into(), resumed_at: None, saved: false }
    }
}

impl Callback for BackupAndRestore {
    fn on_train_begin(&mut self, model: &mut Model) -> Result<()> {
        self.saved = false;
        if self.dir.join("training.json").exists() {
            model.load(&self.dir)?;
            model.resume_from = Some(model.epochs_done());
            self.resumed_at = Some(model.epochs_done());
        }
        Ok(())
    }
    fn on_epoch_commit(&mut self, model: &mut Model, _: usize) -> Result<()> {
        model.save(&self.dir)?;
        self.saved = true;
        Ok(())
    }
    fn on_train_end(&mut self, model: &mut Model, _: &Logs) -> Result<()> {
        // Interrupted runs never get here; a stopped (early-stopping) run is complete too. In a
        // distributed run rank 0 saved it (`Model::save`) and removes it.
        if self.saved && model.is_chief() { remove_checkpoint(&self.dir) } else { Ok(()) }
    }
}
