//! Flatten and Reshape: views of each sample.

use serde_json::json;
use wgtrain_autograd::Var;

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer, shape_error};
use crate::error::Result;

/// Each sample to one axis: `[c, h, w]` to `[c h w]`.
#[derive(Default)]
pub struct Flatten {
    name: String,
}

impl Flatten {
    /// A flatten layer.
    pub fn new() -> Self {
        Self::default()
    }
    /// The layer [`config`](Layer::config) wrote (it has no settings).
    pub(crate) fn from_config(_: &LayerConfig<'_>) -> Result<Self> {
        Ok(Flatten::new())
    }
}

impl Layer for Flatten {
    fn kind(&self) -> &'static str {
        "Flatten"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], _: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        Ok(vec![input.iter().product()])
    }
    fn forward(&self, x: &Var, _: &mut Ctx) -> Result<Var> {
        x.flatten().map_err(Into::into)
    }
    fn config(&self) -> serde_json::Value {
        json!({})
    }
}

/// Each sample to `target` (one extent may be -1: inferred), as Keras' Reshape.
pub struct Reshape {
    name: String,
    target: Vec<isize>,
    resolved: Vec<usize>,
}

impl Reshape {
    /// Reshapes each sample to `target`; at most one extent may be -1.
    pub fn new(target: &[isize]) -> Self {
        Reshape { name: String::new(), target: target.to_vec(), resolved: Vec::new() }
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Ok(Reshape::new(&c.get::<Vec<isize>>("target_shape")?))
    }
}

impl Layer for Reshape {
    fn kind(&self) -> &'static str {
        "Reshape"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], _: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let n: usize = input.iter().product();
        let known: usize = self.target.iter().filter(|&&d| d >= 0).map(|&d| d as usize).product();
        let unknown = self.target.iter().filter(|&&d| d < 0).count();
        let expected = format!("{} elements per sample for target {:?}", known, self.target);
        let fill = match unknown {
            0 if known == n => 0,
            1 if known > 0 && n.is_multiple_of(known) => n / known,
            _ => return Err(shape_error(&self.name, expected, input)),
        };
        self.resolved = self.target.iter().map(|&d| if d < 0 { fill } else { d as usize }).collect();
        Ok(self.resolved.clone())
    }
    fn forward(&self, x: &Var, _: &mut Ctx) -> Result<Var> {
        let mut shape = vec![x.shape().first().copied().unwrap_or(1)];
        shape.extend(&self.resolved);
        x.reshape(&shape).map_err(Into::into)
    }
    fn config(&self) -> serde_json::Value {
        json!({ "target_shape": self.target })
    }
}
