//! Keras' `MultiHeadAttention`, as self-attention over a sequence `[time, features]`: query,
//! key and value projections per head, scaled dot-product attention (optionally causal), and an
//! output projection back to `features`. Put `LayerNorm` around it for a transformer block.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer, built, param, shape_error};
use crate::error::{Result, TrainError};
use crate::init::{Initializer, fans};
use crate::param::Param;

/// The added score of a masked (future) position: its softmax weight is 0 in f32.
const MASKED: f32 = -1e9;

/// Self-attention with `heads` heads of `key_dim` (queries and keys) and `value_dim` (values,
/// default `key_dim`). Every projection is a Glorot-uniform kernel and a zero bias, as Keras'.
pub struct MultiHeadAttention {
    name: String,
    heads: usize,
    key_dim: usize,
    value_dim: usize,
    causal: bool,
    /// Query, key, value and output kernels and biases, in that order.
    weights: Vec<(Option<Var>, Option<Var>)>,
}

/// The parameter names of the four projections.
const PROJECTIONS: [&str; 4] = ["query", "key", "value", "attention_output"];

impl MultiHeadAttention {
    /// `heads` heads with queries and keys of `key_dim` each.
    pub fn new(heads: usize, key_dim: usize) -> Self {
        MultiHeadAttention {
            name: String::new(),
            heads,
            key_dim,
            value_dim: key_dim,
            causal: false,
            weights: vec![(None, None); 4],
        }
    }
    /// The values' width per head (default `key_dim`).
    pub fn value_dim(mut self, d: usize) -> Self {
        self.value_dim = d;
        self
    }
    /// Each step attends only to itself and earlier steps (Keras' `use_causal_mask`).
    pub fn causal(mut self, on: bool) -> Self {
        self.causal = on;
        self
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt; `value_dim` defaults to `key_dim`
    /// and the mask to off, as in the constructor.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        let key_dim: usize = c.get("key_dim")?;
        Ok(MultiHeadAttention::new(c.get("num_heads")?, key_dim)
            .value_dim(c.get_or("value_dim", key_dim)?)
            .causal(c.get_or("use_causal_mask", false)?))
    }

    /// Projection `i` of `x` `[n, t, in]` to `[n, heads, t, width]`.
    fn heads_of(&self, x: &Var, i: usize, width: usize) -> Result<Var> {
        let (w, b) = &self.weights[i];
        let y = x.linear(built(w, &self.name)?, b.as_ref(), None, 0.0)?;
        let (n, t) = (x.shape()[0], x.shape()[1]);
        Ok(y.reshape(&[n, t, self.heads, width])?.permute(&[0, 2, 1, 3])?)
    }
}

impl Layer for MultiHeadAttention {
    super::keeps_mask!();
    fn kind(&self) -> &'static str {
        "MultiHeadAttention"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let &[t, e] = input else {
            return Err(shape_error(&self.name, "a sequence [time, features]", input));
        };
        if t == 0 || e == 0 || self.heads == 0 || self.key_dim == 0 || self.value_dim == 0 {
            return Err(TrainError::config(&self.name, "time, features, heads, key_dim and value_dim must be >= 1"));
        }
        let (qk, v) = (self.heads * self.key_dim, self.heads * self.value_dim);
        let shapes = [[e, qk], [e, qk], [e, v], [v, e]];
        for (slot, shape) in self.weights.iter_mut().zip(shapes) {
            let kernel = Initializer::GlorotUniform.create(ctx.device, &shape, fans(&shape), ctx.next_seed())?;
            *slot = (
                Some(Var::parameter(kernel)),
                Some(Var::parameter(Tensor::zeros(ctx.device, &[shape[1]], DType::F32)?)),
            );
        }
        Ok(input.to_vec())
    }
    /// `softmax(q k^T / sqrt(key_dim) + mask) v`, per head, then the output projection.
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let x = if x.dtype() == DType::F32 { x.clone() } else { x.cast(DType::F32)? };
        let &[n, t, _] = x.shape() else {
            return Err(shape_error(&self.name, "a batch of sequences [n, time, features]", x.shape()));
        };
        let q = self.heads_of(&x, 0, self.key_dim)?;
        let k = self.heads_of(&x, 1, self.key_dim)?;
        let v = self.heads_of(&x, 2, self.value_dim)?;
        let mut scores = q.matmul(&k.transpose(-1, -2)?)?.mul_scalar(1.0 / (self.key_dim as f32).sqrt())?;
        if self.causal {
            let mask: Vec<f32> = (0..t * t).map(|i| if i % t > i / t { MASKED } else { 0.0 }).collect();
            scores = scores.add(&Var::constant(Tensor::from_slice(x.device(), &mask, &[t, t])?))?;
        }
        if let Some(mask) = ctx.input_mask() {
            // Padded keys get no weight: `MASKED` where the key's step is padding.
            super::check_mask(&self.name, mask, n, t)?;
            let bias = mask.add_scalar(-1.0)?.mul_scalar(-MASKED)?.reshape(&[n, 1, 1, t])?;
            scores = scores.add(&Var::constant(bias))?;
        }
        let attended = scores.softmax(-1)?.matmul(&v)?; // [n, heads, t, value_dim]
        let merged = attended.permute(&[0, 2, 1, 3])?.reshape(&[n, t, self.heads * self.value_dim])?;
        let (w, b) = &self.weights[3];
        Ok(merged.linear(built(w, &self.name)?, b.as_ref(), None, 0.0)?)
    }
    fn params(&self) -> Vec<Param> {
        self.weights
            .iter()
            .zip(PROJECTIONS)
            .flat_map(|((w, b), p)| {
                param(&self.name, &format!("{p}/kernel"), w).into_iter().chain(param(
                    &self.name,
                    &format!("{p}/bias"),
                    b,
                ))
            })
            .collect()
    }
    fn config(&self) -> serde_json::Value {
        json!({ "num_heads": self.heads, "key_dim": self.key_dim, "value_dim": self.value_dim, "use_causal_mask": self.causal })
    }
    /// In f32: the scores' softmax over long sequences is where f16 would lose the most.
    fn compute_dtype(&self, _: DType) -> Option<DType> {
        Some(DType::F32)
    }
}
