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
}

impl History {
    /// The values of `name`, one per epoch that logged it.
    pub fn get(&self, name: &str) -> Vec<f32> {
        self.logs.iter().filter_map(|l| l.get(name)).collect()
    }
}
