//! Convolutions over NCHW images: Conv2d, DepthwiseConv2d and ConvTranspose2d.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{Conv2dOptions, DType};

use super::config::{LayerConfig, with_rules};
use super::{Activation, BuildCtx, Ctx, Layer, WeightRules, built, param, shape_error, weight_rule_builders};
use crate::error::{Result, TrainError};
use crate::init::{Initializer, fans};
use crate::param::Param;

/// Spatial padding of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Padding {
    /// No padding (Keras `"valid"`).
    Valid,
    /// Output extent ceil(input / stride) (Keras `"same"`); an odd total padding puts the extra
    /// row/column at the bottom/right, as TensorFlow does.
    Same,
    /// Explicit symmetric padding per side `[h, w]` (PyTorch's `padding`).
    Explicit([usize; 2]),
}

/// A config's `padding`: as serde writes it, or as checkpoints written before that did
/// (`Debug`: `"Explicit([1, 1])"`); `Valid` when absent.
fn padding_of(c: &LayerConfig<'_>) -> Result<Padding> {
    let legacy = c.value().get("padding").and_then(|v| v.as_str()).and_then(|s| {
        let sides = s.strip_prefix("Explicit([")?.strip_suffix("])")?;
        let (h, w) = sides.split_once(',')?;
        Some(Padding::Explicit([h.trim().parse().ok()?, w.trim().parse().ok()?]))
    });
    match legacy {
        Some(p) => Ok(p),
        None => c.get_or("padding", Padding::Valid),
    }
}

/// (before, after) padding and output extent of one spatial axis.
fn axis_geometry(
    p: Padding,
    input: usize,
    k: usize,
    stride: usize,
    dil: usize,
    axis: usize,
) -> Option<(usize, usize, usize)> {
    if input == 0 {
        return None;
    }
    let span = dil * (k - 1) + 1;
    let (lo, hi) = match p {
        Padding::Valid => (0, 0),
        Padding::Explicit(pad) => (pad[axis], pad[axis]),
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + span).saturating_sub(input);
            (total / 2, total - total / 2)
        }
    };
    let padded = input + lo + hi;
    (padded >= span).then(|| (lo, hi, (padded - span) / stride + 1))
}

/// Shared geometry and parameters of the forward convolutions.
struct ConvCore {
    name: String,
    filters: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: Padding,
    dilation: [usize; 2],
    groups: usize,
    activation: Activation,
    use_bias: bool,
    kernel_init: Initializer,
    weight: Option<Var>,
    bias: Option<Var>,
    /// Asymmetric padding applied as an explicit pad before a symmetric convolution.
    extra_pad: [(usize, usize); 2],
    sym_pad: [usize; 2],
    rules: WeightRules,
}

