//! Masks of padded sequences (Keras' masking): which steps of a batch of sequences are real.
//! A mask is f32 `[n, time]`, 1 for a real step and 0 for padding. `Embedding::mask_zero` and
//! [`Masking`] make one; the layers that keep the time axis pass it on (`keeps_mask!`);
//! recurrent layers carry their state over padded steps, attention gives them no weight, and
//! the loss and the built-in accuracies leave them out. The mask travels beside the values, in
//! [`Ctx`]. In a data-parallel run each process's loss is the mean over its own shard's real
//! steps, weighted by the shard's share of the batch: the global batch's mean only when the
//! shards hold as many real steps for their size (a limit: the exact count would cost a
//! collective before every backward).

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer, shape_error};
use crate::error::Result;

/// `Layer::compute_mask` of a layer that keeps the time axis: the mask passes through.
macro_rules! keeps_mask {
    () => {
        /// Keeps the time axis: the mask passes through.
        fn compute_mask(
            &self,
            _: &wgtrain_autograd::Var,
            mask: Option<&wgtrain_tensor::Tensor>,
        ) -> crate::error::Result<Option<wgtrain_tensor::Tensor>> {
            Ok(mask.cloned())
        }
    };
}
pub(crate) use keeps_mask;

/// Marks the steps of a sequence `[time, features]` whose features all equal `mask_value` as
/// padding (Keras' `Masking`), and zeroes them: the layers after it skip them.
#[derive(Debug, Default)]
pub struct Masking {
    name: String,
    value: f32,
}

impl Masking {
    /// Steps whose every feature is `mask_value` are padding (Keras' default is 0).
    pub fn new(mask_value: f32) -> Self {
        Masking { name: String::new(), value: mask_value }
    }
    /// The layer [`config`](Layer::config) wrote.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Ok(Masking::new(c.get_or("mask_value", 0.0)?))
    }
    /// `[n, time]`: 1 where some feature of the step differs from the mask value.
    fn mask_of(&self, x: &Var) -> Result<Tensor> {
        let x = x.data();
        let x = if x.dtype() == DType::F32 { x.clone() } else { x.cast(DType::F32)? };
        Ok(x.ne_scalar(self.value)?.max(&[-1], false)?)
    }
}

impl Layer for Masking {
    fn kind(&self) -> &'static str {
        "Masking"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], _: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        match input {
            [_, _] => Ok(input.to_vec()),
            _ => Err(shape_error(&self.name, "a sequence [time, features]", input)),
        }
    }
    /// The input with its padded steps zeroed (as Keras: `x * mask`).
    fn forward(&self, x: &Var, _: &mut Ctx) -> Result<Var> {
        let keep = self.mask_of(x)?.unsqueeze(2)?;
        let keep = if x.dtype() == DType::F32 { keep } else { keep.cast(x.dtype())? };
        Ok(x.mul(&Var::constant(keep))?)
    }
    fn compute_mask(&self, x: &Var, _: Option<&Tensor>) -> Result<Option<Tensor>> {
        Ok(Some(self.mask_of(x)?))
    }
    fn config(&self) -> serde_json::Value {
        json!({ "mask_value": self.value })
    }
}

/// Checks that `mask` is `[n, steps]` for a batch of `n` sequences of `steps`.
pub(crate) fn check_mask(layer: &str, mask: &Tensor, n: usize, steps: usize) -> Result<()> {
    if mask.shape() != [n, steps] {
        return Err(shape_error(layer, format!("a mask [{n}, {steps}] for its sequences"), mask.shape()));
    }
    Ok(())
}

/// The mask of every step reversed in time (a backward recurrent layer's).
pub(crate) fn reversed_mask(mask: &Tensor) -> Result<Tensor> {
    let &[n, t] = mask.shape() else { return Ok(mask.clone()) };
    let index: Vec<u32> = (0..n * t).map(|i| (t - 1 - i % t) as u32).collect();
    Ok(mask.gather(1, &Tensor::from_slice(mask.device(), &index, &[n, t])?)?)
}

/// The masks of several values merged into one (Keras' merges): a step is real where it is
/// real in every masked value; `None` when none is masked.
pub(crate) fn merged_masks(masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
    let mut out: Option<Tensor> = None;
    for m in masks.iter().flatten() {
        out = Some(match out {
            Some(o) => o.mul(m)?,
            None => m.clone(),
        });
    }
    Ok(out)
}
