//! # wgtrain-autograd
//!
//! Define-by-run automatic differentiation on wgtrain's device tensors. Every op on a [`Var`]
//! runs its GPU kernel at once and, when grad mode is on and an input requires a gradient,
//! records a node holding its backward rule and the tensors that rule needs. `backward()`
//! walks the recorded graph once, in reverse creation order, and accumulates gradients into
//! the leaves. Backward rules are GPU kernels of the tensor crate too: no host round-trips.
//!
//! ## Who owns what
//! - A node owns the tensors it saved; it points at its inputs' graph records, not their data,
//!   so activations that no rule saved are freed as soon as the user drops them.
//! - `backward()` drops each node as soon as it has run, freeing its saved tensors during the
//!   pass; a second backward through the same graph is an error unless the first passed
//!   `retain_graph: true`. Dropping the output drops an unused graph.
//! - Leaves accumulate gradients across backward calls until `zero_grad()`.
//! - In-place writes (optimizer steps, running statistics, `assign`) bump a tensor's storage
//!   version; a rule whose saved tensor changed reports it instead of using it.
//!
//! ```no_run
//! use wgtrain_autograd::Var;
//! use wgtrain_tensor::{Device, Tensor};
//! # fn main() -> wgtrain_autograd::Result<()> {
//! let dev = Device::new()?;
//! let w = Var::parameter(Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?);
//! let x = Var::constant(Tensor::from_slice(&dev, &[1.0f32, -1.0], &[1, 2])?);
//! let loss = x.matmul(&w)?.relu()?.sum_all()?;
//! loss.backward()?;
//! assert_eq!(w.grad().unwrap().to_vec::<f32>()?, vec![0.0, 0.0, 0.0, 0.0]); // x @ w = [-2, -2]
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod cast_copy;
mod custom;
mod engine;
mod error;
pub mod gradcheck;
mod mode;
mod node;
mod ops;
mod var;

pub use custom::CustomOp;
pub use error::{AutogradError, Result};
pub use gradcheck::{CheckInput, GradcheckOptions, GradcheckReport, gradcheck};
pub use mode::{NoGradGuard, is_grad_enabled, no_grad};
pub use node::{Backward, BackwardFn};
pub use ops::Reduction;
pub use var::{BackwardOptions, Hook, Var};
