//! Keras' `MultiHeadAttention`: query, key and value projections per head, scaled dot-product
//! attention (optionally causal), and an output projection back to the query's features. As a
//! layer of one input it is self-attention over a sequence `[time, features]`; called on a
//! query and a value (`Functional::call_pair`) it is cross-attention, the query's steps
//! attending to the value's (keys are the value, as Keras' default). Put `LayerNorm` around it
//! for a transformer block.

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
        self.build_pair(input, input, ctx)
    }
    /// Queries `[tq, eq]` and values `[tv, ev]`: the output is the query's shape.
    fn build_pair(&mut self, query: &[usize], value: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let (&[tq, eq], &[tv, ev]) = (query, value) else {
            let got = if query.len() != 2 { query } else { value };
            return Err(shape_error(&self.name, "sequences [time, features] (query and value)", got));
        };
        if [tq, eq, tv, ev, self.heads, self.key_dim, self.value_dim].contains(&0) {
            return Err(TrainError::config(&self.name, "time, features, heads, key_dim and value_dim must be >= 1"));
        }
        let (qk, v) = (self.heads * self.key_dim, self.heads * self.value_dim);
        let shapes = [[eq, qk], [ev, qk], [ev, v], [v, eq]];
        for (slot, shape) in self.weights.iter_mut().zip(shapes) {
            let kernel = Initializer::GlorotUniform.create(ctx.device, &shape, fans(&shape), ctx.next_seed())?;
            *slot = (
                Some(Var::parameter(kernel)),
                Some(Var::parameter(Tensor::zeros(ctx.device, &[shape[1]], DType::F32)?)),
            );
        }
        Ok(query.to_vec())
    }
    /// Self-attention: the sequence is query, key and value; its mask masks the keys.
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        self.forward_pair(x, x, ctx)
    }
    /// `softmax(q k^T / sqrt(key_dim) + mask) v`, per head, then the output projection: q from
    /// `query` `[n, tq, eq]`, k and v from `value` `[n, tv, ev]`. `ctx.input_mask()` is the
    /// value's (its padded steps get no weight); a causal layer lets query step i see value
    /// steps 0..=i.
    fn forward_pair(&self, query: &Var, value: &Var, ctx: &mut Ctx) -> Result<Var> {
        let f32_of =
            |x: &Var| -> Result<Var> { if x.dtype() == DType::F32 { Ok(x.clone()) } else { Ok(x.cast(DType::F32)?) } };
        let (query, value) = (f32_of(query)?, f32_of(value)?);
        let (&[n, tq, _], &[nv, tv, _]) = (query.shape(), value.shape()) else {
            let got = if query.rank() != 3 { query.shape() } else { value.shape() };
            return Err(shape_error(&self.name, "batches of sequences [n, time, features]", got));
        };
        if nv != n {
            return Err(shape_error(&self.name, format!("values for the query's {n} samples"), value.shape()));
        }
        let q = self.heads_of(&query, 0, self.key_dim)?;
        let k = self.heads_of(&value, 1, self.key_dim)?;
        let v = self.heads_of(&value, 2, self.value_dim)?;
        let mut scores = q.matmul(&k.transpose(-1, -2)?)?.mul_scalar(1.0 / (self.key_dim as f32).sqrt())?;
        if self.causal {
            let mask: Vec<f32> = (0..tq * tv).map(|i| if i % tv > i / tv { MASKED } else { 0.0 }).collect();
            scores = scores.add(&Var::constant(Tensor::from_slice(query.device(), &mask, &[tq, tv])?))?;
        }
        if let Some(mask) = ctx.input_mask() {
            // Padded keys get no weight: `MASKED` where the key's step is padding.
            super::check_mask(&self.name, mask, n, tv)?;
            let bias = mask.add_scalar(-1.0)?.mul_scalar(-MASKED)?.reshape(&[n, 1, 1, tv])?;
            scores = scores.add(&Var::constant(bias))?;
        }
        let attended = scores.softmax(-1)?.matmul(&v)?; // [n, heads, tq, value_dim]
        let merged = attended.permute(&[0, 2, 1, 3])?.reshape(&[n, tq, self.heads * self.value_dim])?;
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
