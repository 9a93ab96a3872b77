//! [`Var`]: a device tensor that takes part in differentiation.
//!
//! A `Var` is its data (a [`Tensor`]) plus a shared graph record ([`Meta`]): whether it needs
//! a gradient, the op that made it (or that it is a leaf), its accumulated gradient (leaves
//! only) and its gradient hooks. Clones share both, so `a.clone()` is the same variable.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use wgtrain_tensor::{DType, Device, Tensor};

use crate::cast_copy::CastCopy;
use crate::engine;
use crate::error::{AutogradError, Result};
use crate::node::Node;

/// Graph records are numbered in creation order: an op's output is always made after its
/// inputs, so decreasing ids are a topological order of any graph.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A gradient hook: sees the gradient flowing into a variable and may replace it.
pub type Hook = Box<dyn Fn(&Tensor) -> Result<Option<Tensor>> + Send + Sync>;

/// Where a variable's value came from.
pub(crate) enum Origin {
    /// Made by the user (a parameter, an input, a constant).
    Leaf,
    /// Made by a recorded op.
    Op(Arc<Node>),
    /// Made by an op whose graph a backward pass has freed.
    Freed(&'static str),
}

/// The graph record of a variable, shared by its clones and by the nodes that consumed it.
pub(crate) struct Meta {
    pub(crate) id: u64,
    pub(crate) shape: Vec<usize>,
    /// The value's dtype: its gradient is kept in it (the engine casts what arrives).
    pub(crate) dtype: DType,
    requires_grad: AtomicBool,
    pub(crate) origin: Mutex<Origin>,
    pub(crate) grad: Mutex<Option<Tensor>>,
    pub(crate) hooks: Mutex<Vec<Hook>>,
    /// A leaf's copy in another dtype (`cast_copy.rs`).
    pub(crate) cast_copy: Mutex<Option<CastCopy>>,
}

/// Locks a mutex, ignoring poisoning: every value behind these locks is replaced whole, so a
/// panic elsewhere cannot leave one half-written.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Meta {
    fn new(shape: &[usize], dtype: DType, requires_grad: bool, origin: Origin) -> Arc<Meta> {
        Arc::new(Meta {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape: shape.to_vec(),
            dtype,
            requires_grad: AtomicBool::new(requires_grad),
            origin: Mutex::new(origin),
            grad: Mutex::new(None),
            hooks: Mutex::new(Vec::new()),
            cast_copy: Mutex::new(None),
        })
    }
    pub(crate) fn requires_grad(&self) -> bool {
        self.requires_grad.load(Ordering::Relaxed)
    }
}

/// A differentiable value: a device tensor and its place in the graph.
///
/// Make leaves with [`Var::parameter`] (trainable) or [`Var::constant`] (inputs, labels); ops on
/// `Var`s run their kernel at once and record a backward rule while grad mode is on and some
/// input requires a gradient. Clones share the data and the graph record.
#[derive(Clone)]
pub struct Var {
    data: Tensor,
    meta: Arc<Meta>,
}

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = match &*lock(&self.meta.origin) {
            Origin::Leaf => "leaf".to_string(),
            Origin::Op(n) => n.op.to_string(),
            Origin::Freed(op) => format!("{op} (freed)"),
        };
        write!(f, "Var({:?}, requires_grad: {}, from: {origin})", self.data, self.requires_grad())
    }
}

/// Options of [`Var::backward_with_options`].
#[derive(Debug, Clone, Default)]
pub struct BackwardOptions {
    /// The gradient of the value being differentiated (ones for a scalar when `None`).
    pub upstream: Option<Tensor>,
    /// Keep the graph (and its saved tensors) for another backward pass.
    pub retain_graph: bool,
}

impl Var {
    /// A leaf that accumulates a gradient: a trainable parameter.
    pub fn parameter(data: Tensor) -> Var {
        Var::leaf(data, true)
    }
    /// A leaf that needs no gradient: an input, a label, a frozen value.
    pub fn constant(data: Tensor) -> Var {
        Var::leaf(data, false)
    }
    /// A leaf that does or does not need a gradient.
    pub fn leaf(data: Tensor, requires_grad: bool) -> Var {
        let meta = Meta::new(data.shape(), data.dtype(), requires_grad, Origin::Leaf);
        Var { data, meta }
    }
    pub(crate) fn from_node(data: Tensor, node: Arc<Node>) -> Var {
        let meta = Meta::new(data.shape(), data.dtype(), true, Origin::Op(node));
        Var { data, meta }
    }
    pub(crate) fn meta(&self) -> &Arc<Meta> {
        &self.meta
    }

