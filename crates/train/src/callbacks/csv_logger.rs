//! CSVLogger.

use std::io::Write;
use std::path::PathBuf;

use super::Callback;
use crate::error::{Result, TrainError};
use crate::logs::Logs;
use crate::models::Model;

/// Appends one row per epoch (`epoch,<log names...>`) to a CSV file, flushed each epoch so a
/// crash loses nothing written.
pub struct CsvLogger {
    path: PathBuf,
    append: bool,
    header: Option<Vec<String>>,
    /// Whether this process writes (rank 0 of a distributed run, or a run alone).
    active: bool,
}

impl CsvLogger {
    /// Logs to the CSV file at `path` (parent folders are created; an existing file is replaced
    /// unless [`append`](Self::append) is set).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvLogger { path: path.into(), append: false, header: None, active: true }
    }
    /// Keep an existing file (resuming) instead of starting a new one.
    pub fn append(mut self, on: bool) -> Self {
        self.append = on;
        self
    }
    fn io(&self, e: std::io::Error) -> TrainError {
        TrainError::Io { file: self.path.display().to_string(), source: e }
    }
}

impl Callback for CsvLogger {
    fn on_train_begin(&mut self, model: &mut Model) -> Result<()> {
        self.header = None;
        // In a distributed run only rank 0 writes the log.
        self.active = model.is_chief();
        if !self.active {
            return Ok(());
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        if !self.append || !self.path.exists() {
            std::fs::write(&self.path, b"").map_err(|e| self.io(e))?;
        } else {
            let text = std::fs::read_to_string(&self.path).map_err(|e| self.io(e))?;
            self.header = text.lines().next().map(|l| l.split(',').skip(1).map(str::to_string).collect());
        }
        Ok(())
    }
    fn on_epoch_end(&mut self, _: &mut Model, epoch: usize, logs: &Logs) -> Result<()> {
        if !self.active {
            return Ok(());
        }
        let mut f = std::fs::OpenOptions::new().append(true).create(true).open(&self.path).map_err(|e| self.io(e))?;
        let names = self.header.get_or_insert_with(|| logs.iter().map(|(k, _)| k.to_string()).collect()).clone();
        if std::fs::metadata(&self.path).map(|m| m.len() == 0).unwrap_or(true) {
            writeln!(f, "epoch,{}", names.join(",")).map_err(|e| self.io(e))?;
        }
        let row: Vec<String> = names.iter().map(|n| logs.get(n).map_or(String::new(), |v| v.to_string())).collect();
        writeln!(f, "{epoch},{}", row.join(",")).map_err(|e| self.io(e))?;
        f.flush().map_err(|e| self.io(e))
    }
}
