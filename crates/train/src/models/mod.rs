//! Models: a [`Network`] (the layers and how data flows through them: [`Sequential`]) wrapped
//! by [`Model`], which adds compile / fit / evaluate / predict, checkpoints and callbacks.

pub(crate) mod batches;
mod fit;
mod functional;
mod load;
mod model;
mod nested;
mod outputs;
mod sequential;
mod summary;
mod weights;
pub mod zoo;

pub use fit::FitOptions;
pub use functional::{Functional, LayerRef, Merge, Sym};
pub use load::{load_model, load_model_uncompiled};
pub use model::{Compiled, Model};
pub use nested::Nested;
pub use outputs::OutputLoss;
pub use sequential::Sequential;

use wgtrain_autograd::Var;
use wgtrain_tensor::{Device, Tensor};

use crate::error::Result;
use crate::layers::Ctx;
use crate::param::Param;

/// One row of `summary()`.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    /// The layer's (`dense_1`), input's or merge's name.
    pub name: String,
    /// The layer's type (`Dense`), or `InputLayer`, `Add`, `Concatenate` in a functional graph.
    pub kind: String,
    /// Per-sample output shape.
    pub output: Vec<usize>,
    /// Trainable parameter elements (a shared layer counts once, at its first call).
    pub trainable: usize,
    /// Non-trainable count: frozen parameters and buffers (elements).
    pub non_trainable: usize,
    /// What the layer computes in under a mixed-precision policy (`Layer::compute_dtype` of
    /// f16): f16, f32, or `None` for whatever reaches it.
    pub mixed_compute: Option<wgtrain_tensor::DType>,
}

/// A trainable function of a batch: its layers' parameters and how a batch flows through them.
pub trait Network: Send {
    /// The device the parameters live on.
    fn device(&self) -> &Device;
    /// Per-sample input shape (of the first input).
    fn input_shape(&self) -> &[usize];
    /// Per-sample shapes of every input, in order (one for single-input networks).
    fn input_shapes(&self) -> Vec<Vec<usize>> {
        vec![self.input_shape().to_vec()]
    }
    /// Per-sample output shape (of the first output).
    fn output_shape(&self) -> &[usize];
    /// Per-sample shapes of every output, in order (one for single-output networks).
    fn output_shapes(&self) -> Vec<Vec<usize>> {
        vec![self.output_shape().to_vec()]
    }
    /// Every output's name, in order: what logs and `OutputLoss::named` call it.
    fn output_names(&self) -> Vec<String> {
        vec!["output".to_string()]
    }
    /// Runs a batch `[n, ...input_shape]`.
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var>;
    /// Runs a batch given as one value per input.
    fn forward_inputs(&self, xs: &[Var], ctx: &mut Ctx) -> Result<Var> {
        match xs {
            [x] => self.forward(x, ctx),
            _ => Err(crate::TrainError::config(
                "forward",
                format!("{} inputs given to a single-input network", xs.len()),
            )),
        }
    }
    /// Runs a batch and returns every output, in order.
    fn forward_outputs(&self, xs: &[Var], ctx: &mut Ctx) -> Result<Vec<Var>> {
        Ok(vec![self.forward_inputs(xs, ctx)?])
    }
    /// Every parameter, named by its path in the layer tree.
    fn params(&self) -> Vec<Param>;
    /// Non-trainable state (running statistics), named likewise.
    fn buffers(&self) -> Vec<(String, Tensor)>;
    /// Parameters of the layer called `layer` (for freeze / unfreeze), or `None` if there is none.
    fn layer_params(&self, layer: &str) -> Option<Vec<Param>>;
    /// Every layer's weight penalties (regularizers), added to the loss.
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        Ok(Vec::new())
    }
    /// Projects every layer's weights into their constraints (after each update).
    fn apply_constraints(&self) -> Result<()> {
        Ok(())
    }
    /// One row per layer (per graph node for a functional network), in order, for `Model::summary`.
    fn summary_rows(&self) -> Vec<SummaryRow>;
    /// The architecture, for the JSON of a checkpoint.
    fn config(&self) -> serde_json::Value;
}

/// Every layer's weight penalties, in layer order.
pub(crate) fn layer_penalties(layers: &[Box<dyn crate::layers::Layer>]) -> Result<Vec<Var>> {
    let mut out = Vec::new();
    for l in layers {
        out.extend(l.weight_penalties()?);
    }
    Ok(out)
}
