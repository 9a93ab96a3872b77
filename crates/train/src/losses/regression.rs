//! Regression and margin losses: MSE, MAE, Huber, KL divergence, hinge.

use serde_json::{Value, json};
use wgtrain_autograd::Var;
use wgtrain_tensor::Tensor;

use super::{EPS, Loss, class_config, reduce, same_shape};
use crate::error::Result;

macro_rules! elementwise_loss {
    ($(#[$doc:meta])* $t:ident, $name:literal, $class:literal, |$p:ident, $y:ident, $s:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $t;
        impl Loss for $t {
            fn name(&self) -> &str {
                $name
            }
            fn forward(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>) -> Result<Var> {
                same_shape($name, pred, target)?;
                let ($p, $y, $s) = (pred, Var::constant(target.clone()), self);
                let _ = $s;
                reduce($name, $body, w)
            }
            fn config(&self) -> Value {
                class_config($class, json!({}))
            }
        }
    };
}

elementwise_loss!(
    /// `(pred - target)^2`.
    MeanSquaredError, "mean_squared_error", "MeanSquaredError", |p, y, s| p.sub(&y)?.square()?
);
elementwise_loss!(
    /// `|pred - target|`.
    MeanAbsoluteError, "mean_absolute_error", "MeanAbsoluteError", |p, y, s| p.sub(&y)?.abs()?
);
elementwise_loss!(
    /// `sum(t log(t / p))` over the last axis, both clamped to [1e-7, 1] (Keras).
    KlDivergence, "kl_divergence", "KLDivergence", |p, y, s| {
        let t = y.clamp(EPS, 1.0)?;
        let q = p.clamp(EPS, 1.0)?;
        t.mul(&t.log()?.sub(&q.log()?)?)?.sum(&[-1], true)?
    }
);
elementwise_loss!(
    /// `max(1 - t pred, 0)` with targets in {-1, 1}; targets in {0, 1} are read as {-1, 1}
    /// (Keras).
    Hinge, "hinge", "Hinge", |p, y, s| {
        // 0 -> -1, keeping -1 and 1.
        let t = y.sub(&y.eq_scalar(0.0)?)?;
        t.mul(p)?.rsub_scalar(1.0)?.relu()?
    }
);

/// `0.5 d^2` where `|d| <= delta`, else `delta (|d| - 0.5 delta)`, d = pred - target: squared
/// near the target, linear far away, so outliers pull less than with MSE.
#[derive(Debug, Clone, Copy)]
pub struct Huber {
    /// Threshold between the quadratic and the linear regime (> 0).
    pub delta: f32,
}

impl Huber {
    /// Keras' default delta is 1.
    pub fn new(delta: f32) -> Self {
        Huber { delta }
    }
}

impl Loss for Huber {
    fn name(&self) -> &str {
        "huber"
    }
    fn forward(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>) -> Result<Var> {
        same_shape("huber", pred, target)?;
        let a = pred.sub(&Var::constant(target.clone()))?.abs()?;
        // With q = min(|d|, delta): 0.5 q^2 + delta (|d| - q) is both branches at once.
        let q = a.minimum_scalar(self.delta)?;
        let l = q.square()?.mul_scalar(0.5)?.add(&a.sub(&q)?.mul_scalar(self.delta)?)?;
        reduce("huber", l, w)
    }
    fn config(&self) -> Value {
        class_config("Huber", json!({ "delta": self.delta }))
    }
}
