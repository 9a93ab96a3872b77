//! Layer norm and batch norm, forward and backward (`norm.wgsl`). Inputs are made contiguous at
//! offset 0 first; the outputs are new contiguous tensors except batch norm's running statistics,
//! which `batch_norm_train` updates in place.
//!
//! Mixed precision: an f16 input is normalized in f32 (statistics, running statistics,
//! gamma, beta and their gradients stay f32) and y or dx is rounded back to f16.
//!
//! Shape contract:
//! - layer norm: x `[..., *normalized_shape]`, gamma and beta `normalized_shape`, the saved mean
//!   and rstd `x.shape[..rank - normalized rank]` (one per row of `d = prod(normalized_shape)`).
//! - batch norm: x `[n, c]`, `[n, c, l]` or `[n, c, h, w]`; gamma, beta, mean, rstd and the running
//!   statistics `[c]`; statistics over the `n * h * w` elements of each channel.

use wgtrain_kernels::ops::norm::{self, NormParams};

use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// What layer norm returns: the output and the per-row statistics backward needs.
#[derive(Debug, Clone)]
pub struct LayerNormOutput {
    /// The normalized output, shaped like x.
    pub y: Tensor,
    /// Mean of each row, `x.shape[..rank - normalized rank]`.
    pub mean: Tensor,
    /// 1 / sqrt(var + eps), var the biased variance.
    pub rstd: Tensor,
}

/// What training batch norm returns: the output and the per-channel batch statistics.
#[derive(Debug, Clone)]
pub struct BatchNormOutput {
    /// The normalized output, shaped like x.
    pub y: Tensor,
    /// Batch mean per channel, `[c]`.
    pub mean: Tensor,
    /// 1 / sqrt(var + eps), var the biased batch variance.
    pub rstd: Tensor,
}

/// Gradients of a normalization w.r.t. its input, gamma and beta.
#[derive(Debug, Clone)]
pub struct NormGrads {
    /// Gradient w.r.t. the input, shaped like x.
    pub dx: Tensor,
    /// Gradient w.r.t. the scale gamma.
    pub dgamma: Tensor,
    /// Gradient w.r.t. the shift beta.
    pub dbeta: Tensor,
}

/// Checks an f32 operand of exactly `shape` (named `what`, against input `x`) and makes it dense.
fn operand(op: &'static str, what: &str, t: &Tensor, shape: &[usize], x: &Tensor) -> Result<Tensor> {
    x.same_device(op, t)?;
    t.expect_dtype(op, DType::F32)?;
    if t.shape != shape {
        let expected = format!("{what} of shape {shape:?} for input of shape {:?}", x.shape);
        return Err(TensorError::Shape { op, expected, got: t.shape.clone() });
    }
    t.dense()
}

fn optional(op: &'static str, what: &str, t: Option<&Tensor>, shape: &[usize], x: &Tensor) -> Result<Option<Tensor>> {
    t.map(|t| operand(op, what, t, shape, x)).transpose()
}

/// `[n, c, hw]` of a batch-norm input.
fn batch_dims(op: &'static str, x: &Tensor) -> Result<[usize; 3]> {
    x.expect_dtype(op, DType::F32)?;
    if !(2..=4).contains(&x.rank()) {
        let expected = "an input of rank 2, 3 or 4 ([n, c], [n, c, l] or [n, c, h, w])".to_string();
        return Err(TensorError::Shape { op, expected, got: x.shape.clone() });
    }
    Ok([x.shape[0], x.shape[1], x.shape[2..].iter().product()])
}

