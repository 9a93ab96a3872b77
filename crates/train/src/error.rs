//! Errors of the training crate: a lower layer's error, or a problem with a model, its data or
//! its files, naming the layer, file or field and what was expected.

use thiserror::Error;
use wgtrain_autograd::AutogradError;
use wgtrain_tensor::TensorError;

/// Result of training operations.
pub type Result<T> = std::result::Result<T, TrainError>;

#[derive(Debug, Error)]
pub enum TrainError {
    #[error(transparent)]
    Autograd(#[from] AutogradError),
    #[error(transparent)]
    Tensor(#[from] TensorError),
    #[error("{layer}: expected input of shape {expected}, got {got:?}")]
    Shape { layer: String, expected: String, got: Vec<usize> },
    #[error("{what}: {why}")]
    Config { what: String, why: String },
    #[error("{file}: {why}")]
    Checkpoint { file: String, why: String },
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
}

impl TrainError {
    /// A configuration error about `what`.
    pub fn config(what: impl Into<String>, why: impl Into<String>) -> Self {
        TrainError::Config { what: what.into(), why: why.into() }
    }
}
