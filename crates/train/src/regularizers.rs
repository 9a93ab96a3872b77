//! Weight and activity regularizers, as Keras': a penalty added to the loss (and logged in it).
//! `L1(l)` is `l sum|w|`, `L2(l)` is `l sum w^2` (no 1/2), `L1L2` both. A layer takes them as
//! `kernel_regularizer`, `bias_regularizer` (penalties of its trainable weights, once a step
//! however often it is called) and `activity_regularizer` (of its output, the whole batch's:
//! Keras 3 no longer divides it by the batch size as tf.keras 2 did).

use wgtrain_autograd::Var;

use crate::error::{Result, TrainError};

/// A penalty on a tensor's values.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Regularizer {
    /// `l1 sum|w|`: drives weights to exactly zero.
    L1(f32),
    /// `l2 sum w^2`: weight decay through the loss.
    L2(f32),
    /// Both.
    L1L2 {
        /// The L1 factor.
        l1: f32,
        /// The L2 factor.
        l2: f32,
    },
}

impl Regularizer {
    /// The (l1, l2) factors.
    fn factors(self) -> (f32, f32) {
        match self {
            Regularizer::L1(l1) => (l1, 0.0),
            Regularizer::L2(l2) => (0.0, l2),
            Regularizer::L1L2 { l1, l2 } => (l1, l2),
        }
    }

    /// Checks the factors (finite, >= 0), naming `layer`.
    pub fn check(self, layer: &str) -> Result<()> {
        let (l1, l2) = self.factors();
        if [l1, l2].iter().all(|f| f.is_finite() && *f >= 0.0) {
            return Ok(());
        }
        Err(TrainError::config(layer, format!("regularizer {self:?}: factors must be finite and >= 0")))
    }

    /// The penalty of `w`, a scalar in f32 whatever `w`'s dtype.
    pub fn penalty(self, w: &Var) -> Result<Var> {
        let w = if w.dtype() == wgtrain_tensor::DType::F32 { w.clone() } else { w.cast(wgtrain_tensor::DType::F32)? };
        let (l1, l2) = self.factors();
        let mut total: Option<Var> = None;
        if l1 > 0.0 {
            total = Some(w.abs()?.sum_all()?.mul_scalar(l1)?);
        }
        if l2 > 0.0 {
            let p = w.square()?.sum_all()?.mul_scalar(l2)?;
            total = Some(match total {
                Some(t) => t.add(&p)?,
                None => p,
            });
        }
        match total {
            Some(t) => Ok(t),
            None => Ok(w.sum_all()?.mul_scalar(0.0)?),
        }
    }
}
