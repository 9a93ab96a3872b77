//! The backward pass: one walk over the graph in reverse topological order.
//!
//! Graph records are numbered in creation order, so a max-heap of ids pops every value after
//! all the ops that consumed it: its gradient is complete (summed over every use) when it is
//! popped. No recursion, so deep graphs cannot overflow the stack. Gradients wait in a map
//! until their value is popped and are dropped right after; each node is dropped as soon as it
//! has run (unless the graph is retained), freeing its saved tensors mid-pass.
//!
//! A gradient has its value's dtype: one that arrives in another (an f32 loss gradient for
//! f16 logits, under mixed precision) is cast on arrival, so no backward rule mixes dtypes and
//! a cast's own rule is the identity.

use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use wgtrain_tensor::Tensor;

use crate::error::{AutogradError, Result};
use crate::var::{Meta, Origin, lock};

pub(crate) fn backward(root: &Arc<Meta>, seed: Tensor, retain_graph: bool) -> Result<()> {
    if !root.requires_grad() {
        return Err(AutogradError::NoGradPath);
    }
    let mut pending: HashMap<u64, (Arc<Meta>, Tensor)> = HashMap::new();
    let mut heap = BinaryHeap::new();
    pending.insert(root.id, (root.clone(), in_dtype(seed, root)?));
    heap.push(root.id);
    while let Some(id) = heap.pop() {
        let Some((meta, mut grad)) = pending.remove(&id) else { continue };
        for hook in lock(&meta.hooks).iter() {
            if let Some(g) = hook(&grad)? {
                // A hook may replace the gradient, but not with one of another shape: every
                // rule downstream relies on a gradient shaped like its value.
                if g.shape() != meta.shape.as_slice() {
                    let (expected, got) = (meta.shape.clone(), g.shape().to_vec());
                    return Err(AutogradError::GradShape { op: "register_hook", index: 0, expected, got });
                }
                grad = g;
            }
        }
        let node = {
            let mut origin = lock(&meta.origin);
            match &*origin {
                Origin::Leaf => None,
                Origin::Freed(op) => return Err(AutogradError::GraphFreed { op }),
                Origin::Op(node) => {
                    let node = node.clone();
                    if !retain_graph {
                        *origin = Origin::Freed(node.op);
                    }
                    Some(node)
                }
            }
        };
        let Some(node) = node else {
            if meta.requires_grad() {
                accumulate_leaf(&meta, grad)?;
            }
            continue;
        };
        let grads = node.run(&grad)?;
        drop(grad);
        for (input, g) in node.inputs.iter().zip(grads) {
            let (Some(input), Some(g)) = (input, g) else { continue };
            let g = in_dtype(g, input)?;
            match pending.get_mut(&input.id) {
                Some((_, acc)) => *acc = acc.add(&g)?,
                None => {
                    pending.insert(input.id, (input.clone(), g));
                    heap.push(input.id);
                }
            }
        }
    }
    Ok(())
}

/// `grad` in the dtype of the value it is the gradient of.
fn in_dtype(grad: Tensor, meta: &Meta) -> Result<Tensor> {
    if grad.dtype() == meta.dtype { Ok(grad) } else { Ok(grad.cast(meta.dtype)?) }
}

/// Adds `grad` to a leaf's gradient. Stored row-major at element 0 of its storage, since the
/// fused optimizer kernels read it densely.
fn accumulate_leaf(meta: &Meta, grad: Tensor) -> Result<()> {
    let mut slot = lock(&meta.grad);
    let sum = match slot.as_ref() {
        Some(old) => old.add(&grad)?,
        None if grad.is_contiguous() && grad.offset() == 0 => grad,
        None => grad.copy()?,
    };
    *slot = Some(sum);
    Ok(())
}
