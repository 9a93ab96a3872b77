//! Errors of the autograd layer: a tensor op's own error, or a misuse of the graph, each
//! naming the op and what was expected.

use thiserror::Error;
use wgtrain_tensor::TensorError;

/// Result of autograd operations.
pub type Result<T> = std::result::Result<T, AutogradError>;

#[derive(Debug, Error)]
pub enum AutogradError {
    #[error(transparent)]
    Tensor(#[from] TensorError),
    #[error(
        "backward: a value of shape {shape:?} is not a scalar; pass an upstream gradient of that shape \
         (backward_with) or reduce it to a scalar first"
    )]
    NonScalar { shape: Vec<usize> },
    #[error("backward: the upstream gradient has shape {got:?}, the value has shape {expected:?}")]
    UpstreamShape { expected: Vec<usize>, got: Vec<usize> },
    #[error(
        "backward: this value does not require a gradient and has no path to one \
         (made from constants, under no_grad, or detached)"
    )]
    NoGradPath,
    #[error(
        "backward: the graph through `{op}` was already freed by an earlier backward; \
         pass retain_graph: true to the first backward to differentiate a graph twice"
    )]
    GraphFreed { op: &'static str },
    #[error(
        "backward of `{op}`: its saved input {index} was modified in place after the forward pass \
         (version {saved} when saved, {now} now); clone it before modifying, or run the in-place \
         update after backward"
    )]
    ModifiedInPlace { op: &'static str, index: usize, saved: u64, now: u64 },
    #[error("backward of `{op}`: gradient {index} has shape {got:?}, its input has shape {expected:?}")]
    GradShape { op: &'static str, index: usize, expected: Vec<usize>, got: Vec<usize> },
    #[error("backward of `{op}`: returned {got} gradients for {expected} inputs")]
    GradCount { op: &'static str, expected: usize, got: usize },
    #[error("{op}: {why}")]
    Argument { op: &'static str, why: String },
    #[error("gradcheck failed for input {input}: {failures} of {total} elements off; first: {first}")]
    GradcheckFailed { input: usize, failures: usize, total: usize, first: String },
}
