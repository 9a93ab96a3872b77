//! Layers: each owns its parameters, checks and computes its output shape when a model is
//! built (before anything runs), and runs its forward pass on `Var`s so autograd records it.
//!
//! Shapes here are per sample (no batch dimension), as Keras prints them; images are NCHW, so
//! a per-sample image shape is `[channels, height, width]`.

mod activation;
mod attention;
mod bidirectional;
mod config;
mod conv;
mod dense;
mod dropout;
mod embedding;
mod input_normalization;
mod masking;
mod norm;
mod pool;
mod recurrent;
mod reshape;
mod weight_rules;

pub use activation::{Activation, ActivationLayer, PRelu};
pub use attention::MultiHeadAttention;
pub use bidirectional::{Bidirectional, MergeMode};
pub use config::LayerConfig;
pub use conv::{Conv1d, Conv2d, ConvTranspose2d, DepthwiseConv2d, Padding};
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use input_normalization::Normalization;
pub use masking::Masking;
pub(crate) use masking::{check_mask, keeps_mask, merged_masks, reversed_mask};
pub use norm::{BatchNorm, LayerNorm};
pub use pool::{AvgPool2d, GlobalAvgPool2d, GlobalMaxPool1d, GlobalMaxPool2d, MaxPool2d};
pub use recurrent::{Cell, Gru, Lstm, Recurrent, SimpleRnn};
pub use reshape::{Flatten, Reshape};
pub use weight_rules::WeightRules;
pub(crate) use weight_rules::weight_rule_builders;

use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Device, Tensor};

use crate::error::{Result, TrainError};
use crate::param::Param;

/// State of one forward pass: the mode, a seed source for stochastic layers, and the dtype
/// layers compute in (the model's [`Policy`](crate::policy::Policy)).
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Training mode (dropout active, batch norm on batch statistics) or inference.
    pub training: bool,
    seed: u64,
    compute: DType,
    first_sample: u64,
    /// Losses the pass's layers added (activity regularizers), summed into the loss.
    losses: Vec<Var>,
    /// The mask of the value the current layer call gets (see [`Ctx::input_mask`]).
    mask: Option<Tensor>,
    /// The masks of the network's outputs, set when a network's pass ends.
    output_masks: Vec<Option<Tensor>>,
}

impl Ctx {
    /// A pass in training (`true`) or inference mode, its stochastic layers seeded from `seed`,
    /// computing in f32.
    pub fn new(training: bool, seed: u64) -> Self {
        Ctx {
            training,
            seed,
            compute: DType::F32,
            first_sample: 0,
            losses: Vec::new(),
            mask: None,
            output_masks: Vec::new(),
        }
    }
    /// The mask of this layer call's input (Keras' `mask` argument): f32 `[n, time]`, 1 for a
    /// real step and 0 for padding, made by `Embedding::mask_zero` or `Masking` and passed on
    /// by the layers that keep the time axis ([`Layer::compute_mask`]). Recurrent layers skip
    /// the padded steps, attention does not attend to them, and the loss ignores them.
    pub fn input_mask(&self) -> Option<&Tensor> {
        self.mask.as_ref()
    }
    /// Sets the mask the next layer call gets (networks do, between their layers).
    pub fn set_input_mask(&mut self, mask: Option<Tensor>) {
        self.mask = mask;
    }
    /// Records the masks of a network's outputs, in order (at the end of its pass).
    pub fn set_output_masks(&mut self, masks: Vec<Option<Tensor>>) {
        self.output_masks = masks;
    }
    /// The masks of the last network pass's outputs, taken out (none when nothing masked).
    pub fn take_output_masks(&mut self) -> Vec<Option<Tensor>> {
        std::mem::take(&mut self.output_masks)
    }
    /// Adds a scalar to the pass's loss (Keras' `add_loss`: an activity regularizer's penalty).
    pub fn add_loss(&mut self, loss: Var) {
        self.losses.push(loss);
    }
    /// The losses the pass's layers added, taken out.
    pub fn take_losses(&mut self) -> Vec<Var> {
        std::mem::take(&mut self.losses)
    }
    /// This pass's batch as rows `first..` of a larger batch (a data-parallel shard): random
    /// layers draw for those rows what the whole batch draws for them.
    pub fn with_first_sample(mut self, first: u64) -> Self {
        self.first_sample = first;
        self
    }
    /// The row of the whole batch this pass's row 0 is (0 but in a data-parallel shard).
    pub fn first_sample(&self) -> u64 {
        self.first_sample
    }
    /// This pass computing in `dtype` (f16 under a mixed-precision policy).
    pub fn with_compute_dtype(mut self, dtype: DType) -> Self {
        self.compute = dtype;
        self
    }
    /// The dtype layers with weights compute in.
    pub fn compute_dtype(&self) -> DType {
        self.compute
    }
    /// A float value (a layer's input or weight) in the compute dtype: a cast, whose gradient
    /// flows back in the value's own dtype (so f32 weights stay the masters). Other dtypes
    /// (indices, labels) pass through.
    pub fn compute(&self, v: &Var) -> Result<Var> {
        match v.dtype() {
            DType::F32 | DType::F16 if v.dtype() != self.compute => Ok(v.cast(self.compute)?),
            _ => Ok(v.clone()),
        }
    }
    /// A fresh seed for a stochastic layer; each call of a pass gets another.
    pub fn next_seed(&mut self) -> u64 {
        self.seed = self.seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.seed
    }
}

