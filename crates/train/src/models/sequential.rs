//! A linear stack of layers.

use std::collections::HashMap;

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{Device, Tensor};

use super::{Network, SummaryRow};
use crate::error::Result;
use crate::layers::{BuildCtx, Ctx, Layer, build_layer, shape_error};
use crate::param::Param;

/// Layers applied one after another. Each layer is built (parameters created, shapes checked)
/// as it is added, so a shape mistake is reported at `add`, naming the layer.
///
/// ```no_run
/// use wgtrain::layers::{Dense, Flatten};
/// use wgtrain::models::Sequential;
/// # fn main() -> wgtrain::Result<()> {
/// let dev = wgtrain::tensor::Device::new()?;
/// let net = Sequential::new(&dev, &[1, 28, 28]).add(Flatten::new())?.add(Dense::new(128).relu())?.add(Dense::new(10))?;
/// assert_eq!(net.output_shape_of_last(), &[10]);
/// # Ok(()) }
/// ```
pub struct Sequential {
    device: Device,
    input: Vec<usize>,
    layers: Vec<Box<dyn Layer>>,
    shapes: Vec<Vec<usize>>,
    seed: u64,
    counts: HashMap<&'static str, usize>,
}

impl Sequential {
    /// An empty stack taking samples of `input_shape`; weights are drawn from seed 0.
    pub fn new(device: &Device, input_shape: &[usize]) -> Self {
        Sequential {
            device: device.clone(),
            input: input_shape.to_vec(),
            layers: Vec::new(),
            shapes: Vec::new(),
            seed: 0,
            counts: HashMap::new(),
        }
    }
    /// The seed of the weight initializers of layers added after this call.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Builds `layer` on the current output shape and appends it (Keras' `model.add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Layer + 'static) -> Result<Self> {
        self.push(Box::new(layer))?;
        Ok(self)
    }

    /// Builds and appends a boxed layer.
    pub fn push(&mut self, mut layer: Box<dyn Layer>) -> Result<()> {
        let kind = layer.kind();
        if layer.name().is_empty() {
            let n = self.counts.entry(kind).or_insert(0);
            *n += 1;
            layer.set_name(format!("{}_{}", snake(kind), n));
        }
        if self.layers.iter().any(|l| l.name() == layer.name()) {
            let why = format!("a layer named {:?} is already in the model", layer.name());
            return Err(crate::TrainError::config("Sequential::add", why));
        }
        let input = self.shapes.last().unwrap_or(&self.input).clone();
        // Distinct seeds per layer position, so inserting a layer does not reseed the others.
        let seed = self.seed.wrapping_mul(1_000_003).wrapping_add(self.layers.len() as u64 * 7919);
        let out = build_layer(layer.as_mut(), &input, &mut BuildCtx::new(&self.device, seed))?;
        self.layers.push(layer);
        self.shapes.push(out);
        Ok(())
    }

    /// The per-sample output shape of the last layer (the input shape when empty).
    pub fn output_shape_of_last(&self) -> &[usize] {
        self.shapes.last().unwrap_or(&self.input)
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }
}

/// `"Conv2D"` to `"conv2d"`, `"BatchNormalization"` to `"batch_normalization"`.
pub(crate) fn snake(kind: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = kind.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // A word starts at an upper-case letter after a lower-case one, or at the last capital
        // of an acronym followed by lower case ("Conv2DTranspose": conv2d_transpose), as Keras.
        let after_lower = i > 0 && chars[i - 1].is_lowercase();
        let acronym_end = i > 0 && chars[i - 1].is_uppercase() && chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        if c.is_uppercase() && (after_lower || acronym_end) {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Network for Sequential {
    fn device(&self) -> &Device {
        &self.device
    }
    fn input_shape(&self) -> &[usize] {
        &self.input
    }
    fn output_shape(&self) -> &[usize] {
        self.output_shape_of_last()
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        if x.rank() != self.input.len() + 1 || x.shape()[1..] != self.input[..] {
            let expected =
                format!("[batch, {}]", self.input.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
            return Err(shape_error("Sequential input", expected, x.shape()));
        }
        // A network inside another continues its caller's mask; the context is left as it was
        // found, whatever happens.
        let incoming = ctx.input_mask().cloned();
        let mut run = || -> Result<Var> {
            let (mut h, mut mask) = (x.clone(), incoming.clone());
            for layer in &self.layers {
                ctx.set_input_mask(mask.clone());
                let out = layer.forward(&h, ctx)?;
                mask = layer.compute_mask(&h, mask.as_ref())?;
                h = out;
            }
            ctx.set_output_masks(vec![mask]);
            Ok(h)
        };
        let result = run();
        ctx.set_input_mask(incoming);
        result
    }
    fn params(&self) -> Vec<Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }
    fn buffers(&self) -> Vec<(String, Tensor)> {
        self.layers.iter().flat_map(|l| l.buffers()).collect()
    }
    fn layer_params(&self, layer: &str) -> Option<Vec<Param>> {
        self.layers.iter().find(|l| l.name() == layer).map(|l| l.params())
    }
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        super::layer_penalties(&self.layers)
    }
    fn apply_constraints(&self) -> Result<()> {
        self.layers.iter().try_for_each(|l| l.apply_constraints())
    }
    fn summary_rows(&self) -> Vec<SummaryRow> {
        self.layers
            .iter()
            .zip(&self.shapes)
            .map(|(l, shape)| {
                let params = l.params();
                let count = |frozen: bool| -> usize {
                    params.iter().filter(|p| p.var.requires_grad() != frozen).map(|p| p.var.len()).sum()
                };
                let buffers: usize = l.buffers().iter().map(|(_, t)| t.len()).sum();
                SummaryRow {
                    name: l.name().to_string(),
                    kind: l.kind().to_string(),
                    output: shape.clone(),
                    trainable: count(false),
                    non_trainable: count(true) + buffers,
                    mixed_compute: l.compute_dtype(wgtrain_tensor::DType::F16),
                }
            })
            .collect()
    }
    fn config(&self) -> serde_json::Value {
        let layers: Vec<_> = self
            .layers
            .iter()
            .map(|l| json!({ "class_name": l.kind(), "name": l.name(), "config": l.config() }))
            .collect();
        json!({ "class_name": "Sequential", "input_shape": self.input, "layers": layers })
    }
}