impl Tensor {
    /// Layer norm over the trailing `normalized_shape` dimensions:
    /// `y = (x - mean) / sqrt(var + eps) * gamma + beta` with the biased variance of each row.
    /// gamma and beta (shape `normalized_shape`) are optional (1 and 0).
    ///
    /// ```
    /// # use wgtrain_tensor::{Device, Tensor};
    /// # fn main() -> wgtrain_tensor::Result<()> {
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0, 10.0, 20.0, 30.0], &[2, 3])?;
    /// let out = x.layer_norm(&[3], None, None, 1e-5)?;
    /// let grads = Tensor::ones(&dev, &[2, 3], x.dtype())?.layer_norm_backward(&x, None, &out.mean, &out.rstd)?;
    /// assert_eq!(out.mean.to_vec::<f32>()?, vec![2.0, 20.0]);
    /// assert_eq!(grads.dbeta.to_vec::<f32>()?, vec![2.0, 2.0, 2.0]);
    /// # Ok(()) }
    /// ```
    pub fn layer_norm(
        &self,
        normalized_shape: &[usize],
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        eps: f32,
    ) -> Result<LayerNormOutput> {
        let op = "layer_norm";
        if self.dtype() == DType::F16 {
            // f16 input: statistics and normalization in f32, y rounded back to f16.
            let out = self.widened(op)?.layer_norm(normalized_shape, gamma, beta, eps)?;
            return Ok(LayerNormOutput { y: out.y.cast(DType::F16)?, ..out });
        }
        self.expect_dtype(op, DType::F32)?;
        let lead = self.rank().checked_sub(normalized_shape.len()).filter(|&l| self.shape[l..] == *normalized_shape);
        let (Some(lead), false) = (lead, normalized_shape.is_empty()) else {
            let expected = format!("an input whose trailing dimensions are normalized_shape {normalized_shape:?}");
            return Err(TensorError::Shape { op, expected, got: self.shape.clone() });
        };
        let d: usize = normalized_shape.iter().product();
        if d == 0 {
            // Each row's statistics would be of nothing, and mean/rstd would be left unwritten.
            let why = format!("normalized_shape {normalized_shape:?} has no elements");
            return Err(TensorError::Argument { op, why });
        }
        let gamma = optional(op, "gamma", gamma, normalized_shape, self)?;
        let beta = optional(op, "beta", beta, normalized_shape, self)?;
        let dev = self.device();
        let rows_shape = &self.shape[..lead];
        let (y, mean, rstd) = (
            Tensor::empty(dev, &self.shape, DType::F32)?,
            Tensor::empty(dev, rows_shape, DType::F32)?,
            Tensor::empty(dev, rows_shape, DType::F32)?,
        );
        if self.is_empty() {
            return Ok(LayerNormOutput { y, mean, rstd });
        }
        let x = self.dense()?;
        let mut p = NormParams::layer(mean.len(), d, eps);
        p.has_gamma = gamma.is_some() as u32;
        p.has_beta = beta.is_some() as u32;
        let (g, b) = (gamma.as_ref().unwrap_or(&x), beta.as_ref().unwrap_or(&x));
        let bind = [x.binding(), g.binding(), b.binding(), y.binding(), mean.binding(), rstd.binding()];
        dev.dispatch(&norm::layer_forward(&p), &bind)?;
        Ok(LayerNormOutput { y, mean, rstd })
    }

    /// Backward of [`Tensor::layer_norm`]: self = dy (x's shape), `x` the forward input, `mean`
    /// and `rstd` the saved statistics (their shape fixes the normalized dimensions), `gamma` the
    /// forward's gamma. With g = dy gamma and xhat = (x - mean) rstd per row of d:
    /// `dx = rstd (g - mean(g) - xhat mean(g xhat))`, `dgamma = sum_rows dy xhat`,
    /// `dbeta = sum_rows dy` (both summed over rows in order, deterministic).
    pub fn layer_norm_backward(
        &self,
        x: &Tensor,
        gamma: Option<&Tensor>,
        mean: &Tensor,
        rstd: &Tensor,
    ) -> Result<NormGrads> {
        let op = "layer_norm_backward";
        if x.dtype() == DType::F16 || self.dtype() == DType::F16 {
            let grads = self.widened(op)?.layer_norm_backward(&x.widened(op)?, gamma, mean, rstd)?;
            return Ok(NormGrads { dx: grads.dx.cast(x.dtype())?, ..grads });
        }
        x.expect_dtype(op, DType::F32)?;
        let lead = mean.rank();
        if lead >= x.rank() || x.shape[..lead] != mean.shape {
            let expected = format!("mean of shape x.shape[..k] (a proper prefix of x's shape {:?})", x.shape);
            return Err(TensorError::Shape { op, expected, got: mean.shape.clone() });
        }
        let normalized = &x.shape[lead..];
        let dy = operand(op, "dy", self, &x.shape, x)?;
        let mean = operand(op, "mean", mean, &x.shape[..lead], x)?;
        let rstd = operand(op, "rstd", rstd, &x.shape[..lead], x)?;
        let gamma = optional(op, "gamma", gamma, normalized, x)?;
        let dev = x.device();
        let (dx, dgamma, dbeta) = (
            Tensor::empty(dev, &x.shape, DType::F32)?,
            Tensor::empty(dev, normalized, DType::F32)?,
            Tensor::empty(dev, normalized, DType::F32)?,
        );
        if x.is_empty() {
            // No rows: the parameter gradients are empty sums.
            return Ok(NormGrads {
                dx,
                dgamma: Tensor::zeros(dev, normalized, DType::F32)?,
                dbeta: Tensor::zeros(dev, normalized, DType::F32)?,
            });
        }
        let x = x.dense()?;
        let mut p = NormParams::layer(mean.len(), normalized.iter().product(), 0.0);
        p.has_gamma = gamma.is_some() as u32;
        let g = gamma.as_ref().unwrap_or(&x);
        let common = [x.binding(), g.binding(), dy.binding(), mean.binding(), rstd.binding()];
        dev.dispatch(&norm::layer_backward_dx(&p), &[&common[..], &[dx.binding()]].concat())?;
        dev.dispatch(&norm::layer_backward_params(&p), &[&common[..], &[dgamma.binding(), dbeta.binding()]].concat())?;
        Ok(NormGrads { dx, dgamma, dbeta })
    }
}