impl ConvCore {
    fn new(filters: usize, kernel: [usize; 2]) -> Self {
        ConvCore {
            name: String::new(),
            filters,
            kernel,
            stride: [1, 1],
            padding: Padding::Valid,
            dilation: [1, 1],
            groups: 1,
            activation: Activation::Linear,
            use_bias: true,
            kernel_init: Initializer::GlorotUniform,
            weight: None,
            bias: None,
            extra_pad: [(0, 0); 2],
            sym_pad: [0, 0],
            rules: WeightRules::default(),
        }
    }

    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let &[c, h, w] = input else {
            return Err(shape_error(&self.name, "an image [channels, height, width]", input));
        };
        self.rules.check(&self.name)?;
        if self.groups == 0 || !c.is_multiple_of(self.groups) || !self.filters.is_multiple_of(self.groups) {
            let why = format!("groups {} must divide input channels {c} and filters {}", self.groups, self.filters);
            return Err(TrainError::config(&self.name, why));
        }
        let mut out = [0; 2];
        for (axis, extent) in [h, w].into_iter().enumerate() {
            let (k, s, d) = (self.kernel[axis], self.stride[axis], self.dilation[axis]);
            if k == 0 || s == 0 || d == 0 {
                return Err(TrainError::config(&self.name, "kernel, strides and dilation must be >= 1"));
            }
            let Some((lo, hi, o)) = axis_geometry(self.padding, extent, k, s, d, axis) else {
                let expected = format!("an image of at least the kernel's extent {:?} (dilated)", self.kernel);
                return Err(shape_error(&self.name, expected, input));
            };
            out[axis] = o;
            (self.sym_pad[axis], self.extra_pad[axis]) = if lo == hi { (lo, (0, 0)) } else { (0, (lo, hi)) };
        }
        let shape = [self.filters, c / self.groups, self.kernel[0], self.kernel[1]];
        self.weight =
            Some(Var::parameter(self.kernel_init.create(ctx.device, &shape, fans(&shape), ctx.next_seed())?));
        if self.use_bias {
            self.bias = Some(Var::parameter(Initializer::Zeros.create(ctx.device, &[self.filters], (1, 1), 0)?));
        }
        Ok(vec![self.filters, out[0], out[1]])
    }

    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let (x, w) = (ctx.compute(x)?, ctx.compute(built(&self.weight, &self.name)?)?);
        let bias = self.bias.as_ref().map(|b| ctx.compute(b)).transpose()?;
        let x = if self.extra_pad != [(0, 0); 2] {
            x.pad(&[(0, 0), (0, 0), self.extra_pad[0], self.extra_pad[1]], 0.0)?
        } else {
            x.clone()
        };
        let (fused, alpha) = self.activation.unary().unwrap_or((wgtrain_tensor::UnaryOp::Identity, 0.0));
        let o = Conv2dOptions {
            stride: self.stride,
            padding: self.sym_pad,
            dilation: self.dilation,
            groups: self.groups,
            activation: Some(fused),
            alpha,
            ..Default::default()
        };
        let y = x.conv2d(&w, bias.as_ref(), &o)?;
        let y = if self.activation == Activation::Softmax { y.softmax(1)? } else { y };
        self.rules.activity(&y, ctx)?;
        Ok(y)
    }

    fn params(&self) -> Vec<Param> {
        param(&self.name, "kernel", &self.weight).into_iter().chain(param(&self.name, "bias", &self.bias)).collect()
    }

    fn config(&self) -> serde_json::Value {
        let settings = json!({
            "filters": self.filters, "kernel_size": self.kernel, "strides": self.stride,
            "padding": self.padding, "dilation_rate": self.dilation, "groups": self.groups,
            "activation": self.activation.name(), "use_bias": self.use_bias,
        });
        with_rules(settings, &self.rules)
    }
}

/// The builders every layer on a [`ConvCore`] shares: activation, bias, initializer and the
/// weight rules; and the settings read back from a config, with `$one` the default stride and
/// dilation (`1` or `[1, 1]`, as the layer's builders take them).
macro_rules! conv_common_builders {
    ($one:expr) => {
        weight_rule_builders!();
        fn weight_rules_mut(&mut self) -> &mut WeightRules {
            &mut self.0.rules
        }
        /// Activation applied to the output (default linear); elementwise ones are fused into the kernel.
        pub fn activation(mut self, a: Activation) -> Self {
            self.0.activation = a;
            self
        }
        /// Shorthand for `.activation(Activation::Relu)`.
        pub fn relu(self) -> Self {
            self.activation(Activation::Relu)
        }
        /// Whether to add a bias per filter (default true).
        pub fn use_bias(mut self, on: bool) -> Self {
            self.0.use_bias = on;
            self
        }
        /// Initializer of the kernel (default Glorot uniform).
        pub fn kernel_initializer(mut self, i: Initializer) -> Self {
            self.0.kernel_init = i;
            self
        }
        /// Every setting but the filters and the window read from `c` (the builders' defaults
        /// where a field is absent), for `from_config`.
        fn settings_from_config(self, c: &LayerConfig<'_>) -> Result<Self> {
            let mut layer = self
                .strides(c.get_or("strides", $one)?)
                .padding(padding_of(c)?)
                .dilation(c.get_or("dilation_rate", $one)?)
                .activation(c.activation("activation")?)
                .use_bias(c.get_or("use_bias", true)?);
            *layer.weight_rules_mut() = c.weight_rules()?;
            Ok(layer)
        }
    };
}

macro_rules! conv_builders {
    ($t:ty) => {
        impl $t {
            /// Stride `[h, w]` (default `[1, 1]`).
            pub fn strides(mut self, s: [usize; 2]) -> Self {
                self.0.stride = s;
                self
            }
            /// Spatial padding (default [`Padding::Valid`]).
            pub fn padding(mut self, p: Padding) -> Self {
                self.0.padding = p;
                self
            }
            /// Dilation `[h, w]` between kernel taps (default `[1, 1]`).
            pub fn dilation(mut self, d: [usize; 2]) -> Self {
                self.0.dilation = d;
                self
            }
            conv_common_builders!([1, 1]);
        }
    };
}

