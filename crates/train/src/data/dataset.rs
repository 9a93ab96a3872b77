//! Datasets: indexable collections of examples.

use crate::error::{Result, TrainError};

/// The target of one example.
#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    /// A class index (sparse categorical targets).
    Class(u32),
    /// Target values (regression, one-hot or multi-label targets).
    Values(Vec<f32>),
}

/// One example: its features (row-major, of the dataset's `sample_shape`) and its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The features, flattened in row-major order of the dataset's `sample_shape`.
    pub x: Vec<f32>,
    /// The target.
    pub y: Label,
}

/// An indexable collection of examples. `get` may decode, read from disk or generate; it
/// runs on the loader's worker threads, hence `Send + Sync`.
pub trait Dataset: Send + Sync {
    /// Number of examples.
    fn len(&self) -> usize;
    /// Whether there are no examples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The shape of one example's features (e.g. `[3, 32, 32]`).
    fn sample_shape(&self) -> Vec<usize>;
    /// Example `index` (< `len()`).
    fn get(&self, index: usize) -> Result<Example>;
}

/// Examples held in host memory: features `[n, ...sample_shape]` row-major, and one label
/// per example.
#[derive(Debug, Clone)]
pub struct InMemory {
    x: Vec<f32>,
    shape: Vec<usize>,
    labels: Vec<Label>,
}

impl InMemory {
    /// Checks that `x` holds one `sample_shape` block per label.
    pub fn new(x: Vec<f32>, sample_shape: &[usize], labels: Vec<Label>) -> Result<Self> {
        let per: usize = sample_shape.iter().product();
        if x.len() != per * labels.len() {
            let why = format!(
                "{} feature values for {} labels of shape {sample_shape:?} (expected {})",
                x.len(),
                labels.len(),
                per * labels.len()
            );
            return Err(TrainError::config("InMemory dataset", why));
        }
        Ok(InMemory { x, shape: sample_shape.to_vec(), labels })
    }
    /// Examples with class labels.
    pub fn classes(x: Vec<f32>, sample_shape: &[usize], labels: &[u32]) -> Result<Self> {
        Self::new(x, sample_shape, labels.iter().map(|&c| Label::Class(c)).collect())
    }
    /// Moves the examples from `at` on into a dataset of their own (a train/validation split).
    pub fn split_off(&mut self, at: usize) -> InMemory {
        let at = at.min(self.labels.len());
        let per: usize = self.shape.iter().product();
        let x = self.x.split_off(at * per);
        let labels = self.labels.split_off(at);
        InMemory { x, shape: self.shape.clone(), labels }
    }
}

impl Dataset for InMemory {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn sample_shape(&self) -> Vec<usize> {
        self.shape.clone()
    }
    fn get(&self, index: usize) -> Result<Example> {
        let per: usize = self.shape.iter().product();
        let y = self.labels.get(index).cloned().ok_or_else(|| {
            TrainError::config(
                "InMemory dataset",
                format!("index {index} out of range for {} examples", self.labels.len()),
            )
        })?;
        Ok(Example { x: self.x[index * per..(index + 1) * per].to_vec(), y })
    }
}
