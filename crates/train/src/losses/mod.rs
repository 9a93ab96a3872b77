//! Losses. Each returns the batch loss as a scalar `Var` (so `backward()` works): the mean over
//! samples of each sample's loss (Keras' default reduction), where a sample's loss is the mean
//! over its elements. With per-sample weights `w` `[n]` the loss is `sum(w_i l_i) / n`.

mod config;
mod crossentropy;
mod regression;

pub(crate) use config::loss_from_config;
pub(crate) use config::{Settings, class_config};

pub use crossentropy::{BinaryCrossEntropy, CategoricalCrossEntropy, FocalLoss, SparseCategoricalCrossEntropy};
pub use regression::{Hinge, Huber, KlDivergence, MeanAbsoluteError, MeanSquaredError};

use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use crate::error::{Result, TrainError};

/// A training objective.
pub trait Loss: Send + Sync {
    /// The Keras name, as logs and summaries show it (e.g. `"sparse_categorical_crossentropy"`).
    fn name(&self) -> &str;
    /// `pred`: the model output. `target`: f32 targets of pred's shape, or u32 class labels
    /// `[n]` for the sparse losses.
    fn forward(&self, pred: &Var, target: &Tensor, sample_weight: Option<&Tensor>) -> Result<Var>;
    /// The loss of a sequence output with padded steps (Keras' masked loss): `mask` `[n, time]`
    /// (1 for a real step, 0 for padding) over predictions and targets `[n, time, ...]`; the
    /// mean over the real steps, each weighted by its sequence's sample weight. The default
    /// scores each step as a sample weighted by its mask and rescales the loss's mean over
    /// `n * time` into a mean over the real steps ([`masked_mean`]); a loss whose mean has its
    /// own denominator (class weights, ignored labels) overrides it.
    fn forward_masked(
        &self,
        pred: &Var,
        target: &Tensor,
        sample_weight: Option<&Tensor>,
        mask: &Tensor,
    ) -> Result<Var> {
        masked_mean(self, pred, target, sample_weight, mask)
    }
    /// The loss as `{"class_name": ..., "config": {...}}` with every setting, which `Model::save`
    /// records so `load_model` can compile the model again as it was. `Null` (the default, so
    /// for a loss of your own unless you write it) means it cannot be saved: `load_model` then
    /// asks for it to be registered (`wgtrain::registry::register_loss`).
    fn config(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// Whether `target` holds an integer label per step of logits shaped `pred` `[n, time, ..., c]`
/// (Keras' sparse targets of sequences): the logits' leading extents, the classes last.
pub(crate) fn label_per_step(pred: &[usize], target: &Tensor) -> bool {
    let r = pred.len();
    r > 2 && matches!(target.dtype(), DType::U32 | DType::I32) && target.shape() == &pred[..r - 1]
}

/// The clamp that keeps logs of probabilities finite (Keras' epsilon).
pub(crate) const EPS: f32 = 1e-7;

/// Checks that `target` has `pred`'s shape.
pub(crate) fn same_shape(loss: &str, pred: &Var, target: &Tensor) -> Result<()> {
    if pred.shape() != target.shape() {
        return Err(TrainError::Shape {
            layer: loss.to_string(),
            expected: format!("targets of the predictions' shape {:?}", pred.shape()),
            got: target.shape().to_vec(),
        });
    }
    Ok(())
}

/// Per-element losses `[n, ...]` to the batch loss: mean per sample, weighted, mean over n.
pub(crate) fn reduce(loss: &str, elements: Var, sample_weight: Option<&Tensor>) -> Result<Var> {
    let per_sample = if elements.rank() > 1 {
        let axes: Vec<isize> = (1..elements.rank() as isize).collect();
        elements.mean(&axes, false)?
    } else {
        elements
    };
    weighted_mean(loss, per_sample, sample_weight)
}

/// `sum(w_i l_i) / n` of per-sample losses `[n]`.
pub(crate) fn weighted_mean(loss: &str, per_sample: Var, sample_weight: Option<&Tensor>) -> Result<Var> {
    match sample_weight {
        None => Ok(per_sample.mean_all()?),
        Some(w) => Ok(weighted(loss, per_sample, w)?.mean_all()?),
    }
}

/// `sum(w_i l_i)` of per-sample losses `[n]` (the numerator of a mean over fewer than n).
pub(crate) fn weighted_sum(loss: &str, per_sample: Var, sample_weight: Option<&Tensor>) -> Result<Var> {
    match sample_weight {
        None => Ok(per_sample.sum_all()?),
        Some(w) => Ok(weighted(loss, per_sample, w)?.sum_all()?),
    }
}

/// `w_i l_i`, after checking there is one weight per sample.
fn weighted(loss: &str, per_sample: Var, w: &Tensor) -> Result<Var> {
    if w.shape() != per_sample.shape() {
        return Err(TrainError::Shape {
            layer: loss.to_string(),
            expected: format!("sample weights of shape {:?} (one per sample)", per_sample.shape()),
            got: w.shape().to_vec(),
        });
    }
    Ok(per_sample.mul(&Var::constant(w.clone()))?)
}

/// A boxed loss is a loss (choose one at run time, then `compile`).
impl<T: Loss + ?Sized> Loss for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn forward(&self, pred: &Var, target: &Tensor, sample_weight: Option<&Tensor>) -> Result<Var> {
        (**self).forward(pred, target, sample_weight)
    }
    fn forward_masked(
        &self,
        pred: &Var,
        target: &Tensor,
        sample_weight: Option<&Tensor>,
        mask: &Tensor,
    ) -> Result<Var> {
        (**self).forward_masked(pred, target, sample_weight, mask)
    }
    fn config(&self) -> serde_json::Value {
        (**self).config()
    }
}

/// The default [`Loss::forward_masked`]: every step a sample of its own, weighted by its mask
/// (times its sequence's sample weight), the loss's sum divided by the real steps instead of
/// all of them. On the device, with no read-back.
pub fn masked_mean<L: Loss + ?Sized>(
    loss: &L,
    pred: &Var,
    target: &Tensor,
    sample_weight: Option<&Tensor>,
    mask: &Tensor,
) -> Result<Var> {
    let &[n, t] = mask.shape() else {
        return Err(TrainError::Shape {
            layer: loss.name().to_string(),
            expected: "a mask [n, time]".into(),
            got: mask.shape().to_vec(),
        });
    };
    let flat = |shape: &[usize]| [&[n * t][..], &shape[2..]].concat();
    let pred = pred.reshape(&flat(pred.shape()))?;
    let target = target.reshape(&flat(target.shape()))?;
    let mut weights = mask.clone();
    if let Some(w) = sample_weight {
        weights = weights.mul(&w.reshape(&[n, 1])?.broadcast_to(&[n, t])?)?;
    }
    // The loss divides by n t; the real steps are what it should divide by (at least one).
    let per_real = mask.sum_all()?.maximum_scalar(1.0)?.recip()?.mul_scalar((n * t) as f32)?;
    let weights = weights.reshape(&[n * t])?.mul(&per_real.broadcast_to(&[n * t])?)?;
    loss.forward(&pred, &target, Some(&weights))
}
