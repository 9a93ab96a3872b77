//! What training reports: named values per batch or epoch ([`Logs`]) and their history.

/// Named values in insertion order (`loss`, metrics, `val_loss`, `val_...`, `lr`), as Keras'
/// `logs` dictionary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logs {
    entries: Vec<(String, f32)>,
}

impl Logs {
    /// No entries.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `name` (replacing an earlier value).
    pub fn set(&mut self, name: impl Into<String>, value: f32) {
        let name = name.into();
        match self.entries.iter_mut().find(|(k, _)| *k == name) {
            Some(e) => e.1 = value,
            None => self.entries.push((name, value)),
        }
    }
    /// The value of `name`, if logged.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.entries.iter().find(|(k, _)| k == name).map(|e| e.1)
    }
    /// `(name, value)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f32)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }
    /// Whether nothing is logged.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The first loss (`loss`, `val_loss` or any `..._loss`) that is NaN or infinite, if any.
    pub fn non_finite_loss(&self) -> Option<(&str, f32)> {
        self.iter().find(|(k, v)| (*k == "loss" || k.ends_with("_loss")) && !v.is_finite())
    }
    /// `loss: 0.1234 - accuracy: 0.9876`, as a progress bar shows it.
    pub fn line(&self) -> String {
        self.entries.iter().map(|(k, v)| format!("{k}: {v:.4}")).collect::<Vec<_>>().join(" - ")
    }
}

/// Per-epoch logs of a `fit` (Keras' `History`).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The 0-based index of each epoch run.
    pub epochs: Vec<usize>,
    /// The end-of-epoch logs of each epoch, in the same order.
    pub logs: Vec<Logs>,
    /// Why the run ended before its last epoch, when a callback said (e.g. `TerminateOnNan`).
    pub stop_reason: Option<StopReason>,
}

/// Why a callback stopped `fit` (set in `Model::stop_reason`, returned in `History`).
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// A logged loss was NaN or infinite: the model's weights are likely not usable.
    NonFiniteLoss {
        /// The log (`loss`, `val_loss`, ...).
        name: String,
        /// Its value.
        value: f32,
        /// The 0-based epoch.
        epoch: usize,
        /// The 0-based batch of the read-back that showed it; `None` at the end of the epoch.
        batch: Option<usize>,
    },
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::NonFiniteLoss { name, value, epoch, batch } => {
                write!(f, "{name} is {value} at epoch {}", epoch + 1)?;
                match batch {
                    Some(b) => write!(f, ", batch {}", b + 1),
                    None => write!(f, " (end of epoch)"),
                }
            }
        }
    }
}

impl History {
    /// The values of `name`, one per epoch that logged it.
    pub fn get(&self, name: &str) -> Vec<f32> {
        self.logs.iter().filter_map(|l| l.get(name)).collect()
    }
}
