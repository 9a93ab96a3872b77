//! Metrics, accumulated on the GPU: `update` only records kernels that add into device
//! counters; `result` is the one read-back, called by `fit` once per logging step.

mod accuracy;
mod classification;
mod config;
mod regression;

pub(crate) use config::metric_from_config;

pub use accuracy::{BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy};
pub use classification::{Auc, ConfusionMatrix, F1Score, Precision, Recall};
pub use regression::{MeanAbsoluteErrorMetric, MeanSquaredErrorMetric};

use wgtrain_tensor::{DType, Tensor};

use crate::error::{Result, TrainError};

/// A quantity accumulated over batches.
pub trait Metric: Send {
    /// The log name (`"accuracy"`, `"precision"`, ...); validation logs prefix it with `val_`.
    fn name(&self) -> String;
    /// Adds a batch: predictions and targets as the loss takes them.
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()>;
    /// Adds a batch of sequences with padded steps: `mask` `[n, time]` (1 for a real step, 0
    /// for padding) over predictions and targets `[n, time, ...]`. Keras scores the real steps
    /// only; the built-in accuracies (sparse, categorical, binary) do, and the default (the
    /// other metrics, a metric of your own) counts every step, as `update` would.
    fn update_masked(&mut self, pred: &Tensor, target: &Tensor, mask: &Tensor) -> Result<()> {
        let _ = mask;
        self.update(pred, target)
    }
    /// The value so far (a read-back).
    fn result(&self) -> Result<f32>;
    /// Clears the accumulated state (`fit` calls it at each epoch start, `evaluate` before it runs).
    fn reset(&mut self);
    /// The metric as `{"class_name": ..., "config": {...}}` with every setting (not its
    /// accumulated state), which `Model::save` records so `load_model` can compile the model
    /// again with the same metrics, logged under the same names. `Null` (the default, so for a
    /// metric of your own unless you write it) means it cannot be saved: `load_model` then asks
    /// for it to be registered (`wgtrain::registry::register_metric`).
    fn config(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// A device-side running sum with a host-side count: `sum / count`; weighted items (padded
/// steps weigh 0) add their weights to a device-side count beside it.
#[derive(Default)]
pub(crate) struct Ratio {
    sum: Option<Tensor>,
    count: u64,
    weights: Option<Tensor>,
}

impl Ratio {
    /// Adds `value` (a device scalar or vector summed as one) over `count` items.
    pub(crate) fn add(&mut self, value: &Tensor, count: usize) -> Result<()> {
        let v = if value.rank() == 0 { value.clone() } else { value.sum_all()? };
        self.sum = Some(match self.sum.take() {
            Some(s) => s.add(&v)?,
            None => v,
        });
        self.count += count as u64;
        Ok(())
    }
    /// Adds `values` weighted by `weights` (one each), counting the weights' sum.
    pub(crate) fn add_weighted(&mut self, values: &Tensor, weights: &Tensor) -> Result<()> {
        self.add(&values.mul(weights)?, 0)?;
        let w = weights.sum_all()?;
        self.weights = Some(match self.weights.take() {
            Some(s) => s.add(&w)?,
            None => w,
        });
        Ok(())
    }
    pub(crate) fn value(&self) -> Result<f32> {
        let weighed = match &self.weights {
            Some(w) => w.item::<f32>()?,
            None => 0.0,
        };
        let count = self.count as f32 + weighed;
        match &self.sum {
            Some(s) if count > 0.0 => Ok(s.item::<f32>()? / count),
            _ => Ok(0.0),
        }
    }
    pub(crate) fn reset(&mut self) {
        *self = Ratio::default();
    }
}

/// A device-side running vector sum (counters read back together).
#[derive(Default)]
pub(crate) struct Counters {
    sum: Option<Tensor>,
}

impl Counters {
    pub(crate) fn add(&mut self, v: &Tensor) -> Result<()> {
        self.sum = Some(match self.sum.take() {
            Some(s) => s.add(v)?,
            None => v.clone(),
        });
        Ok(())
    }
    /// The counters, or `None` before any update.
    pub(crate) fn read(&self) -> Result<Option<Vec<f32>>> {
        self.sum.as_ref().map(|s| s.to_vec::<f32>()).transpose().map_err(Into::into)
    }
    pub(crate) fn reset(&mut self) {
        self.sum = None;
    }
}

/// Labels as f32 `[n]`: u32/i32 class labels cast, or the argmax of f32 one-hot targets.
pub(crate) fn class_ids(target: &Tensor, n: usize, what: &str) -> Result<Tensor> {
    match target.dtype() {
        DType::U32 | DType::I32 if target.shape() == [n] => Ok(target.cast(DType::F32)?),
        DType::F32 if target.rank() == 2 && target.shape()[0] == n => Ok(target.argmax(-1, false)?.cast(DType::F32)?),
        _ => Err(TrainError::Shape {
            layer: what.to_string(),
            expected: format!("u32 labels [{n}] or one-hot targets [{n}, c]"),
            got: target.shape().to_vec(),
        }),
    }
}

/// Checks `pred` is `[n, c]`; returns (n, c).
pub(crate) fn logits_shape(pred: &Tensor, what: &str) -> Result<(usize, usize)> {
    match pred.shape() {
        &[n, c] => Ok((n, c)),
        s => Err(TrainError::Shape {
            layer: what.to_string(),
            expected: "predictions [n, classes]".into(),
            got: s.to_vec(),
        }),
    }
}
