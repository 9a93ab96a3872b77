//! Per-channel input normalization as a layer.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::Tensor;

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer, shape_error};
use crate::error::{Result, TrainError};

/// `(x - mean[c]) / std[c]` over the channel axis (axis 0 of a sample), with fixed statistics
/// (Keras' `Normalization` after `adapt`): put it first so training, evaluation and prediction
/// all see the same normalized inputs.
pub struct Normalization {
    name: String,
    mean: Vec<f32>,
    std: Vec<f32>,
    shift: Option<Var>,
    scale: Option<Var>,
}

impl Normalization {
    /// Normalizes channel `c` with `mean[c]` and `std[c]` (all `std > 0`; one of each per channel,
    /// checked at build).
    pub fn new(mean: &[f32], std: &[f32]) -> Self {
        Normalization { name: String::new(), mean: mean.to_vec(), std: std.to_vec(), shift: None, scale: None }
    }
    /// The layer [`config`](Layer::config) wrote: its statistics are settings, not weights.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Ok(Normalization::new(&c.get::<Vec<f32>>("mean")?, &c.get::<Vec<f32>>("std")?))
    }
}

impl Layer for Normalization {
    fn kind(&self) -> &'static str {
        "Normalization"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let Some(&c) = input.first() else {
            return Err(shape_error(&self.name, "a channel axis", input));
        };
        let finite = self.mean.iter().all(|m| m.is_finite()) && self.std.iter().all(|&s| s.is_finite() && s > 0.0);
        if self.mean.len() != c || self.std.len() != c || !finite {
            let why = format!(
                "{c} channels need {c} finite means and {c} finite positive stds, got {:?} and {:?}",
                self.mean, self.std
            );
            return Err(TrainError::config(&self.name, why));
        }
        // [c, 1, 1, ...]: broadcasts over the rest of a sample.
        let mut shape = vec![1; input.len()];
        shape[0] = c;
        let inv: Vec<f32> = self.std.iter().map(|s| 1.0 / s).collect();
        self.shift = Some(Var::constant(Tensor::from_slice(ctx.device, &self.mean, &shape)?));
        self.scale = Some(Var::constant(Tensor::from_slice(ctx.device, &inv, &shape)?));
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Var, _: &mut Ctx) -> Result<Var> {
        let (Some(shift), Some(scale)) = (&self.shift, &self.scale) else {
            return Err(TrainError::config(&self.name, "used before it was built (add it to a model first)"));
        };
        // The constants in the input's dtype (f16 after an f16 layer).
        Ok(x.sub(&shift.cast(x.dtype())?)?.mul(&scale.cast(x.dtype())?)?)
    }
    fn config(&self) -> serde_json::Value {
        json!({ "mean": self.mean, "std": self.std })
    }
}
