//! Elementwise ops with NumPy broadcasting. A broadcast operand's gradient is summed back to
//! its shape (`sum_to`).

use wgtrain_kernels::ops::op_table::scalar_args;
use wgtrain_tensor::{BinaryOp, DType, Tensor, TernaryOp, UnaryOp};

use super::sum_to;
use crate::error::Result;
use crate::node::record;
use crate::var::Var;

fn zeros_like(t: &Tensor) -> Result<Tensor> {
    Ok(Tensor::zeros(t.device(), t.shape(), DType::F32)?)
}

/// `dy * f'(x)` of a unary op with scalar arguments `a`, `b`, given what `Var::unary` saved:
/// the output y for recip, else the input x (unused by the ops that save nothing).
fn unary_rule(op: UnaryOp, a: f32, b: f32, saved: &Tensor, dy: &Tensor) -> Result<Tensor> {
    use UnaryOp::*;
    let (x, y) = (saved, saved);
    if op.has_fused_grad() {
        // One kernel: dy * f'(x) for every activation and the smooth math functions.
        return Ok(x.unary_grad(op, dy, a)?);
    }
    Ok(match op {
        AddScalar | Identity => dy.clone(),
        RsubScalar => dy.neg()?,
        MulScalar => dy.mul_scalar(a)?,
        // d/dx x^a = a x^(a-1)
        PowScalar => x.pow_scalar(a - 1.0)?.mul_scalar(a)?.mul(dy)?,
        // d/dx 1/x = -1/x^2 = -y^2
        Recip => y.square()?.mul(dy)?.neg()?,
        // d/dx a/x = -a/x^2
        RdivScalar => x.square()?.recip()?.mul_scalar(-a)?.mul(dy)?,
        // Inside the closed interval the value passes through (PyTorch's clamp).
        Clamp => x.ge_scalar(a)?.mul(&x.le_scalar(b)?)?.mul(dy)?,
        MaxScalar => x.ge_scalar(a)?.mul(dy)?,
        MinScalar => x.le_scalar(a)?.mul(dy)?,
        // Piecewise constant: zero almost everywhere.
        Sign | GtScalar | GeScalar | LtScalar | LeScalar | EqScalar | NeScalar => zeros_like(x)?,
        _ => unreachable!("{op:?} has a fused gradient"),
    })
}

