//! User-defined differentiable ops (PyTorch's `autograd.Function`): a forward that returns the
//! output and the tensors to save, and a backward rule. Either side may compose tensor ops or
//! run the user's own WGSL through [`wgtrain_tensor::CustomKernel`]; the op then takes part in
//! the graph like a built-in one (saved-tensor version checks, hooks, accumulation).

use std::sync::Arc;

use wgtrain_tensor::Tensor;

use crate::error::Result;
use crate::node::{Backward, record};
use crate::var::Var;

/// A differentiable op defined by the user.
pub trait CustomOp: Send + Sync + 'static {
    /// The name errors and `Var::op` report.
    fn name(&self) -> &'static str;
    /// The output for `inputs`, and the tensors backward will read (in the order it reads them).
    fn forward(&self, inputs: &[&Tensor]) -> Result<(Tensor, Vec<Tensor>)>;
    /// One gradient per input (each of that input's shape), `None` where `ctx.needs(i)` is false
    /// or the input is not differentiable.
    fn backward(&self, ctx: &Backward<'_>) -> Result<Vec<Option<Tensor>>>;
}

impl Var {
    /// Runs a custom op on `inputs` and records it for backward.
    pub fn apply(op: impl CustomOp, inputs: &[&Var]) -> Result<Var> {
        let tensors: Vec<&Tensor> = inputs.iter().map(|v| v.data()).collect();
        let (output, saved) = op.forward(&tensors)?;
        let op = Arc::new(op);
        let name = op.name();
        Ok(record(name, output, inputs, saved, move |ctx| op.backward(ctx)))
    }
}
