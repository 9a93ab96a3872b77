//! Errors of the training crate: a lower layer's error, or a problem with a model, its data or
//! its files, naming the layer, file or field and what was expected.

use thiserror::Error;
use wgtrain_autograd::AutogradError;
use wgtrain_tensor::TensorError;

/// Result of training operations.
pub type Result<T> = std::result::Result<T, TrainError>;

/// What can go wrong while building, training, saving or loading a model.
#[derive(Debug, Error)]
pub enum TrainError {
    /// An autograd error (graph misuse, or a tensor error inside an op).
    #[error(transparent)]
    Autograd(#[from] AutogradError),
    /// A tensor op's error.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// Data of the wrong shape for a layer or a model (checked when layers are built and when
    /// batches are fed).
    #[error("{layer}: expected input of shape {expected}, got {got:?}")]
    Shape {
        /// The layer (or `fit`, `predict`, ...) that checked.
        layer: String,
        /// The expected shape, in words.
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// An invalid setting or call order (e.g. `fit` before `compile`, a bad callback option).
    #[error("{what}: {why}")]
    Config {
        /// The component or call.
        what: String,
        /// What is wrong.
        why: String,
    },
    /// An optimizer hyper-parameter out of its range (a NaN or negative learning rate, a beta
    /// outside [0, 1), ...): refused by `set_learning_rate`, `step` and `fit` before any update.
    #[error("{optimizer}: {name} must be {expected}, got {value}")]
    Hyperparameter {
        /// The optimizer (`"Adam"`, `"SGD"`, ...).
        optimizer: String,
        /// The hyper-parameter (`"learning rate"`, `"beta1"`, ...).
        name: String,
        /// Its valid range, in words.
        expected: String,
        /// The value given.
        value: f32,
    },
    /// A checkpoint or weights file that is malformed or does not match the model.
    #[error("{file}: {why}")]
    Checkpoint {
        /// The file.
        file: String,
        /// What does not match, listing every difference.
        why: String,
    },
    /// A data set's file or archive that is missing, malformed or unsafe (naming the file, and
    /// the record or archive entry concerned).
    #[error("{file}: {why}")]
    Data {
        /// The file or folder.
        file: String,
        /// What is wrong with it, and what to do.
        why: String,
    },
    /// A download that failed, timed out or stalled (naming the URL and the timeout).
    #[error("download of {url} failed: {why}")]
    Download {
        /// The address.
        url: String,
        /// What happened, and what to do.
        why: String,
    },
    /// `fit` with `check_numerics` found a parameter or its gradient non-finite (NaN or
    /// infinity) at a read-back: training stopped there.
    #[error(
        "fit: parameter {param} or its gradient holds NaN or infinity (check_numerics, found at the \
         read-back after step {step}); lower the learning rate, clip gradients, or check the data"
    )]
    NonFinite {
        /// The first parameter concerned, by its name in the model (`dense_1/kernel`).
        param: String,
        /// The global step count when it was read back (it went bad at or before this step).
        step: u64,
    },
    /// Reading or writing a file failed.
    #[error("{file}: {source}")]
    Io {
        /// The file or folder.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl TrainError {
    /// A configuration error about `what`.
    pub fn config(what: impl Into<String>, why: impl Into<String>) -> Self {
        TrainError::Config { what: what.into(), why: why.into() }
    }
}