/// What a layer needs to create its parameters.
pub struct BuildCtx<'a> {
    /// The device parameters are created on.
    pub device: &'a Device,
    seed: u64,
}

impl<'a> BuildCtx<'a> {
    /// Parameters on `device`, initializers seeded from `seed`.
    pub fn new(device: &'a Device, seed: u64) -> Self {
        BuildCtx { device, seed }
    }
    /// A fresh seed for one parameter's initializer.
    pub fn next_seed(&mut self) -> u64 {
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.seed
    }
}

/// A building block of a model. Implement it for a custom layer: `build` creates the
/// parameters for a per-sample input shape and returns the output shape; `forward` runs on a
/// batch (`[n, ...input shape]`) with `Var` ops so gradients flow.
pub trait Layer: Send {
    /// The layer's type, as `summary()` prints it (`"Dense"`).
    fn kind(&self) -> &'static str;
    /// Unique within a model; parameter names start with it (`dense_1/kernel`).
    fn name(&self) -> &str;
    /// Sets the name; models name unnamed layers `<snake_kind>_<n>` when they are added.
    fn set_name(&mut self, name: String);
    /// Creates parameters for the per-sample `input` shape; returns the per-sample output shape,
    /// or an error naming the layer, what it expected and what it got.
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>>;
    /// Runs the layer on a batch `[n, ...input shape]`; `ctx.training` selects training behaviour.
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var>;
    /// A layer of two inputs (attention's query and value, `Functional::call_pair`): creates
    /// the parameters for both per-sample shapes and returns the output's. The default refuses:
    /// most layers take one input.
    fn build_pair(&mut self, first: &[usize], second: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let _ = (first, second, ctx);
        Err(TrainError::config(self.name(), format!("a {} takes one input, not two", self.kind())))
    }
    /// Runs a layer of two inputs; `ctx.input_mask()` is the second input's mask.
    fn forward_pair(&self, first: &Var, second: &Var, ctx: &mut Ctx) -> Result<Var> {
        let _ = (first, second, ctx);
        Err(TrainError::config(self.name(), format!("a {} takes one input, not two", self.kind())))
    }
    /// Trainable tensors (frozen ones included; their `requires_grad` is off).
    fn params(&self) -> Vec<Param> {
        Vec::new()
    }
    /// Non-trainable state saved in checkpoints (batch norm's running statistics).
    fn buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    /// Penalties of the layer's weights (its kernel and bias regularizers), added to the loss
    /// once a step however often the layer is called.
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        Ok(Vec::new())
    }
    /// Projects the layer's weights into their constraints; the model calls it after every
    /// optimizer update.
    fn apply_constraints(&self) -> Result<()> {
        Ok(())
    }
    /// The mask of this call's output, from its input `x` and the input's `mask` (see
    /// [`Ctx::input_mask`]). By default a layer drops the mask, as a Keras layer without
    /// `supports_masking`; layers that keep the time axis pass it on, and `Embedding` and
    /// `Masking` make one.
    fn compute_mask(&self, x: &Var, mask: Option<&Tensor>) -> Result<Option<Tensor>> {
        let _ = (x, mask);
        Ok(None)
    }
    /// The layer's settings, for the architecture JSON of a checkpoint and `summary()`.
    fn config(&self) -> serde_json::Value;
    /// The dtype the layer computes in when the model's policy computes in `policy` (see
    /// [`Ctx::compute`]), or `None` when it runs in whatever dtype reaches it (activations,
    /// pooling, norms: their statistics are f32 inside). `summary()` shows it.
    fn compute_dtype(&self, policy: DType) -> Option<DType> {
        let _ = policy;
        None
    }
}

