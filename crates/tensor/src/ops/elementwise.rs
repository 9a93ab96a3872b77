//! Elementwise ops on float tensors with NumPy broadcasting. Inputs may be any strided view
//! (the kernels index through strides; broadcast dimensions have stride 0); outputs are
//! contiguous, of the operands' dtype.
//!
//! Operands are all f32, or all f16 (mixed precision: the op computes in f32 and rounds each
//! result to f16 once; the adapter needs `SHADER_F16`), else [`TensorError::DType`], on one
//! device; two- and three-operand ops broadcast and fail with [`TensorError::Incompatible`]
//! when shapes do not.

use wgtrain_kernels::ops::map::{self, BinaryOp, MapParams, TernaryOp, UnaryOp, grad_code};
use wgtrain_kernels::ops::op_table::scalar_args;

use super::operand;
use crate::error::{Result, TensorError};
use crate::plan::{Streaming, TexturedForm};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;

// The methods `relu()`, `leaky_relu(s)`, `clamp(low, high)`, `add(rhs)`, ... are generated from
// the op table (`wgtrain_kernels::ops::op_table`): one per row, with the row's docs.
macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident = $code:literal, fn $method:ident($($arg:ident),*) $body:tt)*) => {
        impl Tensor {
            $($(#[$doc])* pub fn $method(&self $(, $arg: f32)*) -> Result<Tensor> {
                let (alpha, beta) = scalar_args(&[$($arg),*]);
                self.unary(UnaryOp::$name, alpha, beta)
            })*
        }
    };
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident = $code:literal, fn $method:ident $body:tt)*) => {
        impl Tensor {
            $($(#[$doc])* pub fn $method(&self, rhs: &Tensor) -> Result<Tensor> { self.binary(BinaryOp::$name, rhs) })*
        }
    };
}

wgtrain_kernels::for_each_unary_op!(unary_methods);
wgtrain_kernels::for_each_binary_op!(binary_methods);

impl Tensor {
    /// Any unary op with its scalar arguments.
    pub fn unary(&self, op: UnaryOp, alpha: f32, beta: f32) -> Result<Tensor> {
        let f16 = self.expect_float("unary")?;
        let out = Tensor::empty(self.device(), &self.shape, self.dtype())?;
        if out.is_empty() {
            return Ok(out);
        }
        let p = MapParams::new(&self.shape, &[operand(self)], op as u32, alpha, beta);
        // The texture forms read f32 texels only.
        let textured = (p.texel_aligned(1) && !f16).then_some(|| TexturedForm {
            launch: map::launch_texture(&map::UNARY_TEXTURE, &p),
            inputs: vec![self],
            outputs: vec![out.vec4_binding()],
        });
        let gpu = (map::launch(map::UNARY.of(f16), &p), &[self.binding(), out.binding()][..]);
        self.device().run_streaming(Streaming { gpu, textured, texture_inputs: 1, elements: out.len() })?;
        Ok(out)
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
        let f16 = self.expect_float(name)?;
        rhs.expect_dtype(name, self.dtype())?;
        let shape = broadcast_shapes(name, &self.shape, &rhs.shape)?;
        let (a, b) = (self.broadcast_to(&shape)?, rhs.broadcast_to(&shape)?);
        let out = Tensor::empty(self.device(), &shape, self.dtype())?;
        if out.is_empty() {
            return Ok(out);
        }
        let p = MapParams::new(&shape, &[operand(&a), operand(&b)], code, alpha, 0.0);
        let textured = (p.texel_aligned(2) && !f16).then_some(|| TexturedForm {
            launch: map::launch_texture(&map::BINARY_TEXTURE, &p),
            inputs: vec![&a, &b],
            outputs: vec![out.vec4_binding()],
        });
        let gpu = (map::launch(map::BINARY.of(f16), &p), &[a.binding(), b.binding(), out.binding()][..]);
        self.device().run_streaming(Streaming { gpu, textured, texture_inputs: 2, elements: out.len() })?;
        Ok(out)
    }

    /// Any three-operand op, broadcasting all operands.
    pub fn ternary(op: TernaryOp, a: &Tensor, b: &Tensor, c: &Tensor) -> Result<Tensor> {
        let name = "ternary";
        a.same_device(name, b)?;
        a.same_device(name, c)?;
        let f16 = a.expect_float(name)?;
        for t in [b, c] {
            t.expect_dtype(name, a.dtype())?;
        }
        let shape = broadcast_shapes(name, &broadcast_shapes(name, &a.shape, &b.shape)?, &c.shape)?;
        let (a, b, c) = (a.broadcast_to(&shape)?, b.broadcast_to(&shape)?, c.broadcast_to(&shape)?);
        let out = Tensor::empty(a.device(), &shape, a.dtype())?;
        if out.is_empty() {
            return Ok(out);
        }
        let p = MapParams::new(&shape, &[operand(&a), operand(&b), operand(&c)], op as u32, 0.0, 0.0);
        a.device().dispatch(
            &map::launch(map::TERNARY.of(f16), &p),
            &[a.binding(), b.binding(), c.binding(), out.binding()],
        )?;
        Ok(out)
    }

    /// `cond != 0 ? a : b`, elementwise with broadcasting (`cond` is this tensor).
    pub fn where_(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        Tensor::ternary(TernaryOp::Where, a, b, self)
    }
}
