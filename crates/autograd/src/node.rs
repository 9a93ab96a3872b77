//! A recorded op: what its backward rule needs and where its input gradients go.
//!
//! Ownership: a node owns the tensors it saved for backward and points at its inputs' graph
//! records ([`Meta`]), never at their data, so a forward activation that no backward rule
//! saved is freed as soon as the user drops it. The engine drops each node once its
//! gradients have been propagated (unless the graph is retained), which frees its saved
//! tensors during the backward pass itself.

use std::sync::Arc;

use wgtrain_tensor::Tensor;

use crate::error::{AutogradError, Result};
use crate::mode::is_grad_enabled;
use crate::var::{Meta, Var};

/// What a backward rule sees: the gradient of the op's output, the tensors the op saved (in
/// the order it saved them), and which inputs need a gradient (rules skip the others).
pub struct Backward<'a> {
    /// Gradient of the op's output, shaped like the output.
    pub grad: &'a Tensor,
    /// The tensors the op saved, in the order it saved them.
    pub saved: &'a [Tensor],
    /// Per input: whether it needs a gradient.
    pub needs: &'a [bool],
}

impl Backward<'_> {
    /// Whether input `i` needs a gradient.
    pub fn needs(&self, i: usize) -> bool {
        self.needs.get(i).copied().unwrap_or(false)
    }
}

/// A backward rule: one gradient per input (`None` where not needed), each of that input's shape.
pub type BackwardFn = dyn Fn(&Backward<'_>) -> Result<Vec<Option<Tensor>>> + Send + Sync;

pub(crate) struct Node {
    pub(crate) op: &'static str,
    /// The graph records of inputs that require a gradient (`None` for the others).
    pub(crate) inputs: Vec<Option<Arc<Meta>>>,
    /// Saved tensors and their storage versions at save time.
    pub(crate) saved: Vec<(Tensor, u64)>,
    pub(crate) backward: Box<BackwardFn>,
}

impl Node {
    /// Fails if a saved tensor was written in place since it was saved.
    pub(crate) fn check_versions(&self) -> Result<()> {
        for (index, (t, saved)) in self.saved.iter().enumerate() {
            let now = t.version();
            if now != *saved {
                return Err(AutogradError::ModifiedInPlace { op: self.op, index, saved: *saved, now });
            }
        }
        Ok(())
    }

    /// Runs the rule on `grad` and checks it returned one gradient of the right shape per input.
    pub(crate) fn run(&self, grad: &Tensor) -> Result<Vec<Option<Tensor>>> {
        self.check_versions()?;
        let saved: Vec<Tensor> = self.saved.iter().map(|(t, _)| t.clone()).collect();
        let needs: Vec<bool> = self.inputs.iter().map(Option::is_some).collect();
        let grads = (self.backward)(&Backward { grad, saved: &saved, needs: &needs })?;
        if grads.len() != self.inputs.len() {
            return Err(AutogradError::GradCount { op: self.op, expected: self.inputs.len(), got: grads.len() });
        }
        for (index, (g, input)) in grads.iter().zip(&self.inputs).enumerate() {
            if let (Some(g), Some(m)) = (g, input)
                && g.shape() != m.shape.as_slice()
            {
                return Err(AutogradError::GradShape {
                    op: self.op,
                    index,
                    expected: m.shape.clone(),
                    got: g.shape().to_vec(),
                });
            }
        }
        Ok(grads)
    }
}

/// The output of op `op`: a value that records `backward` when grad mode is on and some input
/// requires a gradient, else a plain constant. `saved` are the tensors `backward` will read
/// (their versions are checked before it runs).
pub fn record(
    op: &'static str,
    output: Tensor,
    inputs: &[&Var],
    saved: Vec<Tensor>,
    backward: impl Fn(&Backward<'_>) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
) -> Var {
    if !is_grad_enabled() || !inputs.iter().any(|v| v.requires_grad()) {
        return Var::constant(output);
    }
    let node = Node {
        op,
        inputs: inputs.iter().map(|v| v.requires_grad().then(|| v.meta().clone())).collect(),
        saved: saved.into_iter().map(|t| (t.clone(), t.version())).collect(),
        backward: Box::new(backward),
    };
    Var::from_node(output, Arc::new(node))
}