// The methods `relu()`, `leaky_relu(s)`, `clamp(low, high)`, `add(rhs)`, ... are generated from
// the op table (`wgtrain_kernels::ops::op_table`), as `Tensor`'s are: one per row.
macro_rules! unary_vars {
    ($($(#[$doc:meta])* $name:ident = $code:literal, fn $method:ident($($arg:ident),*) $body:tt)*) => {
        impl Var {
            $($(#[$doc])* pub fn $method(&self $(, $arg: f32)*) -> Result<Var> {
                let (alpha, beta) = scalar_args(&[$($arg),*]);
                self.unary(UnaryOp::$name, alpha, beta)
            })*
        }
    };
}

macro_rules! binary_vars {
    ($($(#[$doc:meta])* $name:ident = $code:literal, fn $method:ident $body:tt)*) => {
        impl Var {
            $($(#[$doc])* pub fn $method(&self, rhs: &Var) -> Result<Var> { self.binary(BinaryOp::$name, rhs) })*
        }
    };
}

wgtrain_kernels::for_each_unary_op!(unary_vars);
wgtrain_kernels::for_each_binary_op!(binary_vars);

impl Var {
    /// Any unary op with its scalar arguments.
    pub fn unary(&self, op: UnaryOp, a: f32, b: f32) -> Result<Var> {
        let y = self.data().unary(op, a, b)?;
        // Save only what the rule reads: the input for most ops, the output for recip.
        let saved = match op {
            UnaryOp::AddScalar | UnaryOp::Identity | UnaryOp::RsubScalar | UnaryOp::MulScalar => vec![],
            UnaryOp::Recip => vec![y.clone()],
            _ => vec![self.data().clone()],
        };
        Ok(record(op.name(), y, &[self], saved, move |c| {
            let saved = c.saved.first().unwrap_or(c.grad);
            Ok(vec![Some(unary_rule(op, a, b, saved, c.grad)?)])
        }))
    }

    /// Any binary op, broadcasting both operands.
    pub fn binary(&self, op: BinaryOp, rhs: &Var) -> Result<Var> {
        let (a, b) = (self.data(), rhs.data());
        let y = a.binary(op, b)?;
        let (a_shape, b_shape) = (a.shape().to_vec(), b.shape().to_vec());
        // Sums and differences need no operand values: saving none frees them sooner.
        let saved = match op {
            BinaryOp::Add | BinaryOp::Sub => vec![],
            BinaryOp::Div | BinaryOp::Pow => vec![a.clone(), b.clone(), y.clone()],
            _ => vec![a.clone(), b.clone()],
        };
        Ok(record("binary", y, &[self, rhs], saved, move |c| {
            let (da, db) = binary_rule(op, c.saved, c.grad, c.needs)?;
            Ok(vec![da.map(|g| sum_to(&g, &a_shape)).transpose()?, db.map(|g| sum_to(&g, &b_shape)).transpose()?])
        }))
    }

    /// `cond != 0 ? a : b` elementwise with broadcasting (`cond` needs no gradient).
    pub fn where_(cond: &Tensor, a: &Var, b: &Var) -> Result<Var> {
        // The condition in the operands' dtype (f16 under mixed precision): nonzero stays so.
        let cond = &cond.cast(a.dtype())?;
        let y = cond.where_(a.data(), b.data())?;
        let saved = vec![cond.clone(), a.data().clone(), b.data().clone()];
        Ok(record("where", y, &[a, b], saved, |c| {
            let (cond, a, b, dy) = (&c.saved[0], &c.saved[1], &c.saved[2], c.grad);
            let zero = Tensor::zeros(dy.device(), &[], dy.dtype())?;
            let da = c.needs(0).then(|| sum_to(&cond.where_(dy, &zero)?, a.shape())).transpose()?;
            let db = c.needs(1).then(|| sum_to(&cond.where_(&zero, dy)?, b.shape())).transpose()?;
            Ok(vec![da, db])
        }))
    }
}

/// The gradients (before `sum_to`) of a binary op w.r.t. a and b, each only where needed.
/// `saved` holds a, b (and y for div and pow) as `Var::binary` saved them.
fn binary_rule(
    op: BinaryOp,
    saved: &[Tensor],
    dy: &Tensor,
    needs: &[bool],
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    use BinaryOp::*;
    let (a, b, y) = (saved.first().unwrap_or(dy), saved.get(1).unwrap_or(dy), saved.get(2).unwrap_or(dy));
    let (na, nb) = (needs[0], needs[1]);
    let when = |need: bool, f: &dyn Fn() -> Result<Tensor>| if need { f().map(Some) } else { Ok(None) };
    Ok(match op {
        Add => (when(na, &|| Ok(dy.clone()))?, when(nb, &|| Ok(dy.clone()))?),
        Sub => (when(na, &|| Ok(dy.clone()))?, when(nb, &|| Ok(dy.neg()?))?),
        Mul => (when(na, &|| Ok(dy.mul(b)?))?, when(nb, &|| Ok(dy.mul(a)?))?),
        // d/da a/b = 1/b; d/db a/b = -a/b^2 = -y/b
        Div => (when(na, &|| Ok(dy.div(b)?))?, when(nb, &|| Ok(dy.mul(y)?.div(b)?.neg()?))?),
        // d/da a^b = b a^(b-1); d/db a^b = a^b ln a (taken as 0 where a <= 0, as PyTorch at a = 0)
        Pow => (
            when(na, &|| Ok(a.pow(&b.add_scalar(-1.0)?)?.mul(b)?.mul(dy)?))?,
            when(nb, &|| {
                let zero = Tensor::zeros(dy.device(), &[], dy.dtype())?;
                let ln = a.gt_scalar(0.0)?.where_(&a.log()?, &zero)?;
                Ok(y.mul(&ln)?.mul(dy)?)
            })?,
        ),
        // The larger operand takes the gradient; ties split it in half.
        Maximum | Minimum => {
            let wins = if op == Maximum { a.gt(b)? } else { a.lt(b)? };
            let share = wins.add(&a.eq(b)?.mul_scalar(0.5)?)?;
            (when(na, &|| Ok(share.mul(dy)?))?, when(nb, &|| Ok(share.rsub_scalar(1.0)?.mul(dy)?))?)
        }
        Prelu => (
            when(na, &|| Ok(Tensor::ternary(TernaryOp::PreluGradX, a, b, dy)?))?,
            when(nb, &|| Ok(Tensor::ternary(TernaryOp::PreluGradSlope, a, b, dy)?))?,
        ),
        Eq | Ne | Lt | Le | Gt | Ge => (when(na, &|| zeros_like(a))?, when(nb, &|| zeros_like(b))?),
    })
}
