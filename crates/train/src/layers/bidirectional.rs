//! Keras' `Bidirectional`: a recurrent layer run over the sequence forwards and a copy of it
//! (its own weights) run backwards, their outputs merged.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer, Recurrent, shape_error};
use crate::error::Result;
use crate::param::Param;

/// How a [`Bidirectional`] merges its two directions (Keras' `merge_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMode {
    /// Side by side on the last axis: `2 units` (Keras' default).
    Concat,
    /// Added.
    Sum,
    /// Multiplied.
    Mul,
    /// Averaged.
    Ave,
}

impl MergeMode {
    fn name(self) -> &'static str {
        match self {
            MergeMode::Concat => "concat",
            MergeMode::Sum => "sum",
            MergeMode::Mul => "mul",
            MergeMode::Ave => "ave",
        }
    }
    /// The mode Keras calls `name` (`"concat"`, `"sum"`, `"mul"`, `"ave"`), or `None`.
    pub fn from_name(name: &str) -> Option<MergeMode> {
        [MergeMode::Concat, MergeMode::Sum, MergeMode::Mul, MergeMode::Ave].into_iter().find(|m| m.name() == name)
    }
}

/// The wrapped layer's entry in a [`Bidirectional`]'s config, as Keras nests it.
#[derive(serde::Deserialize)]
struct Wrapped {
    class_name: String,
    config: serde_json::Value,
}

/// A recurrent layer over `[time, features]` forwards, and an unbuilt copy of it backwards (the
/// sequence reversed in time; with `return_sequences`, its outputs reversed back so that step t
/// of both halves is step t of the input), merged by [`MergeMode`].
pub struct Bidirectional {
    name: String,
    forward: Recurrent,
    backward: Recurrent,
    mode: MergeMode,
}

impl Bidirectional {
    /// `layer` both ways, concatenated.
    pub fn new(layer: Recurrent) -> Self {
        let backward = layer.unbuilt_copy();
        Bidirectional { name: String::new(), forward: layer, backward, mode: MergeMode::Concat }
    }
    /// How the directions merge (default concat).
    pub fn merge_mode(mut self, mode: MergeMode) -> Self {
        self.mode = mode;
        self
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt: the wrapped layer rebuilt from its
    /// own entry (under this layer's name, so its errors point here), both ways.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        let wrapped: Wrapped = c.get("layer")?;
        let inner = LayerConfig::new(&wrapped.class_name, c.name(), &wrapped.config, c.device());
        let layer = Recurrent::from_config(&inner)?;
        let merge: String = c.get_or("merge_mode", MergeMode::Concat.name().to_string())?;
        let Some(mode) = MergeMode::from_name(&merge) else {
            return Err(c.error(format!("field \"merge_mode\": no merge mode is called {merge:?}")));
        };
        Ok(Bidirectional::new(layer).merge_mode(mode))
    }
}

/// `x` `[n, time, features]` reversed in time (a gather, so the gradient flows back reversed).
fn reversed(x: &Var) -> Result<Var> {
    let x = if x.dtype() == DType::F32 { x.clone() } else { x.cast(DType::F32)? };
    let &[n, t, f] = x.shape() else { return Ok(x) };
    let index: Vec<u32> = (0..n * t * f).map(|i| (t - 1 - (i / f) % t) as u32).collect();
    Ok(x.gather(1, &Tensor::from_slice(x.device(), &index, &[n, t, f])?)?)
}

impl Layer for Bidirectional {
    fn kind(&self) -> &'static str {
        "Bidirectional"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.forward.set_name(format!("{name}/forward"));
        self.backward.set_name(format!("{name}/backward"));
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        if input.len() != 2 {
            return Err(shape_error(&self.name, "a sequence [time, features]", input));
        }
        let mut out = self.forward.build(input, ctx)?;
        self.backward.build(input, ctx)?;
        if self.mode == MergeMode::Concat {
            *out.last_mut().expect("a recurrent output has an axis") *= 2;
        }
        Ok(out)
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let ahead = self.forward.forward(x, ctx)?;
        // The backward layer reads the sequence, and its mask, from the end.
        let mask = ctx.input_mask().cloned();
        ctx.set_input_mask(mask.as_ref().map(super::reversed_mask).transpose()?);
        let behind = self.backward.forward(&reversed(x)?, ctx);
        ctx.set_input_mask(mask);
        let mut behind = behind?;
        if self.backward.returns_sequences() {
            behind = reversed(&behind)?;
        }
        let last = ahead.rank() as isize - 1;
        Ok(match self.mode {
            MergeMode::Concat => Var::concat(&[&ahead, &behind], last)?,
            MergeMode::Sum => ahead.add(&behind)?,
            MergeMode::Mul => ahead.mul(&behind)?,
            MergeMode::Ave => ahead.add(&behind)?.mul_scalar(0.5)?,
        })
    }
    fn params(&self) -> Vec<Param> {
        self.forward.params().into_iter().chain(self.backward.params()).collect()
    }
    fn compute_mask(&self, x: &Var, mask: Option<&Tensor>) -> Result<Option<Tensor>> {
        self.forward.compute_mask(x, mask)
    }
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        let mut out = self.forward.weight_penalties()?;
        out.extend(self.backward.weight_penalties()?);
        Ok(out)
    }
    fn apply_constraints(&self) -> Result<()> {
        self.forward.apply_constraints()?;
        self.backward.apply_constraints()
    }
    fn config(&self) -> serde_json::Value {
        json!({ "merge_mode": self.mode.name(), "layer": { "class_name": self.forward.kind(), "config": self.forward.config() } })
    }
    /// In f32, as the recurrent layers.
    fn compute_dtype(&self, _: DType) -> Option<DType> {
        Some(DType::F32)
    }
}
