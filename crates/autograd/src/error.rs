//! Errors of the autograd layer: a tensor op's own error, or a misuse of the graph, each
//! naming the op and what was expected.

use thiserror::Error;
use wgtrain_tensor::TensorError;

/// Result of autograd operations.
pub type Result<T> = std::result::Result<T, AutogradError>;

/// What can go wrong in the autograd layer: an op's tensor error, or a misuse of the graph.
#[derive(Debug, Error)]
pub enum AutogradError {
    /// The underlying tensor op failed (shape, dtype, device, limit, ...).
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// `backward()` without an upstream gradient on a value with more than one element.
    #[error(
        "backward: a value of shape {shape:?} is not a scalar; pass an upstream gradient of that shape \
         (backward_with) or reduce it to a scalar first"
    )]
    NonScalar {
        /// The value's shape.
        shape: Vec<usize>,
    },
    /// The upstream gradient given to backward does not have the value's shape.
    #[error("backward: the upstream gradient has shape {got:?}, the value has shape {expected:?}")]
    UpstreamShape {
        /// The value's shape.
        expected: Vec<usize>,
        /// The upstream gradient's shape.
        got: Vec<usize>,
    },
    /// Backward from a value that does not require a gradient.
    #[error(
        "backward: this value does not require a gradient and has no path to one \
         (made from constants, under no_grad, or detached)"
    )]
    NoGradPath,
    /// A second backward through a graph the first backward freed (`retain_graph` was false).
    #[error(
        "backward: the graph through `{op}` was already freed by an earlier backward; \
         pass retain_graph: true to the first backward to differentiate a graph twice"
    )]
    GraphFreed {
        /// The op whose node was freed.
        op: &'static str,
    },
    /// A tensor a backward rule saved was written in place (its storage version changed).
    #[error(
        "backward of `{op}`: its saved input {index} was modified in place after the forward pass \
         (version {saved} when saved, {now} now); clone it before modifying, or run the in-place \
         update after backward"
    )]
    ModifiedInPlace {
        /// The op whose rule saved the tensor.
        op: &'static str,
        /// Position of the tensor among the op's saved tensors.
        index: usize,
        /// Storage version when it was saved.
        saved: u64,
        /// Storage version now.
        now: u64,
    },
    /// A backward rule (typically a [`CustomOp`](crate::CustomOp)'s) returned a gradient whose
    /// shape differs from its input's.
    #[error("backward of `{op}`: gradient {index} has shape {got:?}, its input has shape {expected:?}")]
    GradShape {
        /// The op whose rule misbehaved.
        op: &'static str,
        /// The input position.
        index: usize,
        /// The input's shape.
        expected: Vec<usize>,
        /// The returned gradient's shape.
        got: Vec<usize>,
    },
    /// A backward rule returned a number of gradients other than its number of inputs.
    #[error("backward of `{op}`: returned {got} gradients for {expected} inputs")]
    GradCount {
        /// The op whose rule misbehaved.
        op: &'static str,
        /// Inputs of the op.
        expected: usize,
        /// Gradients returned.
        got: usize,
    },
    /// An argument is invalid for the op (e.g. `set_grad` with the wrong shape).
    #[error("{op}: {why}")]
    Argument {
        /// The op that checked.
        op: &'static str,
        /// What is wrong.
        why: String,
    },
    /// [`gradcheck`](crate::gradcheck()) found elements outside the tolerance.
    #[error("gradcheck failed for input {input}: {failures} of {total} elements off; first: {first}")]
    GradcheckFailed {
        /// The input whose gradient is off; `usize::MAX` when the forward values disagree.
        input: usize,
        /// Elements outside the tolerance.
        failures: usize,
        /// Elements checked.
        total: usize,
        /// The first failing element: its index, the GPU value and the reference value.
        first: String,
    },
}
