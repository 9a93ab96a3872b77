//! Elementwise ops on f32 tensors with NumPy broadcasting. Inputs may be any strided view
//! (the kernels index through strides; broadcast dimensions have stride 0); outputs are
//! contiguous.
//!
//! Every op needs f32 operands (else [`TensorError::DType`]) on one device; two- and
//! three-operand ops broadcast and fail with [`TensorError::Incompatible`] when shapes do not.

use wgtrain_kernels::ops::map::{self, BinaryOp, MapParams, TernaryOp, UnaryOp, grad_code};

use super::operand;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        impl Tensor {
            $($(#[$doc])* pub fn $name(&self) -> Result<Tensor> { self.unary(UnaryOp::$op, 0.0, 0.0) })*
        }
    };
}

macro_rules! scalar_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        impl Tensor {
            $($(#[$doc])* pub fn $name(&self, s: f32) -> Result<Tensor> { self.unary(UnaryOp::$op, s, 0.0) })*
        }
    };
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        impl Tensor {
            $($(#[$doc])* pub fn $name(&self, rhs: &Tensor) -> Result<Tensor> { self.binary(BinaryOp::$op, rhs) })*
        }
    };
}

unary_methods! {
    /// -x.
    neg => Neg;
    /// |x|.
    abs => Abs;
    /// e^x.
    exp => Exp;
    /// Natural logarithm.
    log => Log;
    /// Square root (NaN below 0).
    sqrt => Sqrt;
    /// 1 / sqrt(x).
    rsqrt => Rsqrt;
    /// x^2.
    square => Square;
    /// max(x, 0).
    relu => Relu;
    /// SELU with the fixed alpha 1.6733 and scale 1.0507 (self-normalizing networks).
    selu => Selu;
    /// Exact GELU, x Phi(x) (Keras `approximate=False`, PyTorch's default).
    gelu => Gelu;
    /// 1 / (1 + e^-x).
    sigmoid => Sigmoid;
    /// Hyperbolic tangent.
    tanh => Tanh;
    /// ln(1 + e^x), computed without overflow for large x.
    softplus => Softplus;
    /// x sigmoid(x), also called swish.
    silu => Silu;
    /// clamp(x / 6 + 1/2, 0, 1).
    hard_sigmoid => HardSigmoid;
    /// 1 / x.
    recip => Recip;
    /// -1, 0 or 1 by the sign of x.
    sign => Sign;
}

scalar_methods! {
    /// x + s
    add_scalar => AddScalar;
    /// x * s
    mul_scalar => MulScalar;
    /// x^s
    pow_scalar => PowScalar;
    /// s - x
    rsub_scalar => RsubScalar;
    /// s / x
    rdiv_scalar => RdivScalar;
    /// 1.0 where x > s, else 0.0.
    gt_scalar => GtScalar;
    /// 1.0 where x >= s, else 0.0.
    ge_scalar => GeScalar;
    /// 1.0 where x < s, else 0.0.
    lt_scalar => LtScalar;
    /// 1.0 where x <= s, else 0.0.
    le_scalar => LeScalar;
    /// 1.0 where x == s, else 0.0.
    eq_scalar => EqScalar;
    /// 1.0 where x != s, else 0.0.
    ne_scalar => NeScalar;
    /// max(x, s)
    maximum_scalar => MaxScalar;
    /// min(x, s)
    minimum_scalar => MinScalar;
    /// x for x > 0, else s x.
    leaky_relu => LeakyRelu;
    /// x for x > 0, else s (e^x - 1).
    elu => Elu;
}

binary_methods! {
    /// self + rhs.
    add => Add;
    /// self - rhs.
    sub => Sub;
    /// self * rhs, elementwise.
    mul => Mul;
    /// self / rhs.
    div => Div;
    /// self^rhs.
    pow => Pow;
    /// Elementwise max(self, rhs).
    maximum => Maximum;
    /// Elementwise min(self, rhs).
    minimum => Minimum;
    /// 1.0 where equal, else 0.0 (as every comparison).
    eq => Eq;
    /// 1.0 where self != rhs, else 0.0.
    ne => Ne;
    /// 1.0 where self < rhs, else 0.0.
    lt => Lt;
    /// 1.0 where self <= rhs, else 0.0.
    le => Le;
    /// 1.0 where self > rhs, else 0.0.
    gt => Gt;
    /// 1.0 where self >= rhs, else 0.0.
    ge => Ge;
    /// PReLU with a learned slope tensor broadcast against x.
    prelu => Prelu;
}

impl Tensor {
    /// Any unary op with its scalar arguments.
    pub fn unary(&self, op: UnaryOp, alpha: f32, beta: f32) -> Result<Tensor> {
        self.expect_dtype("unary", DType::F32)?;
        let out = Tensor::empty(self.device(), &self.shape, DType::F32)?;
        if out.is_empty() {
            return Ok(out);
        }
        let p = MapParams::new(&self.shape, &[operand(self)], op as u32, alpha, beta);
        let dev = self.device();
        if dev.streams_textures(out.len()) && p.texel_aligned(1) {
            let launch = map::launch_texture(&map::UNARY_TEXTURE, &p);
            dev.dispatch_textured(&launch, &[self], &[out.vec4_binding()])?;
        } else {
            dev.dispatch(&map::launch(&map::UNARY, &p), &[self.binding(), out.binding()])?;
        }
        Ok(out)
    }

    /// clamp(x, low, high).
    pub fn clamp(&self, low: f32, high: f32) -> Result<Tensor> {
        self.unary(UnaryOp::Clamp, low, high)
    }

    /// Any binary op, broadcasting both operands.
    pub fn binary(&self, op: BinaryOp, rhs: &Tensor) -> Result<Tensor> {
        self.map2(op as u32, rhs, 0.0, "binary")
    }

    /// The fused gradient `dy * f'(x)` of unary op `op` (x = self, the op's input).
    pub fn unary_grad(&self, op: UnaryOp, dy: &Tensor, alpha: f32) -> Result<Tensor> {
        if !op.has_fused_grad() {
            return Err(TensorError::Argument { op: "unary_grad", why: format!("{op:?} has no fused gradient") });
        }
        self.map2(grad_code(op), dy, alpha, "unary_grad")
    }

    fn map2(&self, code: u32, rhs: &Tensor, alpha: f32, name: &'static str) -> Result<Tensor> {
        self.same_device(name, rhs)?;
        self.expect_dtype(name, DType::F32)?;
        rhs.expect_dtype(name, DType::F32)?;
        let shape = broadcast_shapes(name, &self.shape, &rhs.shape)?;
        let (a, b) = (self.broadcast_to(&shape)?, rhs.broadcast_to(&shape)?);
        let out = Tensor::empty(self.device(), &shape, DType::F32)?;
        if out.is_empty() {
            return Ok(out);
        }
        let p = MapParams::new(&shape, &[operand(&a), operand(&b)], code, alpha, 0.0);
        let dev = self.device();
        if dev.streams_textures(out.len()) && p.texel_aligned(2) {
            let launch = map::launch_texture(&map::BINARY_TEXTURE, &p);
            dev.dispatch_textured(&launch, &[&a, &b], &[out.vec4_binding()])?;
        } else {
            dev.dispatch(&map::launch(&map::BINARY, &p), &[a.binding(), b.binding(), out.binding()])?;
        }
        Ok(out)
    }

    /// Any three-operand op, broadcasting all operands.
    pub fn ternary(op: TernaryOp, a: &Tensor, b: &Tensor, c: &Tensor) -> Result<Tensor> {
        let name = "ternary";
        a.same_device(name, b)?;
        a.same_device(name, c)?;
        for t in [a, b, c] {
            t.expect_dtype(name, DType::F32)?;
        }
        let shape = broadcast_shapes(name, &broadcast_shapes(name, &a.shape, &b.shape)?, &c.shape)?;
        let (a, b, c) = (a.broadcast_to(&shape)?, b.broadcast_to(&shape)?, c.broadcast_to(&shape)?);
        let out = Tensor::empty(a.device(), &shape, DType::F32)?;
        if out.is_empty() {
            return Ok(out);
        }
        let p = MapParams::new(&shape, &[operand(&a), operand(&b), operand(&c)], op as u32, 0.0, 0.0);
        a.device()
            .dispatch(&map::launch(&map::TERNARY, &p), &[a.binding(), b.binding(), c.binding(), out.binding()])?;
        Ok(out)
    }

    /// `cond != 0 ? a : b`, elementwise with broadcasting (`cond` is this tensor).
    pub fn where_(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        Tensor::ternary(TernaryOp::Where, a, b, self)
    }
}
