//! Batch normalization and layer normalization.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer, built, param, shape_error};
use crate::error::{Result, TrainError};
use crate::param::Param;

/// Batch norm over the channel axis (axis 0 of a sample: `[c]`, `[c, l]` or `[c, h, w]`).
/// Training normalizes with batch statistics and updates running ones,
/// `running = momentum running + (1 - momentum) batch` (Keras' meaning; PyTorch's momentum
/// 0.1 is Keras' 0.9); inference uses the running statistics. Keras' defaults: momentum 0.99,
/// eps 1e-3 (PyTorch's are 0.9 and 1e-5 in these terms).
pub struct BatchNorm {
    name: String,
    momentum: f32,
    eps: f32,
    gamma: Option<Var>,
    beta: Option<Var>,
    running_mean: Option<Tensor>,
    running_var: Option<Tensor>,
}

impl BatchNorm {
    /// Momentum 0.99, eps 1e-3 (Keras); gamma starts at 1, beta at 0, running mean 0, running
    /// variance 1.
    pub fn new() -> Self {
        BatchNorm {
            name: String::new(),
            momentum: 0.99,
            eps: 1e-3,
            gamma: None,
            beta: None,
            running_mean: None,
            running_var: None,
        }
    }
    /// Weight of the old running statistics in their update, in [0, 1] (Keras' `momentum`,
    /// default 0.99; PyTorch's `momentum` m is `1 - m` here).
    pub fn momentum(mut self, m: f32) -> Self {
        self.momentum = m;
        self
    }
    /// Added to the variance before the square root (Keras' `epsilon`, default 1e-3).
    pub fn eps(mut self, e: f32) -> Self {
        self.eps = e;
        self
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt (the running statistics come with
    /// the weights).
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Ok(BatchNorm::new().momentum(c.get_or("momentum", 0.99)?).eps(c.get_or("epsilon", 1e-3)?))
    }
}

impl Default for BatchNorm {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for BatchNorm {
    super::keeps_mask!();
    fn kind(&self) -> &'static str {
        "BatchNormalization"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        if input.is_empty() || input.len() > 3 {
            return Err(shape_error(&self.name, "[channels], [channels, length] or [channels, height, width]", input));
        }
        check_eps(&self.name, self.eps)?;
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(TrainError::config(&self.name, format!("momentum {} is not in [0, 1]", self.momentum)));
        }
        let c = input[0];
        let d = ctx.device;
        self.gamma = Some(Var::parameter(Tensor::ones(d, &[c], DType::F32)?));
        self.beta = Some(Var::parameter(Tensor::zeros(d, &[c], DType::F32)?));
        self.running_mean = Some(Tensor::zeros(d, &[c], DType::F32)?);
        self.running_var = Some(Tensor::ones(d, &[c], DType::F32)?);
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let (Some(rm), Some(rv)) = (&self.running_mean, &self.running_var) else {
            return Err(TrainError::config(&self.name, "used before it was built (add it to a model first)"));
        };
        let (g, b) = (built(&self.gamma, &self.name)?, built(&self.beta, &self.name)?);
        // The kernel takes the weight of the batch statistics (PyTorch's convention).
        Ok(x.batch_norm(Some(g), Some(b), rm, rv, ctx.training, 1.0 - self.momentum, self.eps)?)
    }
    fn params(&self) -> Vec<Param> {
        param(&self.name, "gamma", &self.gamma).into_iter().chain(param(&self.name, "beta", &self.beta)).collect()
    }
    fn buffers(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        if let (Some(m), Some(v)) = (&self.running_mean, &self.running_var) {
            out.push((format!("{}/moving_mean", self.name), m.clone()));
            out.push((format!("{}/moving_variance", self.name), v.clone()));
        }
        out
    }
    fn config(&self) -> serde_json::Value {
        json!({ "momentum": self.momentum, "epsilon": self.eps })
    }
}

/// Layer norm over the last axis of each sample, with learned gamma and beta. eps 1e-3
/// (Keras' default; PyTorch's is 1e-5).
pub struct LayerNorm {
    name: String,
    eps: f32,
    dim: usize,
    gamma: Option<Var>,
    beta: Option<Var>,
}

impl LayerNorm {
    /// eps 1e-3; gamma starts at 1, beta at 0.
    pub fn new() -> Self {
        LayerNorm { name: String::new(), eps: 1e-3, dim: 0, gamma: None, beta: None }
    }
    /// The variance floor (Keras' `epsilon`); finite and > 0.
    pub fn eps(mut self, e: f32) -> Self {
        self.eps = e;
        self
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Ok(LayerNorm::new().eps(c.get_or("epsilon", 1e-3)?))
    }
}

impl Default for LayerNorm {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for LayerNorm {
    super::keeps_mask!();
    fn kind(&self) -> &'static str {
        "LayerNormalization"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let Some(&d) = input.last().filter(|&&d| d > 0) else {
            return Err(shape_error(&self.name, "a non-empty last axis", input));
        };
        check_eps(&self.name, self.eps)?;
        self.dim = d;
        self.gamma = Some(Var::parameter(Tensor::ones(ctx.device, &[d], DType::F32)?));
        self.beta = Some(Var::parameter(Tensor::zeros(ctx.device, &[d], DType::F32)?));
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Var, _: &mut Ctx) -> Result<Var> {
        let (g, b) = (built(&self.gamma, &self.name)?, built(&self.beta, &self.name)?);
        Ok(x.layer_norm(&[self.dim], Some(g), Some(b), self.eps)?)
    }
    fn params(&self) -> Vec<Param> {
        param(&self.name, "gamma", &self.gamma).into_iter().chain(param(&self.name, "beta", &self.beta)).collect()
    }
    fn config(&self) -> serde_json::Value {
        json!({ "epsilon": self.eps })
    }
}

/// The variance floor must be finite and > 0: with 0, a constant feature divides by zero.
fn check_eps(layer: &str, eps: f32) -> Result<()> {
    if eps.is_finite() && eps > 0.0 {
        return Ok(());
    }
    Err(TrainError::config(layer, format!("eps {eps} must be finite and > 0")))
}
