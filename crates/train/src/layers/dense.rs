//! The fully connected layer.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::DType;

use super::config::{LayerConfig, with_rules};
use super::{Activation, BuildCtx, Ctx, Layer, WeightRules, built, param, shape_error, weight_rule_builders};
use crate::error::Result;
use crate::init::{Initializer, fans};
use crate::param::Param;

/// `activation(x @ kernel + bias)` over the last axis: kernel `[in, units]` (Keras' layout),
/// bias `[units]`. ReLU and leaky ReLU run fused in the matmul epilogue.
pub struct Dense {
    name: String,
    units: usize,
    activation: Activation,
    use_bias: bool,
    kernel_init: Initializer,
    bias_init: Initializer,
    kernel: Option<Var>,
    bias: Option<Var>,
    rules: WeightRules,
}

impl Dense {
    /// Glorot-uniform kernel and zero bias, as Keras.
    pub fn new(units: usize) -> Self {
        Dense {
            name: String::new(),
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_init: Initializer::GlorotUniform,
            bias_init: Initializer::Zeros,
            kernel: None,
            bias: None,
            rules: WeightRules::default(),
        }
    }
    weight_rule_builders!();
    fn weight_rules_mut(&mut self) -> &mut WeightRules {
        &mut self.rules
    }
    /// Activation applied to the output (default linear); elementwise ones are fused into the matmul.
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }
    /// Shorthand for `.activation(Activation::Relu)`.
    pub fn relu(self) -> Self {
        self.activation(Activation::Relu)
    }
    /// Whether to add a bias (default true).
    pub fn use_bias(mut self, on: bool) -> Self {
        self.use_bias = on;
        self
    }
    /// Initializer of the kernel (default Glorot uniform).
    pub fn kernel_initializer(mut self, i: Initializer) -> Self {
        self.kernel_init = i;
        self
    }
    /// Initializer of the bias (default zeros).
    pub fn bias_initializer(mut self, i: Initializer) -> Self {
        self.bias_init = i;
        self
    }
    /// The kernel (after build).
    pub fn kernel(&self) -> Option<&Var> {
        self.kernel.as_ref()
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        let dense =
            Dense::new(c.get("units")?).activation(c.activation("activation")?).use_bias(c.get_or("use_bias", true)?);
        Ok(Dense { rules: c.weight_rules()?, ..dense })
    }
}

impl Layer for Dense {
    super::keeps_mask!();
    fn kind(&self) -> &'static str {
        "Dense"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        self.rules.check(&self.name)?;
        let Some(&k) = input.last() else {
            return Err(shape_error(&self.name, "at least one axis (features)", input));
        };
        let shape = [k, self.units];
        self.kernel =
            Some(Var::parameter(self.kernel_init.create(ctx.device, &shape, fans(&shape), ctx.next_seed())?));
        if self.use_bias {
            let b = self.bias_init.create(ctx.device, &[self.units], (k, self.units), ctx.next_seed())?;
            self.bias = Some(Var::parameter(b));
        }
        let mut out = input.to_vec();
        *out.last_mut().expect("checked non-empty") = self.units;
        Ok(out)
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let (x, w) = (ctx.compute(x)?, ctx.compute(built(&self.kernel, &self.name)?)?);
        let b = self.bias.as_ref().map(|b| ctx.compute(b)).transpose()?;
        let b = b.as_ref();
        let y = match self.activation.unary() {
            Some((op, alpha)) => x.linear(&w, b, Some(op), alpha)?,
            None => self.activation.apply(&x.linear(&w, b, None, 0.0)?)?,
        };
        self.rules.activity(&y, ctx)?;
        Ok(y)
    }
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        self.rules.weight_penalties(self.kernel.as_ref(), self.bias.as_ref())
    }
    /// A unit's weights are its kernel column (axis 0 holds the inputs).
    fn apply_constraints(&self) -> Result<()> {
        self.rules.constrain(self.kernel.as_ref(), &[0], self.bias.as_ref())
    }
    fn params(&self) -> Vec<Param> {
        param(&self.name, "kernel", &self.kernel).into_iter().chain(param(&self.name, "bias", &self.bias)).collect()
    }
    fn config(&self) -> serde_json::Value {
        let settings = json!({ "units": self.units, "activation": self.activation.name(), "use_bias": self.use_bias });
        with_rules(settings, &self.rules)
    }
    fn compute_dtype(&self, policy: DType) -> Option<DType> {
        Some(policy)
    }
}
