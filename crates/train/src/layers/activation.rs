//! Activations: as a layer of their own, or fused into Dense and Conv2d.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_kernels::ops::op_table::scalar_args;
use wgtrain_tensor::UnaryOp;

use super::config::LayerConfig;
use super::{BuildCtx, Ctx, Layer, built, param, shape_error};
use crate::error::Result;
use crate::init::Initializer;
use crate::param::Param;

// `Activation` is generated from the op table (`wgtrain_kernels::ops::op_table`): one variant
// per row with an `activation:` name, carrying an f32 where the op takes a scalar, plus
// `Softmax`. `activation_rows!` keeps those rows; `activation_enum!` writes the enum.
macro_rules! activation_rows {
    ([$($kept:tt)*]) => { activation_enum! { $($kept)* } };
    ([$($kept:tt)*] $(#[$doc:meta])* $op:ident = $code:literal, fn $method:ident($($arg:ident),*) {
        activation: none, $($body:tt)*
    } $($rows:tt)*) => { activation_rows! { [$($kept)*] $($rows)* } };
    ([$($kept:tt)*] $(#[$doc:meta])* $op:ident = $code:literal, fn $method:ident($($arg:ident),*) {
        activation: $variant:ident $keras:literal, $($body:tt)*
    } $($rows:tt)*) => {
        activation_rows! { [$($kept)* $(#[$doc])* $variant = $op, $keras, ($($arg),*);] $($rows)* }
    };
}

/// `f32`, the payload type of a variant whose op takes scalar `$arg`.
macro_rules! scalar_type {
    ($arg:ident) => {
        f32
    };
}

macro_rules! activation_enum {
    ($($(#[$doc:meta])* $variant:ident = $op:ident, $keras:literal, ($($arg:ident),*);)*) => {
        /// An elementwise (or, for softmax, row-wise) nonlinearity.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Activation {
            $($(#[$doc])* $variant $((scalar_type!($arg)))*,)*
            /// Softmax over the last axis.
            Softmax,
        }

        impl Activation {
            /// The unary op and its scalar, for the elementwise activations.
            pub fn unary(self) -> Option<(UnaryOp, f32)> {
                match self {
                    $(Activation::$variant $(($arg))* => Some((UnaryOp::$op, scalar_args(&[$($arg),*]).0)),)*
                    Activation::Softmax => None,
                }
            }

            /// The Keras name, with the scalar in parentheses where there is one (`elu(1)`).
            pub fn name(self) -> String {
                match self {
                    $(Activation::$variant $(($arg))* => keras_name($keras, &[$($arg),*]),)*
                    Activation::Softmax => "softmax".into(),
                }
            }

            /// The activation that [`name`](Self::name) writes as `name` (`relu`,
            /// `leaky_relu(0.2)`), or `None` (an architecture read back by `load_model`).
            pub fn from_name(name: &str) -> Option<Self> {
                let (base, args): (&str, Vec<f32>) = match name.split_once('(') {
                    Some((base, rest)) => {
                        let args = rest.strip_suffix(')')?.split(',').map(|a| a.trim().parse().ok());
                        (base, args.collect::<Option<_>>()?)
                    }
                    None => (name, Vec::new()),
                };
                if base == "softmax" && args.is_empty() {
                    return Some(Activation::Softmax);
                }
                $(
                    if base == $keras {
                        let mut it = args.iter().copied();
                        let a = Activation::$variant $(({ let _ = stringify!($arg); it.next()? }))*;
                        return it.next().is_none().then_some(a);
                    }
                )*
                None
            }
        }
    };
}

wgtrain_kernels::for_each_unary_op!(activation_rows, []);

fn keras_name(name: &str, args: &[f32]) -> String {
    match args {
        [] => name.into(),
        _ => format!("{name}({})", args.iter().map(f32::to_string).collect::<Vec<_>>().join(", ")),
    }
}

impl Activation {
    /// Applies the activation to `x` (softmax over its last axis), recording it for autograd.
    pub fn apply(self, x: &Var) -> Result<Var> {
        Ok(match self.unary() {
            Some((UnaryOp::Identity, _)) => x.clone(),
            Some((op, a)) => x.unary(op, a, 0.0)?,
            None => x.softmax(-1)?,
        })
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
    /// The layer [`config`](Layer::config) wrote, for `load_model`.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Ok(ActivationLayer::new(c.activation("activation")?))
    }
}

impl Layer for ActivationLayer {
    super::keeps_mask!();
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
    /// The layer [`config`](Layer::config) wrote, unbuilt (the slopes come with the weights).
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Ok(if c.get_or("per_channel", false)? { PRelu::per_channel() } else { PRelu::new() })
    }
}

impl Default for PRelu {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for PRelu {
    super::keeps_mask!();
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
        // The slope in the input's dtype (an f32 master under a mixed-precision policy).
        Ok(x.prelu(&built(&self.slope, &self.name)?.cast(x.dtype())?)?)
    }
    fn params(&self) -> Vec<Param> {
        param(&self.name, "slope", &self.slope).into_iter().collect()
    }
    fn config(&self) -> serde_json::Value {
        json!({ "per_channel": self.per_channel })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations_come_from_the_op_table_with_their_keras_names() {
        assert_eq!(Activation::HardSwish.unary(), Some((UnaryOp::HardSwish, 0.0)));
        assert_eq!(Activation::HardSwish.name(), "hard_swish");
        assert_eq!(Activation::Swish.unary(), Some((UnaryOp::Silu, 0.0)));
        assert_eq!(Activation::Linear.unary(), Some((UnaryOp::Identity, 0.0)));
        assert_eq!(Activation::LeakyRelu(0.2).unary(), Some((UnaryOp::LeakyRelu, 0.2)));
        assert_eq!(Activation::LeakyRelu(0.2).name(), "leaky_relu(0.2)");
        assert_eq!(Activation::Elu(1.0).name(), "elu(1)");
        assert_eq!((Activation::Softmax.unary(), Activation::Softmax.name()), (None, "softmax".to_string()));
    }
}
