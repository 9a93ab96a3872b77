//! Regression metrics.

use serde_json::{Value, json};
use wgtrain_tensor::Tensor;

use super::{Metric, Ratio};
use crate::error::{Result, TrainError};
use crate::losses::class_config;

macro_rules! error_metric {
    ($(#[$doc:meta])* $t:ident, $name:literal, $class:literal, $f:ident) => {
        $(#[$doc])*
        #[derive(Default)]
        pub struct $t(Ratio);
        impl $t {
            /// A metric with nothing accumulated.
            pub fn new() -> Self {
                Self::default()
            }
        }
        impl Metric for $t {
            fn name(&self) -> String {
                $name.into()
            }
            fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
                if pred.shape() != target.shape() {
                    let e = format!("targets of the predictions' shape {:?}", pred.shape());
                    return Err(TrainError::Shape { layer: $name.into(), expected: e, got: target.shape().to_vec() });
                }
                self.0.add(&pred.sub(target)?.$f()?, pred.len())
            }
            fn result(&self) -> Result<f32> {
                self.0.value()
            }
            fn reset(&mut self) {
                self.0.reset();
            }
            fn config(&self) -> Value {
                class_config($class, json!({}))
            }
        }
    };
}

error_metric!(
    /// Mean of `(pred - target)^2` over every element.
    MeanSquaredErrorMetric, "mse", "MeanSquaredError", square
);
error_metric!(
    /// Mean of `|pred - target|` over every element.
    MeanAbsoluteErrorMetric, "mae", "MeanAbsoluteError", abs
);
