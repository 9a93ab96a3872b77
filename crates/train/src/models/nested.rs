//! A model used as a layer of another (Keras' `Sequential([base_model, Dense(10)])`): any
//! [`Network`] wrapped by [`Nested`]. Its parameters are the inner network's own `Var`s (one set
//! of weights), named under the layer's name (`sequential_1/dense_1/kernel`), so freezing the
//! layer freezes every inner weight and checkpoints keep the nesting in their names.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use super::Network;
use crate::error::{Result, TrainError};
use crate::layers::{BuildCtx, Ctx, Layer};
use crate::param::Param;

/// A network as a layer of another model (see the module docs). Build it with
/// [`Nested::new`]; the outer model names it (`sequential_1`) unless [`Nested::named`] did.
pub struct Nested {
    name: String,
    inner: Box<dyn Network>,
    /// The mask of the last pass's output (padded steps), handed on by `compute_mask`.
    last_mask: std::sync::Mutex<Option<Tensor>>,
}

impl Nested {
    /// `inner` (a `Sequential` or `Functional`, already built for its input shape) as a layer.
    pub fn new(inner: impl Network + 'static) -> Self {
        Nested::boxed(Box::new(inner))
    }
    fn boxed(inner: Box<dyn Network>) -> Self {
        Nested { name: String::new(), inner, last_mask: Default::default() }
    }
    /// The layer named `name`.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }
    /// The layer an architecture entry describes: its network rebuilt from its own.
    pub(crate) fn from_config(c: &crate::layers::LayerConfig<'_>) -> Result<Self> {
        let inner = super::load::network_from_config(&c.value()["model"], c.device())
            .map_err(|e| c.error(format!("its network: {e}")))?;
        Ok(Nested::boxed(inner))
    }
    /// The wrapped network.
    pub fn network(&self) -> &dyn Network {
        self.inner.as_ref()
    }
    fn prefixed(&self, name: &str) -> String {
        format!("{}/{name}", self.name)
    }
}

impl Layer for Nested {
    fn kind(&self) -> &'static str {
        match self.inner.config()["class_name"].as_str() {
            Some("Functional") => "Functional",
            _ => "Sequential",
        }
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        if self.name.is_empty() {
            self.name = name;
        }
    }
    /// The inner network was built for its input shape: the outer model must feed that one.
    fn build(&mut self, input: &[usize], _: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        if input != self.inner.input_shape() {
            let why = format!("it was built for inputs {:?}, the model feeds it {input:?}", self.inner.input_shape());
            return Err(TrainError::config(&self.name, why));
        }
        Ok(self.inner.output_shape().to_vec())
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let out = self.inner.forward(x, ctx)?;
        let mask = ctx.take_output_masks().into_iter().next().flatten();
        *self.last_mask.lock().unwrap_or_else(|e| e.into_inner()) = mask;
        Ok(out)
    }
    /// The inner network's output mask, from the pass just run.
    fn compute_mask(&self, _: &Var, _: Option<&Tensor>) -> Result<Option<Tensor>> {
        Ok(self.last_mask.lock().unwrap_or_else(|e| e.into_inner()).take())
    }
    fn params(&self) -> Vec<Param> {
        self.inner.params().into_iter().map(|p| Param::new(self.prefixed(&p.name), p.var)).collect()
    }
    fn buffers(&self) -> Vec<(String, Tensor)> {
        self.inner.buffers().into_iter().map(|(n, t)| (self.prefixed(&n), t)).collect()
    }
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        self.inner.weight_penalties()
    }
    fn apply_constraints(&self) -> Result<()> {
        self.inner.apply_constraints()
    }
    fn config(&self) -> serde_json::Value {
        json!({ "model": self.inner.config() })
    }
    /// Whatever its layers compute in.
    fn compute_dtype(&self, _: DType) -> Option<DType> {
        None
    }
}