/// The `Layer` impl of a convolution on a [`ConvCore`] (`self.0`). The 2-D ones build and run
/// the core as it is (after their `prepare`) and write their `config_2d`; the 1-D one passes
/// its own `build`, `forward` and `config` (`|s, ..|` binds `self`).
macro_rules! conv_layer {
    ($t:ty, $kind:literal) => {
        conv_layer!(
            $t,
            $kind,
            |s, input, ctx| {
                s.prepare(input);
                s.0.build(input, ctx)
            },
            |s, x, ctx| s.0.forward(x, ctx),
            |s| s.config_2d()
        );
    };
    ($t:ty, $kind:literal, |$s:ident, $input:ident, $ctx:ident| $build:expr, |$fs:ident, $x:ident, $fctx:ident| $forward:expr, |$cs:ident| $config:expr) => {
        impl Layer for $t {
            fn kind(&self) -> &'static str {
                $kind
            }
            fn name(&self) -> &str {
                &self.0.name
            }
            fn set_name(&mut self, name: String) {
                self.0.name = name;
            }
            fn build(&mut self, $input: &[usize], $ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
                let $s = self;
                $build
            }
            fn forward(&self, $x: &Var, $fctx: &mut Ctx) -> Result<Var> {
                let $fs = self;
                $forward
            }
            fn params(&self) -> Vec<Param> {
                self.0.params()
            }
            fn weight_penalties(&self) -> Result<Vec<Var>> {
                self.0.rules.weight_penalties(self.0.weight.as_ref(), self.0.bias.as_ref())
            }
            /// A unit is a filter: `[channels / groups, kh, kw]` of axis 0.
            fn apply_constraints(&self) -> Result<()> {
                self.0.rules.constrain(self.0.weight.as_ref(), &[1, 2, 3], self.0.bias.as_ref())
            }
            fn config(&self) -> serde_json::Value {
                let $cs = self;
                $config
            }
            fn compute_dtype(&self, policy: DType) -> Option<DType> {
                Some(policy)
            }
        }
    };
}

/// 2-D convolution: weight `[filters, channels / groups, kh, kw]`, bias `[filters]`,
/// Glorot-uniform weights (Keras). ReLU and leaky ReLU are fused into the kernel.
pub struct Conv2d(ConvCore);

impl Conv2d {
    /// `filters` output channels with a `kernel` `[h, w]` window; stride 1, valid padding, bias on.
    pub fn new(filters: usize, kernel: [usize; 2]) -> Self {
        Conv2d(ConvCore::new(filters, kernel))
    }
    /// Grouped convolution.
    pub fn groups(mut self, g: usize) -> Self {
        self.0.groups = g;
        self
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Conv2d::new(c.get("filters")?, c.get("kernel_size")?).groups(c.get_or("groups", 1)?).settings_from_config(c)
    }
    fn prepare(&mut self, _: &[usize]) {}
    fn config_2d(&self) -> serde_json::Value {
        self.0.config()
    }
}
conv_builders!(Conv2d);
conv_layer!(Conv2d, "Conv2D");

/// Depthwise convolution: each input channel convolved with `depth_multiplier` filters of its
/// own (groups = channels).
pub struct DepthwiseConv2d(ConvCore, usize);

impl DepthwiseConv2d {
    /// A depthwise convolution with a `kernel` `[h, w]` window and depth multiplier 1.
    pub fn new(kernel: [usize; 2]) -> Self {
        DepthwiseConv2d(ConvCore::new(0, kernel), 1)
    }
    /// Filters per input channel (default 1); the output has `channels * m` channels.
    pub fn depth_multiplier(mut self, m: usize) -> Self {
        self.1 = m;
        self
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt. Its filters and groups follow from
    /// the input at build, so they are not read (but give the multiplier of a file from before
    /// `depth_multiplier`: a built layer has `groups` channels and `filters = groups * m`).
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        let legacy = c.get_or("filters", 0usize)?.checked_div(c.get_or("groups", 1usize)?).filter(|&m| m > 0);
        DepthwiseConv2d::new(c.get("kernel_size")?)
            .depth_multiplier(c.get_or("depth_multiplier", legacy.unwrap_or(1))?)
            .settings_from_config(c)
    }
    fn prepare(&mut self, input: &[usize]) {
        let c = input.first().copied().unwrap_or(0);
        (self.0.groups, self.0.filters) = (c.max(1), c * self.1);
    }
    /// The core's keys and the multiplier, which with the input gives the filters and groups.
    fn config_2d(&self) -> serde_json::Value {
        let mut config = self.0.config();
        config["depth_multiplier"] = json!(self.1);
        config
    }
}
conv_builders!(DepthwiseConv2d);
conv_layer!(DepthwiseConv2d, "DepthwiseConv2D");

