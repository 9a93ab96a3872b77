//! 2-D convolution (NCHW) forward, both backward passes, and conv_transpose2d. On GPUs all run
//! on the implicit-GEMM kernels of `conv2d.wgsl` (see that file for why implicit GEMM); on
//! software adapters, in the `cpu` wing, as an explicit im2col pack (for most stride-1 passes,
//! shifted copies of the source instead) plus the texture GEMM (the GEMM form `Textures`) or
//! the uniform-window GEMM (the form `Windows`). The planner orders the forms.
//! Inputs are made contiguous first.

use wgtrain_kernels::ops::conv::ConvPass;
use wgtrain_kernels::ops::conv::{self, ConvGeometry, ConvParams, out_extent};
use wgtrain_kernels::ops::map::UnaryOp;
use wgtrain_kernels::ops::matmul::{GemmPrecision, fusable_activation};

use super::gemm_precision;
use crate::cpu;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::plan::GemmForm;
use crate::tensor::Tensor;

/// Geometry and epilogue of a convolution. `Default` is stride 1, no padding, dilation 1, one
/// group, no activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conv2dOptions {
    /// Stride `[h, w]`.
    pub stride: [usize; 2],
    /// Zero padding `[h, w]` added on both sides.
    pub padding: [usize; 2],
    /// Spacing `[h, w]` between kernel taps.
    pub dilation: [usize; 2],
    /// Channel groups: input and output channels split into `groups` independent convolutions.
    pub groups: usize,
    /// Fused after the bias (forward and conv_transpose2d).
    pub activation: Option<UnaryOp>,
    /// Scalar argument of `activation` (e.g. the leaky-ReLU slope).
    pub alpha: f32,
    /// The output's dtype: by default the operands'. f16 operands (mixed precision) may ask
    /// for f32, for a weight gradient that feeds an f32 master weight; sums are f32 either way.
    pub out_dtype: Option<DType>,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
            activation: None,
            alpha: 0.0,
            out_dtype: None,
        }
    }
}

impl Conv2dOptions {
    fn geometry(&self) -> ConvGeometry {
        ConvGeometry { stride: self.stride, padding: self.padding, dilation: self.dilation, groups: self.groups }
    }
}

fn dims4(op: &'static str, what: &str, t: &Tensor) -> Result<[usize; 4]> {
    <[usize; 4]>::try_from(t.shape.as_slice()).map_err(|_| TensorError::Shape {
        op,
        expected: format!("a rank-4 {what}"),
        got: t.shape.clone(),
    })
}

/// Checks x/w agreement and returns the params for x `[n, c, h, w]`, w `[oc, c / g, kh, kw]`.
fn params(op: &'static str, x: [usize; 4], w: [usize; 4], o: &Conv2dOptions) -> Result<ConvParams> {
    let g = o.groups;
    let bad = |why: String| TensorError::Incompatible { op, lhs: x.to_vec(), rhs: w.to_vec(), why };
    if g == 0 || !x[1].is_multiple_of(g) || !w[0].is_multiple_of(g) {
        return Err(bad(format!("groups = {g} must divide input channels {} and output channels {}", x[1], w[0])));
    }
    if w[1] * g != x[1] {
        return Err(bad(format!("weight expects {} input channels per group, input has {} / {g}", w[1], x[1])));
    }
    if o.stride.contains(&0) || o.dilation.contains(&0) || w[2] == 0 || w[3] == 0 {
        return Err(bad(format!("stride {:?} and dilation {:?} must be >= 1, kernel non-empty", o.stride, o.dilation)));
    }
    let oh = out_extent(x[2], w[2], o.stride[0], o.padding[0], o.dilation[0]);
    let ow = out_extent(x[3], w[3], o.stride[1], o.padding[1], o.dilation[1]);
    let (Some(oh), Some(ow)) = (oh, ow) else {
        return Err(bad(format!("the dilated kernel does not fit the padded input (padding {:?})", o.padding)));
    };
    let act = o.activation.unwrap_or(UnaryOp::Identity);
    if !fusable_activation(act) {
        return Err(TensorError::Argument { op, why: format!("{act:?} cannot be fused into conv2d") });
    }
    let mut p = ConvParams::new(x, w, [oh, ow], &o.geometry());
    p.act = act as u32;
    p.alpha = o.alpha;
    Ok(p)
}

/// Runs `pass` in the first GEMM form of the device that serves it: `tiled` records the
/// implicit GEMM of `conv2d.wgsl` (GPUs); the software adapters' forms are in the `cpu` wing.
/// `operands` are the sources of the A and B packs there: (w, x) forward, (w, dy) grad input,
/// (dy, x) grad weight.
/// The software adapters' forms are f32 only: they decline other precisions, which the tiled
/// form then serves.
#[allow(clippy::too_many_arguments)]
fn run_pass(
    op: &'static str,
    p: &ConvParams,
    pass: ConvPass,
    precision: GemmPrecision,
    operands: [&Tensor; 2],
    bias: Option<&Tensor>,
    out: &Tensor,
    tiled: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let mut tiled = Some(tiled);
    let f32 = precision == GemmPrecision::F32;
    out.device().serve_gemm(op, |form| match form {
        GemmForm::Tiled => tiled.take().map_or(Ok(false), |record| record().map(|()| true)),
        GemmForm::Textures if f32 => cpu::conv_texture(p, pass, operands, bias, out),
        GemmForm::Windows if f32 => cpu::conv_uniform(op, p, pass, operands, bias, out).map(|()| true),
        // Cooperative matrices serve matmul only: the convolutions stay on the tiled GEMM.
        GemmForm::Coop | GemmForm::Textures | GemmForm::Windows => Ok(false),
    })
}