/// `.named("digit")` on any layer: Keras' `name=` argument. A model's outputs, parameters
/// (`digit/kernel`) and logs (`digit_loss`) take the name; unnamed layers are numbered.
pub trait Named: Layer + Sized {
    /// The layer called `name` (unique within its model).
    fn named(mut self, name: &str) -> Self {
        self.set_name(name.to_string());
        self
    }
}

impl<L: Layer> Named for L {}

/// The parameter of a built layer, or an error if the model was not built.
pub(crate) fn built<'a>(v: &'a Option<Var>, layer: &str) -> Result<&'a Var> {
    v.as_ref().ok_or_else(|| TrainError::config(layer, "used before it was built (add it to a model first)"))
}

/// A `Param` named `<layer>/<what>`.
pub(crate) fn param(layer: &str, what: &str, v: &Option<Var>) -> Option<Param> {
    v.as_ref().map(|v| Param::new(format!("{layer}/{what}"), v.clone()))
}

/// A shape error of `layer`.
/// Builds `layer` on a per-sample `input` shape, as models do when a layer is added. A zero
/// extent, in the input or in what the layer makes of it (`Dense(0)`, `Conv2d` with 0 filters),
/// is refused here, once for every layer: such a model would "train" on nothing, and Keras
/// refuses it too.
pub(crate) fn build_layer(layer: &mut dyn Layer, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
    if input.contains(&0) {
        return Err(shape_error(layer.name(), "a per-sample input shape with every extent >= 1", input));
    }
    let out = layer.build(input, ctx)?;
    if out.contains(&0) {
        let expected = format!(
            "an output with every extent >= 1 from input {input:?}: a {} with 0 units, filters or features?",
            layer.kind()
        );
        return Err(shape_error(layer.name(), expected, &out));
    }
    Ok(out)
}

/// [`build_layer`] for a layer of two inputs (`Layer::build_pair`): the same refusals of a
/// zero extent, in either input or in the output.
pub(crate) fn build_layer_pair(
    layer: &mut dyn Layer,
    first: &[usize],
    second: &[usize],
    ctx: &mut BuildCtx<'_>,
) -> Result<Vec<usize>> {
    for input in [first, second] {
        if input.contains(&0) {
            return Err(shape_error(layer.name(), "per-sample input shapes with every extent >= 1", input));
        }
    }
    let out = layer.build_pair(first, second, ctx)?;
    if out.contains(&0) {
        let expected = format!("an output with every extent >= 1 from inputs {first:?} and {second:?}");
        return Err(shape_error(layer.name(), expected, &out));
    }
    Ok(out)
}

pub(crate) fn shape_error(layer: &str, expected: impl Into<String>, got: &[usize]) -> TrainError {
    TrainError::Shape { layer: layer.to_string(), expected: expected.into(), got: got.to_vec() }
}
