//! BackupAndRestore.

use std::path::PathBuf;

use super::Callback;
use crate::error::{Result, TrainError};
use crate::logs::Logs;
use crate::models::Model;

/// Makes `fit` resumable: saves a full checkpoint in `dir` after every epoch; when `fit`
/// starts and a backup exists (the last run was interrupted), restores it and continues at the
/// next epoch, with the same shuffling and dropout streams as an uninterrupted run. The
/// backup is deleted when `fit` completes.
pub struct BackupAndRestore {
    dir: PathBuf,
    /// The epoch a restore resumed at, if one happened.
    pub resumed_at: Option<usize>,
}

impl BackupAndRestore {
    /// Backs up into folder `dir` (created as needed; deleted when `fit` completes).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        BackupAndRestore { dir: dir.into(), resumed_at: None }
    }
}

impl Callback for BackupAndRestore {
    fn on_train_begin(&mut self, model: &mut Model) -> Result<()> {
        if self.dir.join("training.json").exists() {
            model.load(&self.dir)?;
            model.resume_from = Some(model.epochs_done());
            self.resumed_at = Some(model.epochs_done());
        }
        Ok(())
    }
    fn on_epoch_end(&mut self, model: &mut Model, _: usize, _: &Logs) -> Result<()> {
        model.save(&self.dir)
    }
    fn on_train_end(&mut self, model: &mut Model, _: &Logs) -> Result<()> {
        // Interrupted runs never get here; a stopped (early-stopping) run is complete too.
        let _ = model;
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .map_err(|e| TrainError::Io { file: self.dir.display().to_string(), source: e })?;
        }
        Ok(())
    }
}