/// 1-D convolution over sequences `[steps, channels]` (Keras' `Conv1D`, channels last, as the
/// recurrent layers take them): output `[steps', filters]`. It runs as a 2-D convolution of
/// height 1: weight `[filters, channels, 1, kernel]`, bias `[filters]`, Glorot-uniform.
pub struct Conv1d(ConvCore);

impl Conv1d {
    /// `filters` output channels with a window of `kernel` steps; stride 1, valid padding.
    pub fn new(filters: usize, kernel: usize) -> Self {
        Conv1d(ConvCore::new(filters, [1, kernel]))
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt (its 1-D keys).
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        Conv1d::new(c.get("filters")?, c.get("kernel_size")?).settings_from_config(c)
    }
    conv_common_builders!(1);
    /// Stride in steps (default 1).
    pub fn strides(mut self, s: usize) -> Self {
        self.0.stride = [1, s];
        self
    }
    /// Padding of the steps (default [`Padding::Valid`]; `Same` keeps `ceil(steps / stride)`).
    pub fn padding(mut self, p: Padding) -> Self {
        self.0.padding = p;
        self
    }
    /// Dilation between kernel taps, in steps (default 1).
    pub fn dilation(mut self, d: usize) -> Self {
        self.0.dilation = [1, d];
        self
    }
}

impl Conv1d {
    /// Builds the core on `[channels, 1, steps]`; the output is `[steps', filters]`.
    fn build_1d(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let &[steps, channels] = input else {
            return Err(shape_error(&self.0.name, "a sequence [steps, channels]", input));
        };
        let out = self.0.build(&[channels, 1, steps], ctx)?;
        Ok(vec![out[2], out[0]])
    }
    /// `[n, steps, channels]` to `[n, channels, 1, steps]`, the convolution, and back.
    fn forward_1d(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let &[n, steps, channels] = x.shape() else {
            return Err(shape_error(&self.0.name, "a batch of sequences [n, steps, channels]", x.shape()));
        };
        let image = x.transpose(1, 2)?.reshape(&[n, channels, 1, steps])?;
        let y = self.0.forward(&image, ctx)?;
        let (filters, out) = (y.shape()[1], y.shape()[3]);
        Ok(y.reshape(&[n, filters, out])?.transpose(1, 2)?)
    }
    /// Keras' 1-D keys: a window, a stride and a dilation in steps.
    fn config_1d(&self) -> serde_json::Value {
        let c = &self.0;
        let settings = json!({
            "filters": c.filters, "kernel_size": c.kernel[1], "strides": c.stride[1],
            "padding": c.padding, "dilation_rate": c.dilation[1],
            "activation": c.activation.name(), "use_bias": c.use_bias,
        });
        with_rules(settings, &c.rules)
    }
}
conv_layer!(Conv1d, "Conv1D", |s, input, ctx| s.build_1d(input, ctx), |s, x, ctx| s.forward_1d(x, ctx), |s| s
    .config_1d());

/// Transposed convolution (PyTorch's ConvTranspose2d): weight `[channels, filters, kh, kw]`,
/// output extent `(in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1`.
pub struct ConvTranspose2d {
    name: String,
    filters: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    output_padding: [usize; 2],
    activation: Activation,
    weight: Option<Var>,
    bias: Option<Var>,
    rules: WeightRules,
}

