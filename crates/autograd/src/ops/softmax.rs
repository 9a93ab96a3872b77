//! Softmax, log-softmax and the fused softmax + cross-entropy loss.

use wgtrain_tensor::{Tensor, XentOptions};

use crate::error::Result;
use crate::node::record;
use crate::var::Var;

/// How per-sample losses become the loss (PyTorch's `reduction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The weighted mean: sum of losses over the sum of the samples' class weights.
    #[default]
    Mean,
    /// The sum of the (weighted) per-sample losses.
    Sum,
    /// One loss per sample.
    None,
}

impl Var {
    /// Softmax along `axis`. d/dx: `y * (dy - sum(dy * y))`, from the output alone.
    pub fn softmax(&self, axis: isize) -> Result<Var> {
        let y = self.data().softmax(axis)?;
        Ok(record("softmax", y.clone(), &[self], vec![y], move |c| {
            Ok(vec![Some(c.saved[0].softmax_backward(c.grad, axis)?)])
        }))
    }

    /// Log-softmax along `axis`. d/dx: `dy - exp(y) * sum(dy)`, from the output alone.
    pub fn log_softmax(&self, axis: isize) -> Result<Var> {
        let y = self.data().log_softmax(axis)?;
        Ok(record("log_softmax", y.clone(), &[self], vec![y], move |c| {
            Ok(vec![Some(c.saved[0].log_softmax_backward(c.grad, axis)?)])
        }))
    }

    /// Softmax cross-entropy of logits `[n, c]` (self) against integer `labels` `[n]`, in one
    /// fused kernel each way (PyTorch's `cross_entropy`: class weights, label smoothing, an
    /// optional `ignore_index`; any other label out of range is reported by the next
    /// read-back). The gradient is `softmax - target`, never through a log of 0.
    pub fn cross_entropy(&self, labels: &Tensor, o: &XentOptions, reduction: Reduction) -> Result<Var> {
        let (loss, wy) = self.data().cross_entropy_parts(labels, o)?;
        let n = loss.len();
        let (y, norm) = match reduction {
            Reduction::None => (loss, None),
            Reduction::Sum => (loss.sum_all()?, None),
            Reduction::Mean => {
                let wsum = wy.sum_all()?;
                (loss.sum_all()?.div(&wsum)?, Some(wsum))
            }
        };
        let (smoothing, ignore_index) = (o.label_smoothing, o.ignore_index);
        let has_weights = o.class_weights.is_some();
        let mut saved = vec![self.data().clone(), labels.clone()];
        saved.extend(norm);
        saved.extend(o.class_weights.cloned());
        Ok(record("cross_entropy", y, &[self], saved, move |c| {
            let (logits, labels) = (&c.saved[0], &c.saved[1]);
            // Per-sample upstream: dy itself, or the scalar dy (over the weight sum) broadcast.
            let up = match reduction {
                Reduction::None => c.grad.clone(),
                Reduction::Sum => c.grad.broadcast_to(&[n])?,
                Reduction::Mean => c.grad.div(&c.saved[2])?.broadcast_to(&[n])?,
            };
            let weights = if has_weights { c.saved.last() } else { None };
            let o = XentOptions { class_weights: weights, label_smoothing: smoothing, ignore_index };
            Ok(vec![Some(logits.cross_entropy_grad(labels, &up, &o)?)])
        }))
    }
}