fn check_bias(op: &'static str, bias: Option<&Tensor>, channels: usize, dtype: DType) -> Result<Option<Tensor>> {
    let Some(b) = bias else { return Ok(None) };
    b.expect_dtype(op, dtype)?;
    if b.shape != [channels] {
        return Err(TensorError::Shape { op, expected: format!("bias of shape [{channels}]"), got: b.shape.clone() });
    }
    b.dense().map(Some)
}

impl Tensor {
    /// `act(conv2d(self, w) + bias)`: self `[n, c, h, w]`, w `[oc, c / groups, kh, kw]`.
    pub fn conv2d(&self, w: &Tensor, bias: Option<&Tensor>, o: &Conv2dOptions) -> Result<Tensor> {
        let op = "conv2d";
        self.same_device(op, w)?;
        let precision = gemm_precision(op, self, w, o.out_dtype)?;
        let mut p = params(op, dims4(op, "input", self)?, dims4(op, "weight", w)?, o)?;
        let bias = check_bias(op, bias, w.shape[0], self.dtype())?;
        p.has_bias = bias.is_some() as u32;
        let (x, w) = (self.dense()?, w.dense()?);
        let shape = [p.batch, p.out_c, p.out_h, p.out_w].map(|v| v as usize);
        let out = Tensor::empty(self.device(), &shape, o.out_dtype.unwrap_or(x.dtype()))?;
        if out.is_empty() {
            return Ok(out);
        }
        run_pass(op, &p, ConvPass::Forward, precision, [&w, &x], bias.as_ref(), &out, || {
            let launch = conv::forward(&p, self.device().gemm_tiles(), precision);
            let b = bias.as_ref().unwrap_or(&w).binding();
            self.device().dispatch(&launch, &[x.binding(), w.binding(), b, out.binding()])
        })?;
        Ok(out)
    }

    /// Gradient of conv2d w.r.t. its input: self = dy `[n, oc, oh, ow]`, for an input of
    /// `input_shape` and weight `w`.
    pub fn conv2d_grad_input(&self, w: &Tensor, input_shape: [usize; 4], o: &Conv2dOptions) -> Result<Tensor> {
        let op = "conv2d_grad_input";
        self.same_device(op, w)?;
        let mut o = *o;
        o.activation = None;
        let p = params(op, input_shape, dims4(op, "weight", w)?, &o)?;
        let want = [p.batch, p.out_c, p.out_h, p.out_w].map(|v| v as usize);
        if dims4(op, "gradient", self)? != want {
            return Err(TensorError::Shape { op, expected: format!("dy of shape {want:?}"), got: self.shape.clone() });
        }
        self.grad_input_pass(op, w, &p, None, input_shape, o.out_dtype)
    }

    /// The grad-input pass (also conv_transpose2d's forward) into a new tensor of `out_shape`.
    fn grad_input_pass(
        &self,
        op: &'static str,
        w: &Tensor,
        p: &ConvParams,
        bias: Option<Tensor>,
        out_shape: [usize; 4],
        out_dtype: Option<DType>,
    ) -> Result<Tensor> {
        let precision = gemm_precision(op, self, w, out_dtype)?;
        let (dy, w) = (self.dense()?, w.dense()?);
        let out = Tensor::empty(self.device(), &out_shape, out_dtype.unwrap_or(dy.dtype()))?;
        if out.is_empty() {
            return Ok(out);
        }
        run_pass(op, p, ConvPass::GradInput, precision, [&w, &dy], bias.as_ref(), &out, || {
            let launch = conv::grad_input(p, self.device().gemm_tiles(), precision);
            let b = bias.as_ref().unwrap_or(&w).binding();
            self.device().dispatch(&launch, &[dy.binding(), w.binding(), b, out.binding()])
        })?;
        Ok(out)
    }

