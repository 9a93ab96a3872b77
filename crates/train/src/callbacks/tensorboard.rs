//! The TensorBoard callback.

use std::path::PathBuf;

use super::Callback;
use crate::error::Result;
use crate::logs::Logs;
use crate::models::Model;
use crate::tensorboard::EventWriter;

/// Writes TensorBoard event files, as Keras lays them out: `<log_dir>/train` gets the epoch's
/// training logs as `epoch_<name>` scalars (and `epoch_learning_rate`), `<log_dir>/validation`
/// the `val_` ones; every `histogram_freq` epochs (0: never), a histogram of each weight and a
/// `gradient_norm` histogram of the epoch's per-step global gradient norms (recorded on the
/// device by the model and read back once per epoch).
pub struct TensorBoard {
    dir: PathBuf,
    histogram_freq: usize,
    train: Option<EventWriter>,
    validation: Option<EventWriter>,
    /// Whether this callback turned gradient-norm recording on (and so turns it off).
    recording: bool,
}

impl TensorBoard {
    /// Event files go to `log_dir/train` and `log_dir/validation`.
    pub fn new(log_dir: impl Into<PathBuf>) -> Self {
        TensorBoard { dir: log_dir.into(), histogram_freq: 0, train: None, validation: None, recording: false }
    }
    /// Writes weight and gradient-norm histograms every `every` epochs (0: never, the default).
    pub fn histogram_freq(mut self, every: usize) -> Self {
        self.histogram_freq = every;
        self
    }
}

impl Callback for TensorBoard {
    fn on_train_begin(&mut self, model: &mut Model) -> Result<()> {
        // In a distributed run only rank 0 writes events (the others have no writers).
        if model.is_chief() {
            self.train = Some(EventWriter::new(self.dir.join("train"))?);
            self.validation = Some(EventWriter::new(self.dir.join("validation"))?);
        }
        // Recording the user already started is left on, and left alone at the end.
        self.recording = self.histogram_freq > 0 && model.grad_norms.is_none();
        if self.recording {
            model.record_grad_norms(true);
        }
        Ok(())
    }
    fn on_train_end(&mut self, model: &mut Model, _: &Logs) -> Result<()> {
        if std::mem::take(&mut self.recording) {
            model.record_grad_norms(false);
        }
        Ok(())
    }
    fn on_epoch_end(&mut self, model: &mut Model, epoch: usize, logs: &Logs) -> Result<()> {
        let step = epoch as u64;
        for (name, value) in logs.iter() {
            let (writer, name) = match name.strip_prefix("val_") {
                Some(rest) => (&mut self.validation, rest),
                None => (&mut self.train, if name == "lr" { "learning_rate" } else { name }),
            };
            if let Some(w) = writer {
                w.scalar(&format!("epoch_{name}"), step, value)?;
            }
        }
        // Drained every epoch, so the recording stays as long as one epoch.
        let norms = if self.histogram_freq > 0 { model.take_grad_norms()? } else { Vec::new() };
        if self.histogram_freq > 0
            && (epoch + 1).is_multiple_of(self.histogram_freq)
            && let Some(w) = &mut self.train
        {
            for p in model.params() {
                w.histogram(&p.name, step, &p.var.to_vec()?)?;
            }
            if !norms.is_empty() {
                w.histogram("gradient_norm", step, &norms)?;
            }
        }
        Ok(())
    }
}
