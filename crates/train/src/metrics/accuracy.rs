//! Accuracy metrics.

use serde_json::{Value, json};
use wgtrain_tensor::{DType, Tensor};

use super::{Metric, Ratio, class_ids, logits_shape};
use crate::error::{Result, TrainError};
use crate::losses::{class_config, label_per_step};

/// The share of samples whose arg-max prediction is the label (u32 labels `[n]`).
#[derive(Default)]
pub struct SparseCategoricalAccuracy(Ratio);

impl SparseCategoricalAccuracy {
    /// Logged as `accuracy`.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SparseCategoricalAccuracy {
    /// A label per step: every step counts as a sample, weighted by its mask when given.
    fn add_steps(&mut self, pred: &Tensor, target: &Tensor, mask: Option<&Tensor>) -> Result<()> {
        let (steps, c) = (target.len(), pred.shape()[pred.rank() - 1]);
        let labels = class_ids(&target.reshape(&[steps])?, steps, "accuracy")?;
        let hit = pred.reshape(&[steps, c])?.argmax(-1, false)?.cast(DType::F32)?.eq(&labels)?;
        match mask {
            Some(m) => self.0.add_weighted(&hit, &m.reshape(&[steps])?),
            None => self.0.add(&hit, steps),
        }
    }
}

impl Metric for SparseCategoricalAccuracy {
    fn name(&self) -> String {
        "accuracy".into()
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        if label_per_step(pred.shape(), target) {
            return self.add_steps(pred, target, None);
        }
        let (n, _) = logits_shape(pred, "accuracy")?;
        let hit = pred.argmax(-1, false)?.cast(DType::F32)?.eq(&class_ids(target, n, "accuracy")?)?;
        self.0.add(&hit, n)
    }
    /// Scores the real steps only: each step's hit weighted by its mask.
    fn update_masked(&mut self, pred: &Tensor, target: &Tensor, mask: &Tensor) -> Result<()> {
        if label_per_step(pred.shape(), target) && target.shape() == mask.shape() {
            return self.add_steps(pred, target, Some(mask));
        }
        self.update(pred, target)
    }
    fn result(&self) -> Result<f32> {
        self.0.value()
    }
    fn reset(&mut self) {
        self.0.reset();
    }
    fn config(&self) -> Value {
        class_config("SparseCategoricalAccuracy", json!({}))
    }
}

/// Accuracy against one-hot (or probability) targets `[n, c]`: arg-max against arg-max.
#[derive(Default)]
pub struct CategoricalAccuracy(Ratio);

impl CategoricalAccuracy {
    /// Logged as `categorical_accuracy`.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Metric for CategoricalAccuracy {
    fn name(&self) -> String {
        "categorical_accuracy".into()
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        let (n, _) = logits_shape(pred, "categorical_accuracy")?;
        if target.shape() != pred.shape() {
            let e = format!("one-hot targets of shape {:?}", pred.shape());
            return Err(TrainError::Shape {
                layer: "categorical_accuracy".into(),
                expected: e,
                got: target.shape().to_vec(),
            });
        }
        let hit = pred.argmax(-1, false)?.cast(DType::F32)?.eq(&class_ids(target, n, "categorical_accuracy")?)?;
        self.0.add(&hit, n)
    }
    /// Scores the real steps only: one-hot targets `[n, time, c]`, each step's hit weighted by
    /// its mask.
    fn update_masked(&mut self, pred: &Tensor, target: &Tensor, mask: &Tensor) -> Result<()> {
        if pred.rank() != 3 || target.shape() != pred.shape() || &pred.shape()[..2] != mask.shape() {
            return self.update(pred, target);
        }
        let (steps, c) = (mask.len(), pred.shape()[2]);
        let (p, t) = (pred.reshape(&[steps, c])?, target.reshape(&[steps, c])?);
        let hit = p.argmax(-1, false)?.cast(DType::F32)?.eq(&class_ids(&t, steps, "categorical_accuracy")?)?;
        self.0.add_weighted(&hit, &mask.reshape(&[steps])?)
    }
    fn result(&self) -> Result<f32> {
        self.0.value()
    }
    fn reset(&mut self) {
        self.0.reset();
    }
    fn config(&self) -> Value {
        class_config("CategoricalAccuracy", json!({}))
    }
}

/// Binary accuracy: `(pred > threshold) == (target > 0.5)`, per element (Keras threshold 0.5;
/// use 0 for logits).
pub struct BinaryAccuracy {
    threshold: f32,
    ratio: Ratio,
}

impl BinaryAccuracy {
    /// Positive where `pred > threshold`; logged as `binary_accuracy`.
    pub fn new(threshold: f32) -> Self {
        BinaryAccuracy { threshold, ratio: Ratio::default() }
    }
}

impl Metric for BinaryAccuracy {
    fn name(&self) -> String {
        "binary_accuracy".into()
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        if pred.shape() != target.shape() {
            let e = format!("targets of the predictions' shape {:?}", pred.shape());
            return Err(TrainError::Shape {
                layer: "binary_accuracy".into(),
                expected: e,
                got: target.shape().to_vec(),
            });
        }
        let hit = pred.gt_scalar(self.threshold)?.eq(&target.gt_scalar(0.5)?)?;
        self.ratio.add(&hit, pred.len())
    }
    /// Scores the real steps only: every element of a step weighted by the step's mask.
    fn update_masked(&mut self, pred: &Tensor, target: &Tensor, mask: &Tensor) -> Result<()> {
        if pred.rank() < 3 || target.shape() != pred.shape() || &pred.shape()[..2] != mask.shape() {
            return self.update(pred, target);
        }
        let per_step = pred.len() / mask.len().max(1);
        let weights = mask.reshape(&[mask.len(), 1])?.broadcast_to(&[mask.len(), per_step])?;
        let hit = pred.gt_scalar(self.threshold)?.eq(&target.gt_scalar(0.5)?)?;
        self.ratio.add_weighted(&hit.reshape(&[mask.len(), per_step])?, &weights)
    }
    fn result(&self) -> Result<f32> {
        self.ratio.value()
    }
    fn reset(&mut self) {
        self.ratio.reset();
    }
    fn config(&self) -> Value {
        class_config("BinaryAccuracy", json!({ "threshold": self.threshold }))
    }
}

/// Whether the label is among the `k` largest predictions: counted as "fewer than k classes
/// score strictly higher than the label" (ties favour the label).
pub struct TopKCategoricalAccuracy {
    k: usize,
    ratio: Ratio,
}

impl TopKCategoricalAccuracy {
    /// Top-`k` accuracy on logits or probabilities `[n, c]` with labels `[n]`; logged as `top_<k>_accuracy`.
    pub fn new(k: usize) -> Self {
        TopKCategoricalAccuracy { k, ratio: Ratio::default() }
    }
}

impl Metric for TopKCategoricalAccuracy {
    fn name(&self) -> String {
        format!("top_{}_accuracy", self.k)
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        let (n, _) = logits_shape(pred, "top_k_accuracy")?;
        let labels = class_ids(target, n, "top_k_accuracy")?.cast(DType::U32)?.reshape(&[n, 1])?;
        let own = pred.gather(1, &labels)?;
        let higher = pred.gt(&own)?.sum(&[1], false)?;
        self.ratio.add(&higher.lt_scalar(self.k as f32)?, n)
    }
    fn result(&self) -> Result<f32> {
        self.ratio.value()
    }
    fn reset(&mut self) {
        self.ratio.reset();
    }
    fn config(&self) -> Value {
        class_config("TopKCategoricalAccuracy", json!({ "k": self.k }))
    }
}