impl ConvTranspose2d {
    /// `filters` output channels with a `kernel` `[h, w]` window; stride 1, no padding, with a bias.
    pub fn new(filters: usize, kernel: [usize; 2]) -> Self {
        ConvTranspose2d {
            name: String::new(),
            filters,
            kernel,
            stride: [1, 1],
            padding: [0, 0],
            output_padding: [0, 0],
            activation: Activation::Linear,
            weight: None,
            bias: None,
            rules: WeightRules::default(),
        }
    }
    weight_rule_builders!();
    fn weight_rules_mut(&mut self) -> &mut WeightRules {
        &mut self.rules
    }
    /// Stride `[h, w]` (default `[1, 1]`): the upsampling factor.
    pub fn strides(mut self, s: [usize; 2]) -> Self {
        self.stride = s;
        self
    }
    /// Rows/columns `[h, w]` removed from each side of the full output (default `[0, 0]`).
    pub fn padding(mut self, p: [usize; 2]) -> Self {
        self.padding = p;
        self
    }
    /// Extra rows/columns `[h, w]` added to one side of the output, each less than the stride
    /// (default `[0, 0]`); picks among the input sizes a strided conv maps to one size.
    pub fn output_padding(mut self, p: [usize; 2]) -> Self {
        self.output_padding = p;
        self
    }
    /// Activation applied to the output (default linear).
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        let layer = ConvTranspose2d::new(c.get("filters")?, c.get("kernel_size")?)
            .strides(c.get_or("strides", [1, 1])?)
            .padding(c.get_or("padding", [0, 0])?)
            .output_padding(c.get_or("output_padding", [0, 0])?)
            .activation(c.activation("activation")?);
        Ok(ConvTranspose2d { rules: c.weight_rules()?, ..layer })
    }
}

impl Layer for ConvTranspose2d {
    fn kind(&self) -> &'static str {
        "Conv2DTranspose"
    }
    fn compute_dtype(&self, policy: DType) -> Option<DType> {
        Some(policy)
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let &[c, h, w] = input else {
            return Err(shape_error(&self.name, "an image [channels, height, width]", input));
        };
        if self.kernel.contains(&0) {
            return Err(TrainError::config(&self.name, format!("kernel {:?} must be >= 1", self.kernel)));
        }
        self.rules.check(&self.name)?;
        let mut out = [0; 2];
        for (a, e) in [h, w].into_iter().enumerate() {
            let full = (e.max(1) - 1) * self.stride[a] + self.kernel[a] + self.output_padding[a];
            if self.stride[a] == 0 || self.output_padding[a] >= self.stride[a].max(1) || full < 2 * self.padding[a] + 1
            {
                let why = "stride >= 1, output_padding < stride, and padding leaving a non-empty output";
                return Err(TrainError::config(&self.name, why));
            }
            out[a] = full - 2 * self.padding[a];
        }
        let shape = [c, self.filters, self.kernel[0], self.kernel[1]];
        let fans = (self.filters * self.kernel[0] * self.kernel[1], c * self.kernel[0] * self.kernel[1]);
        self.weight =
            Some(Var::parameter(Initializer::GlorotUniform.create(ctx.device, &shape, fans, ctx.next_seed())?));
        self.bias = Some(Var::parameter(Initializer::Zeros.create(ctx.device, &[self.filters], (1, 1), 0)?));
        Ok(vec![self.filters, out[0], out[1]])
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let (x, w) = (ctx.compute(x)?, ctx.compute(built(&self.weight, &self.name)?)?);
        let bias = self.bias.as_ref().map(|b| ctx.compute(b)).transpose()?;
        let (fused, alpha) = self.activation.unary().unwrap_or((wgtrain_tensor::UnaryOp::Identity, 0.0));
        let o = Conv2dOptions {
            stride: self.stride,
            padding: self.padding,
            activation: Some(fused),
            alpha,
            ..Default::default()
        };
        let y = x.conv_transpose2d(&w, bias.as_ref(), &o, self.output_padding)?;
        let y = if self.activation == Activation::Softmax { y.softmax(1)? } else { y };
        self.rules.activity(&y, ctx)?;
        Ok(y)
    }
    fn params(&self) -> Vec<Param> {
        param(&self.name, "kernel", &self.weight).into_iter().chain(param(&self.name, "bias", &self.bias)).collect()
    }
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        self.rules.weight_penalties(self.weight.as_ref(), self.bias.as_ref())
    }
    /// A unit is an output filter: the weight is `[channels, filters, kh, kw]`.
    fn apply_constraints(&self) -> Result<()> {
        self.rules.constrain(self.weight.as_ref(), &[0, 2, 3], self.bias.as_ref())
    }
    fn config(&self) -> serde_json::Value {
        let settings = json!({
            "filters": self.filters, "kernel_size": self.kernel, "strides": self.stride, "padding": self.padding,
            "output_padding": self.output_padding, "activation": self.activation.name(),
        });
        with_rules(settings, &self.rules)
    }
}
