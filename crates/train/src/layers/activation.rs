//! Activations: as a layer of their own, or fused into Dense and Conv2d.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::UnaryOp;

use super::{BuildCtx, Ctx, Layer, built, param, shape_error};
use crate::error::Result;
use crate::init::Initializer;
use crate::param::Param;

/// An elementwise (or, for softmax, row-wise) nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// Identity (no activation).
    Linear,
    /// max(x, 0).
    Relu,
    /// Slope for x < 0 (Keras' default 0.3 is `LeakyRelu(0.3)`; PyTorch's is 0.01).
    LeakyRelu(f32),
    /// x for x > 0, else alpha (e^x - 1), with this alpha (Keras' and PyTorch's default is 1.0).
    Elu(f32),
    /// Scaled ELU with the fixed self-normalizing constants.
    Selu,
    /// Exact GELU.
    Gelu,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// Softmax over the last axis.
    Softmax,
    /// x sigmoid(x).
    Swish,
    /// ln(1 + e^x).
    Softplus,
    /// clamp(x / 6 + 1/2, 0, 1).
    HardSigmoid,
}

impl Activation {
    /// The unary op and its scalar, for the elementwise activations.
    pub fn unary(self) -> Option<(UnaryOp, f32)> {
        use Activation::*;
        Some(match self {
            Linear => (UnaryOp::Identity, 0.0),
            Relu => (UnaryOp::Relu, 0.0),
            LeakyRelu(a) => (UnaryOp::LeakyRelu, a),
            Elu(a) => (UnaryOp::Elu, a),
            Selu => (UnaryOp::Selu, 0.0),
            Gelu => (UnaryOp::Gelu, 0.0),
            Sigmoid => (UnaryOp::Sigmoid, 0.0),
            Tanh => (UnaryOp::Tanh, 0.0),
            Swish => (UnaryOp::Silu, 0.0),
            Softplus => (UnaryOp::Softplus, 0.0),
            HardSigmoid => (UnaryOp::HardSigmoid, 0.0),
            Softmax => return None,
        })
    }

    /// Applies the activation to `x` (softmax over its last axis), recording it for autograd.
    pub fn apply(self, x: &Var) -> Result<Var> {
        Ok(match self.unary() {
            Some((UnaryOp::Identity, _)) => x.clone(),
            Some((op, a)) => x.unary(op, a, 0.0)?,
            None => x.softmax(-1)?,
        })
    }

    /// The Keras name.
    pub fn name(self) -> String {
        use Activation::*;
        match self {
            Linear => "linear".into(),
            Relu => "relu".into(),
            LeakyRelu(a) => format!("leaky_relu({a})"),
            Elu(a) => format!("elu({a})"),
            Selu => "selu".into(),
            Gelu => "gelu".into(),
            Sigmoid => "sigmoid".into(),
            Tanh => "tanh".into(),
            Softmax => "softmax".into(),
            Swish => "swish".into(),
            Softplus => "softplus".into(),
            HardSigmoid => "hard_sigmoid".into(),
        }
    }
}

/// A layer that applies an [`Activation`].
pub struct ActivationLayer {
    name: String,
    activation: Activation,
}

impl ActivationLayer {
    /// A layer applying `activation`; the output shape is the input shape.
    pub fn new(activation: Activation) -> Self {
        ActivationLayer { name: String::new(), activation }
    }
}

impl Layer for ActivationLayer {
    fn kind(&self) -> &'static str {
        "Activation"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], _: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        if self.activation == Activation::Softmax && input.is_empty() {
            return Err(shape_error(&self.name, "at least one axis for softmax", input));
        }
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Var, _: &mut Ctx) -> Result<Var> {
        self.activation.apply(x)
    }
    fn config(&self) -> serde_json::Value {
        json!({ "activation": self.activation.name() })
    }
}

/// PReLU with a learned slope: one shared slope (PyTorch's default), or one per channel
/// (axis 0 of the per-sample shape). Slopes start at 0.25.
pub struct PRelu {
    name: String,
    per_channel: bool,
    slope: Option<Var>,
}

impl PRelu {
    /// One slope shared by every element.
    pub fn new() -> Self {
        PRelu { name: String::new(), per_channel: false, slope: None }
    }
    /// One slope per channel (axis 0 of the per-sample shape).
    pub fn per_channel() -> Self {
        PRelu { per_channel: true, ..Self::new() }
    }
}

impl Default for PRelu {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for PRelu {
    fn kind(&self) -> &'static str {
        "PReLU"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        if self.per_channel && input.is_empty() {
            return Err(shape_error(&self.name, "a channel axis for a per-channel slope", input));
        }
        // Per channel: [c, 1, 1, ...] so it broadcasts over the rest of a sample.
        let shape: Vec<usize> = if self.per_channel {
            std::iter::once(input[0]).chain(std::iter::repeat_n(1, input.len() - 1)).collect()
        } else {
            vec![1]
        };
        let t = Initializer::Constant(0.25).create(ctx.device, &shape, (1, 1), ctx.next_seed())?;
        self.slope = Some(Var::parameter(t));
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Var, _: &mut Ctx) -> Result<Var> {
        Ok(x.prelu(built(&self.slope, &self.name)?)?)
    }
    fn params(&self) -> Vec<Param> {
        param(&self.name, "slope", &self.slope).into_iter().collect()
    }
    fn config(&self) -> serde_json::Value {
        json!({ "per_channel": self.per_channel })
    }
}
