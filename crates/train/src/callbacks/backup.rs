//! BackupAndRestore.

use std::path::PathBuf;

use super::Callback;
use crate::checkpoint::remove_checkpoint;
use crate::error::{Result, TrainError};
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
        let found = self.dir.join("training.json").exists();
        // In a distributed run rank 0 wrote the backup: it decides whether the run resumes,
        // and every process loads it (from a folder they all read) or none goes on.
        let dist = model.distribution().cloned();
        let resume = dist.as_ref().map_or(found, |d| crate::distributed::rank0_says(d.collective(), found));
        if resume {
            let loaded = model.load(&self.dir);
            if let Some(d) = &dist
                && !crate::distributed::all(d.collective(), loaded.is_ok())
            {
                let why = format!(
                    "a process could not load the backup in {} (put it where every process reads it)",
                    self.dir.display()
                );
                return Err(loaded.err().unwrap_or_else(|| TrainError::config("BackupAndRestore", why)));
            }
            loaded?;
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
