//! Weight constraints, as Keras': projections applied to a weight after every optimizer update,
//! on the device (tensor ops, no read-back). Norms are per unit: over every axis of the weight
//! but the unit's (a Dense kernel's column, a convolution's filter, an embedding's row).

use wgtrain_tensor::Tensor;

use crate::error::{Result, TrainError};

/// Keras' epsilon in the norm constraints' division.
const EPS: f32 = 1e-7;

/// A projection of a weight after each update.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Constraint {
    /// Each unit's norm at most `max` (Keras' `MaxNorm`): `w * clip(n, 0, max) / (eps + n)`.
    MaxNorm(f32),
    /// Every value >= 0 (`NonNeg`).
    NonNeg,
    /// Each unit's norm 1 (`UnitNorm`): `w / (eps + n)`.
    UnitNorm,
}

impl Constraint {
    /// Checks the constraint's value, naming `layer`.
    pub fn check(self, layer: &str) -> Result<()> {
        match self {
            Constraint::MaxNorm(m) if !(m.is_finite() && m > 0.0) => {
                Err(TrainError::config(layer, format!("MaxNorm({m}): the bound must be finite and > 0")))
            }
            _ => Ok(()),
        }
    }

    /// Projects `w` in place; `axes` are those a unit's norm runs over.
    pub fn apply(self, w: &Tensor, axes: &[isize]) -> Result<()> {
        let projected = match self {
            Constraint::NonNeg => w.maximum_scalar(0.0)?,
            Constraint::MaxNorm(max) => {
                let n = w.square()?.sum(axes, true)?.sqrt()?;
                w.mul(&n.clamp(0.0, max)?.div(&n.add_scalar(EPS)?)?)?
            }
            Constraint::UnitNorm => {
                let n = w.square()?.sum(axes, true)?.sqrt()?;
                w.div(&n.add_scalar(EPS)?)?
            }
        };
        w.assign(&projected)?;
        Ok(())
    }
}