    /// Gradient of conv2d w.r.t. its weight: self = dy, `x` the forward input, for a weight of
    /// `weight_shape`.
    pub fn conv2d_grad_weight(&self, x: &Tensor, weight_shape: [usize; 4], o: &Conv2dOptions) -> Result<Tensor> {
        let op = "conv2d_grad_weight";
        self.same_device(op, x)?;
        let precision = gemm_precision(op, self, x, o.out_dtype)?;
        let p = params(op, dims4(op, "input", x)?, weight_shape, o)?;
        let want = [p.batch, p.out_c, p.out_h, p.out_w].map(|v| v as usize);
        if dims4(op, "gradient", self)? != want {
            return Err(TensorError::Shape { op, expected: format!("dy of shape {want:?}"), got: self.shape.clone() });
        }
        let (dy, x) = (self.dense()?, x.dense()?);
        let dev = self.device();
        let tiles = dev.gemm_tiles();
        let out = Tensor::empty(dev, &weight_shape, o.out_dtype.unwrap_or(dy.dtype()))?;
        if out.is_empty() {
            return Ok(out);
        }
        run_pass(op, &p, ConvPass::GradWeight, precision, [&dy, &x], None, &out, || {
            let mut p = p;
            let splits = conv::grad_weight_splits(&p, tiles, dev.max_grad_weight_splits());
            if splits == 1 {
                let launch = conv::grad_weight(&mut p, tiles, 1, precision);
                return dev.dispatch(&launch, &[dy.binding(), x.binding(), dy.binding(), out.binding()]);
            }
            // Partials are f32 whatever the operands (f16 ones write them through the
            // f16 -> f32 module), summed in f32, and rounded to f16 after the sum if asked.
            let partial_precision = if precision == GemmPrecision::F32 { precision } else { GemmPrecision::F16ToF32 };
            let launch = conv::grad_weight(&mut p, tiles, splits, partial_precision);
            let partial = Tensor::empty(dev, &[p.splits as usize, p.weight_len()], DType::F32)?;
            dev.dispatch(&launch, &[dy.binding(), x.binding(), dy.binding(), partial.binding()])?;
            let sum = conv::splitk_sum(&p, tiles);
            if out.dtype() == DType::F32 {
                return dev.dispatch(&sum, &[partial.binding(), partial.binding(), partial.binding(), out.binding()]);
            }
            let dw = Tensor::empty(dev, &weight_shape, DType::F32)?;
            dev.dispatch(&sum, &[partial.binding(), partial.binding(), partial.binding(), dw.binding()])?;
            out.assign(&dw.cast(out.dtype())?)
        })?;
        Ok(out)
    }

    /// Transposed convolution: self `[n, c_in, h, w]`, w `[c_in, c_out / groups, kh, kw]`;
    /// output extent `(h - 1) stride - 2 pad + dil (k - 1) + output_padding + 1`.
    pub fn conv_transpose2d(
        &self,
        w: &Tensor,
        bias: Option<&Tensor>,
        o: &Conv2dOptions,
        output_padding: [usize; 2],
    ) -> Result<Tensor> {
        let op = "conv_transpose2d";
        self.same_device(op, w)?;
        let x = dims4(op, "input", self)?;
        let wd = dims4(op, "weight", w)?;
        if x[1] != wd[0] {
            return Err(TensorError::Incompatible {
                op,
                lhs: x.to_vec(),
                rhs: wd.to_vec(),
                why: format!("weight has {} input channels, input has {}", wd[0], x[1]),
            });
        }
        if o.stride.contains(&0) || o.dilation.contains(&0) || wd[2] == 0 || wd[3] == 0 || x[2] == 0 || x[3] == 0 {
            let why = format!(
                "stride {:?} and dilation {:?} must be >= 1, and kernel and input planes non-empty",
                o.stride, o.dilation
            );
            return Err(TensorError::Incompatible { op, lhs: x.to_vec(), rhs: wd.to_vec(), why });
        }
        let mut out_hw = [0; 2];
        for d in 0..2 {
            if output_padding[d] >= o.stride[d].max(o.dilation[d]) {
                return Err(TensorError::Argument {
                    op,
                    why: format!("output_padding {output_padding:?} must be < stride or dilation"),
                });
            }
            let full = (x[2 + d] - 1) * o.stride[d] + o.dilation[d] * (wd[2 + d] - 1) + output_padding[d] + 1;
            out_hw[d] = full.checked_sub(2 * o.padding[d]).ok_or_else(|| TensorError::Argument {
                op,
                why: format!("padding {:?} is larger than the output", o.padding),
            })?;
        }
        let c_out = wd[1] * o.groups;
        // The conv whose grad-input pass this is: input [n, c_out, H, W], weight w, output x.
        let conv_input = [x[0], c_out, out_hw[0], out_hw[1]];
        let mut p = params(op, conv_input, wd, o)?;
        // The conv of that input must give back x's plane; an output_padding >= stride (allowed
        // by the rule above when < dilation, as in PyTorch) can break that, and the pass would
        // then read dy as planes of another size.
        if [p.out_h as usize, p.out_w as usize] != [x[2], x[3]] {
            let why = format!(
                "output_padding {output_padding:?} gives an output whose convolution is {}x{}, not the input's {}x{}",
                p.out_h, p.out_w, x[2], x[3]
            );
            return Err(TensorError::Argument { op, why });
        }
        let bias = check_bias(op, bias, c_out, self.dtype())?;
        p.has_bias = bias.is_some() as u32;
        self.grad_input_pass(op, w, &p, bias, conv_input, o.out_dtype)
    }
}