    /// The value. Ops on it directly are not recorded.
    pub fn data(&self) -> &Tensor {
        &self.data
    }
    /// The value's shape.
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }
    /// The value's number of dimensions.
    pub fn rank(&self) -> usize {
        self.data.rank()
    }
    /// The value's number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }
    /// Whether the value has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// The value's element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }
    /// The device the value lives on.
    pub fn device(&self) -> &Device {
        self.data.device()
    }
    /// The value on the host (a read-back: waits for the GPU).
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        Ok(self.data.to_vec::<f32>()?)
    }
    /// The value of a one-element variable on the host (a read-back).
    pub fn item(&self) -> Result<f32> {
        Ok(self.data.item::<f32>()?)
    }

    /// Whether backward computes a gradient for this value.
    pub fn requires_grad(&self) -> bool {
        self.meta.requires_grad()
    }
    /// Freezes (`false`) or unfreezes a leaf: a frozen parameter gets no gradient and ops on
    /// it alone record nothing (transfer learning). Only leaves can change.
    pub fn set_requires_grad(&self, requires_grad: bool) -> Result<()> {
        if !self.is_leaf() {
            let why = "only leaves can change requires_grad; use detach() for an op's output".into();
            return Err(AutogradError::Argument { op: "set_requires_grad", why });
        }
        self.meta.requires_grad.store(requires_grad, Ordering::Relaxed);
        Ok(())
    }
    /// Whether the user made this value (it was not made by a recorded op).
    pub fn is_leaf(&self) -> bool {
        matches!(*lock(&self.meta.origin), Origin::Leaf)
    }
    /// The name of the op that made this value, if any.
    pub fn op(&self) -> Option<&'static str> {
        match &*lock(&self.meta.origin) {
            Origin::Leaf => None,
            Origin::Op(n) => Some(n.op),
            Origin::Freed(op) => Some(op),
        }
    }

    /// The gradient accumulated by backward passes (leaves only; `None` before the first).
    /// Treat it as read-only: replace it with [`set_grad`](Self::set_grad).
    pub fn grad(&self) -> Option<Tensor> {
        lock(&self.meta.grad).clone()
    }
    /// Replaces the accumulated gradient (gradient clipping, or loading optimizer state).
    pub fn set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad
            && g.shape() != self.shape()
        {
            let why = format!("gradient of shape {:?} for a value of shape {:?}", g.shape(), self.shape());
            return Err(AutogradError::Argument { op: "set_grad", why });
        }
        *lock(&self.meta.grad) = grad;
        Ok(())
    }
    /// Forgets the accumulated gradient (PyTorch's `zero_grad(set_to_none=True)`): the next
    /// backward starts from zero without a kernel to clear a buffer.
    pub fn zero_grad(&self) {
        *lock(&self.meta.grad) = None;
    }

    /// The same data as a new leaf that needs no gradient: gradients stop here.
    pub fn detach(&self) -> Var {
        Var::constant(self.data.clone())
    }

    /// Calls `hook` with every gradient that flows into this value during backward, before it
    /// is accumulated (leaves) or propagated (op outputs); a `Some` return replaces it. Hooks
    /// run in registration order. Used for gradient clipping and gradient-norm logging.
    pub fn register_hook(&self, hook: impl Fn(&Tensor) -> Result<Option<Tensor>> + Send + Sync + 'static) {
        lock(&self.meta.hooks).push(Box::new(hook));
    }

    /// Differentiates this scalar: accumulates d self / d leaf into every leaf that requires a
    /// gradient, then frees the graph. Fails with [`AutogradError::NonScalar`] on a value of
    /// more than one element (use [`backward_with`](Self::backward_with)), and with
    /// [`AutogradError::GraphFreed`] on a second pass through the same graph.
    ///
    /// ```no_run
    /// use wgtrain_autograd::Var;
    /// use wgtrain_tensor::{Device, Tensor};
    /// # fn main() -> wgtrain_autograd::Result<()> {
    /// let dev = Device::new()?;
    /// let w = Var::parameter(Tensor::from_slice(&dev, &[0.5f32, -1.0, 2.0], &[3])?);
    /// let x = Var::constant(Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0], &[3])?);
    /// // loss = sum((w * x)^2): d loss / d w = 2 w x^2
    /// let loss = w.mul(&x)?.square()?.sum_all()?;
    /// loss.backward()?;
    /// assert_eq!(w.grad().unwrap().to_vec::<f32>()?, vec![1.0, -8.0, 36.0]);
    /// assert!(x.grad().is_none()); // constants get no gradient
    /// // Gradients accumulate across passes until cleared.
    /// w.zero_grad();
    /// # Ok(()) }
    /// ```
    pub fn backward(&self) -> Result<()> {
        self.backward_with_options(BackwardOptions::default())
    }
    /// Differentiates this value of any shape with `upstream` as its gradient (a vector-Jacobian
    /// product), then frees the graph.
    pub fn backward_with(&self, upstream: &Tensor) -> Result<()> {
        self.backward_with_options(BackwardOptions { upstream: Some(upstream.clone()), retain_graph: false })
    }
    /// Backward with every option.
    pub fn backward_with_options(&self, options: BackwardOptions) -> Result<()> {
        let seed = match options.upstream {
            Some(g) => {
                if g.shape() != self.shape() {
                    return Err(AutogradError::UpstreamShape {
                        expected: self.shape().to_vec(),
                        got: g.shape().to_vec(),
                    });
                }
                g
            }
            None => {
                if self.len() != 1 {
                    return Err(AutogradError::NonScalar { shape: self.shape().to_vec() });
                }
                // Written by the host with the next submit: no fill dispatch (about 0.1 ms on
                // a CPU adapter, once per training step).
                Tensor::from_slice(self.device(), &[1.0f32], self.shape())?
            }
        };
        engine::backward(&self.meta, seed, options.retain_graph)
    }
}
