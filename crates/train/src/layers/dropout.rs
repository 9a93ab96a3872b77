//! Dropout.

use serde_json::json;
use wgtrain_autograd::Var;

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer};
use crate::error::{Result, TrainError};

/// Inverted dropout in training mode (drop with probability `rate`, scale the rest by
/// 1 / (1 - rate)); the identity in inference. Each pass draws a new mask from the pass's seed.
pub struct Dropout {
    name: String,
    rate: f32,
}

impl Dropout {
    /// Drops each element with probability `rate` in `[0, 1)` (checked at build).
    pub fn new(rate: f32) -> Self {
        Dropout { name: String::new(), rate }
    }
    /// The layer [`config`](Layer::config) wrote.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Ok(Dropout::new(c.get("rate")?))
    }
}

impl Layer for Dropout {
    super::keeps_mask!();
    fn kind(&self) -> &'static str {
        "Dropout"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], _: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(TrainError::config(&self.name, format!("rate {} is not in [0, 1)", self.rate)));
        }
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        if !ctx.training || self.rate == 0.0 {
            return Ok(x.clone());
        }
        // In a data-parallel shard, the draws of its rows in the whole batch.
        let per_sample = (x.len() / x.shape().first().copied().unwrap_or(1).max(1)) as u64;
        Ok(x.dropout_at(self.rate, ctx.next_seed(), ctx.first_sample() * per_sample)?)
    }
    fn config(&self) -> serde_json::Value {
        json!({ "rate": self.rate })
    }
}
