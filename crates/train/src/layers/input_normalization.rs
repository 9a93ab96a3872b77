//! Per-channel input normalization as a layer.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

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
    /// The layer with the statistics of `data` (Keras' `Normalization().adapt(data)`): see
    /// [`adapt`](Self::adapt).
    pub fn adapted(data: &Tensor) -> Result<Self> {
        let mut layer = Normalization::new(&[], &[]);
        layer.adapt(data)?;
        Ok(layer)
    }
    /// Takes the mean and standard deviation of each channel (axis 1 of `data` `[n, c, ...]`,
    /// a sample's axis 0) from `data`, as Keras' `adapt`: computed on the device, in chunks of
    /// rows (so data of any size), and read back once. A channel that never varies gets a
    /// standard deviation of 1e-7 (Keras' epsilon), so it normalizes to 0. Call it before the
    /// layer is added to a model (adding builds the layer from its statistics).
    pub fn adapt(&mut self, data: &Tensor) -> Result<()> {
        let (n, c) = match data.shape() {
            [n, c, ..] if *n > 0 && *c > 0 => (*n, *c),
            _ => return Err(shape_error("Normalization::adapt", "samples [n >= 1, channels >= 1, ...]", data.shape())),
        };
        let axes: Vec<isize> = (0..data.rank() as isize).filter(|&a| a != 1).collect();
        let per_channel = data.len() / n / c;
        let count = (n * per_channel) as f32;
        let chunk = (1 << 20) / (c * per_channel).max(1) + 1; // about 4 MiB of f32 a chunk
        // Pass 1 sums each channel; pass 2 its squared deviations from the mean (stable where
        // E[x^2] - E[x]^2 would cancel).
        let sums = |f: &dyn Fn(&Tensor) -> Result<Tensor>| -> Result<Tensor> {
            let mut total = Tensor::zeros(data.device(), &[c], DType::F32)?;
            for start in (0..n).step_by(chunk) {
                let rows = crate::models::batches::rows(data, start, (start + chunk).min(n))?;
                let rows = if rows.dtype() == DType::F32 { rows } else { rows.cast(DType::F32)? };
                total = total.add(&f(&rows)?.sum(&axes, false)?)?;
            }
            Ok(total)
        };
        let mean = sums(&|x| Ok(x.clone()))?.mul_scalar(1.0 / count)?;
        let mut centered_shape = vec![1; data.rank()];
        centered_shape[1] = c;
        let center = mean.reshape(&centered_shape)?;
        let var = sums(&|x| Ok(x.sub(&center)?.square()?))?.mul_scalar(1.0 / count)?;
        let both = Tensor::concat(&[&mean, &var.sqrt()?.maximum_scalar(1e-7)?], 0)?.to_vec::<f32>()?;
        let finite = both.iter().all(|v| v.is_finite());
        if !finite {
            return Err(TrainError::config("Normalization::adapt", "the data holds NaN or infinite values"));
        }
        (self.mean, self.std) = (both[..c].to_vec(), both[c..].to_vec());
        Ok(())
    }
    /// The per-channel means (set by `new` or `adapt`).
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }
    /// The per-channel standard deviations.
    pub fn std(&self) -> &[f32] {
        &self.std
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