/// A running statistic: f32 `[c]` with unit stride, updated in place at its own offset.
fn running(op: &'static str, what: &str, t: &Tensor, c: usize, x: &Tensor) -> Result<()> {
    x.same_device(op, t)?;
    t.expect_dtype(op, DType::F32)?;
    if t.shape != [c] {
        let expected = format!("{what} of shape [{c}] for input of shape {:?}", x.shape);
        return Err(TensorError::Shape { op, expected, got: t.shape.clone() });
    }
    if !t.is_contiguous() {
        return Err(TensorError::Argument { op, why: format!("{what} must be contiguous (it is updated in place)") });
    }
    Ok(())
}

impl Tensor {
    /// Batch norm in training mode: normalizes each channel with its batch mean and biased
    /// variance, then applies gamma and beta (`[c]`, optional: 1 and 0).
    ///
    /// **Updates `running_mean` and `running_var` in place** (PyTorch semantics):
    /// `running = (1 - momentum) running + momentum batch`, with the *unbiased* batch variance
    /// for `running_var`. They must be contiguous f32 `[c]` tensors (views at an offset are fine);
    /// every tensor viewing their storage sees the update.
    ///
    /// ```
    /// # use wgtrain_tensor::{DType, Device, Tensor};
    /// # fn main() -> wgtrain_tensor::Result<()> {
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32, 10.0, 3.0, 30.0], &[2, 2])?; // [n = 2, c = 2]
    /// let (rm, rv) = (Tensor::zeros(&dev, &[2], DType::F32)?, Tensor::ones(&dev, &[2], DType::F32)?);
    /// let out = x.batch_norm_train(None, None, &rm, &rv, 0.1, 1e-5)?;
    /// assert_eq!(out.mean.to_vec::<f32>()?, vec![2.0, 20.0]);
    /// assert_eq!(rm.to_vec::<f32>()?, vec![0.2, 2.0]); // 0.9 * 0 + 0.1 * mean
    /// # Ok(()) }
    /// ```
    pub fn batch_norm_train(
        &self,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        running_mean: &Tensor,
        running_var: &Tensor,
        momentum: f32,
        eps: f32,
    ) -> Result<BatchNormOutput> {
        let op = "batch_norm_train";
        if self.dtype() == DType::F16 {
            // f16 input: batch statistics, running statistics and normalization in f32, y
            // rounded back to f16.
            let wide = self.widened(op)?;
            let out = wide.batch_norm_train(gamma, beta, running_mean, running_var, momentum, eps)?;
            return Ok(BatchNormOutput { y: out.y.cast(DType::F16)?, ..out });
        }
        let [n, c, hw] = batch_dims(op, self)?;
        let gamma = optional(op, "gamma", gamma, &[c], self)?;
        let beta = optional(op, "beta", beta, &[c], self)?;
        running(op, "running_mean", running_mean, c, self)?;
        running(op, "running_var", running_var, c, self)?;
        if n * hw < 2 && c > 0 {
            let why =
                format!("expected more than 1 value per channel in training, got input of shape {:?}", self.shape);
            return Err(TensorError::Argument { op, why });
        }
        let dev = self.device();
        let y = Tensor::empty(dev, &self.shape, DType::F32)?;
        let (mean, rstd) = (Tensor::empty(dev, &[c], DType::F32)?, Tensor::empty(dev, &[c], DType::F32)?);
        // Biased variance, then the shift and delta the stats pass centered with (see norm.wgsl).
        let scratch = Tensor::empty(dev, &[3, c], DType::F32)?;
        if self.is_empty() {
            return Ok(BatchNormOutput { y, mean, rstd });
        }
        let x = self.dense()?;
        let mut p = NormParams::batch(n, c, hw, eps);
        p.momentum = momentum;
        dev.dispatch(&norm::batch_stats(&p), &[x.binding(), mean.binding(), rstd.binding(), scratch.binding()])?;
        (p.mean_off, p.var_off) = (running_mean.offset as u32, running_var.offset as u32);
        running_mean.mark_modified();
        running_var.mark_modified();
        let update = [mean.binding(), scratch.binding(), running_mean.binding(), running_var.binding()];
        dev.dispatch(&norm::batch_update_running(&p), &update)?;
        (p.mean_off, p.var_off) = (c as u32, 0);
        self.batch_norm_apply(&x, &p, gamma.as_ref(), beta.as_ref(), [&scratch, &rstd], &y)?;
        Ok(BatchNormOutput { y, mean, rstd })
    }

    /// Batch norm in inference mode: `y = (x - running_mean) / sqrt(running_var + eps) gamma + beta`.
    pub fn batch_norm_eval(
        &self,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        running_mean: &Tensor,
        running_var: &Tensor,
        eps: f32,
    ) -> Result<Tensor> {
        let op = "batch_norm_eval";
        if self.dtype() == DType::F16 {
            let y = self.widened(op)?.batch_norm_eval(gamma, beta, running_mean, running_var, eps)?;
            return y.cast(DType::F16);
        }
        let [n, c, hw] = batch_dims(op, self)?;
        let gamma = optional(op, "gamma", gamma, &[c], self)?;
        let beta = optional(op, "beta", beta, &[c], self)?;
        running(op, "running_mean", running_mean, c, self)?;
        running(op, "running_var", running_var, c, self)?;
        let y = Tensor::empty(self.device(), &self.shape, DType::F32)?;
        if self.is_empty() {
            return Ok(y);
        }
        let x = self.dense()?;
        let mut p = NormParams::batch(n, c, hw, eps);
        (p.from_var, p.mean_off, p.var_off) = (1, running_mean.offset as u32, running_var.offset as u32);
        self.batch_norm_apply(&x, &p, gamma.as_ref(), beta.as_ref(), [running_mean, running_var], &y)?;
        Ok(y)
    }

    fn batch_norm_apply(
        &self,
        x: &Tensor,
        p: &NormParams,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        stats: [&Tensor; 2],
        y: &Tensor,
    ) -> Result<()> {
        let mut p = *p;
        p.has_gamma = gamma.is_some() as u32;
        p.has_beta = beta.is_some() as u32;
        let (g, b) = (gamma.unwrap_or(x), beta.unwrap_or(x));
        let bind = [x.binding(), g.binding(), b.binding(), y.binding(), stats[0].binding(), stats[1].binding()];
        self.device().dispatch(&norm::batch_apply(&p), &bind)
    }

    /// Backward of [`Tensor::batch_norm_train`]: self = dy, `x` the forward input, `mean` and
    /// `rstd` the saved batch statistics, `gamma` the forward's gamma. Per channel over M = n h w
    /// elements: `dgamma = sum dy xhat`, `dbeta = sum dy` (fixed-order sums), then
    /// `dx = gamma rstd / M (M dy - dbeta - xhat dgamma)`.
    pub fn batch_norm_backward(
        &self,
        x: &Tensor,
        gamma: Option<&Tensor>,
        mean: &Tensor,
        rstd: &Tensor,
    ) -> Result<NormGrads> {
        let op = "batch_norm_backward";
        if x.dtype() == DType::F16 || self.dtype() == DType::F16 {
            let grads = self.widened(op)?.batch_norm_backward(&x.widened(op)?, gamma, mean, rstd)?;
            return Ok(NormGrads { dx: grads.dx.cast(x.dtype())?, ..grads });
        }
        let [n, c, hw] = batch_dims(op, x)?;
        let dy = operand(op, "dy", self, &x.shape, x)?;
        let mean = operand(op, "mean", mean, &[c], x)?;
        let rstd = operand(op, "rstd", rstd, &[c], x)?;
        let gamma = optional(op, "gamma", gamma, &[c], x)?;
        let dev = x.device();
        let dx = Tensor::empty(dev, &x.shape, DType::F32)?;
        if x.is_empty() {
            return Ok(NormGrads {
                dx,
                dgamma: Tensor::zeros(dev, &[c], DType::F32)?,
                dbeta: Tensor::zeros(dev, &[c], DType::F32)?,
            });
        }
        let (dgamma, dbeta) = (Tensor::empty(dev, &[c], DType::F32)?, Tensor::empty(dev, &[c], DType::F32)?);
        let x = x.dense()?;
        let mut p = NormParams::batch(n, c, hw, 0.0);
        p.has_gamma = gamma.is_some() as u32;
        let g = gamma.as_ref().unwrap_or(&x);
        let common = [x.binding(), g.binding(), dy.binding(), mean.binding(), rstd.binding()];
        dev.dispatch(&norm::batch_backward_reduce(&p), &[&common[..], &[dgamma.binding(), dbeta.binding()]].concat())?;
        let tail = [dgamma.binding(), dbeta.binding(), dx.binding()];
        dev.dispatch(&norm::batch_backward_dx(&p), &[&common[..], &tail[..]].concat())?;
        Ok(NormGrads { dx, dgamma, dbeta })
    }
}
