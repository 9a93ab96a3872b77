//! Range checks of optimizer hyper-parameters. A NaN learning rate (or beta, or eps) turns
//! every parameter into NaN at the first update, and a negative one climbs the loss; both
//! would train on silently, so they are refused with an error naming the optimizer, the
//! hyper-parameter and the value. The builders return `Self` (chaining stays infallible):
//! `set_learning_rate` checks at once, and `step` (so `fit` before its first batch) checks
//! everything before it updates anything.

use super::GradClip;
use crate::error::{Result, TrainError};

fn refuse(optimizer: &str, name: &str, expected: &str, value: f32) -> TrainError {
    TrainError::Hyperparameter { optimizer: optimizer.into(), name: name.into(), expected: expected.into(), value }
}

/// A finite value >= 0 (learning rates, weight decay, momentum, initial accumulators).
pub(crate) fn non_negative(optimizer: &str, name: &str, v: f32) -> Result<()> {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(refuse(optimizer, name, "a finite number >= 0", v)) }
}

/// A finite value > 0 (eps, clipping bounds).
pub(crate) fn positive(optimizer: &str, name: &str, v: f32) -> Result<()> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(refuse(optimizer, name, "a finite number > 0", v)) }
}

/// A decay rate in [0, 1) (Adam's betas).
pub(crate) fn decay(optimizer: &str, name: &str, v: f32) -> Result<()> {
    if (0.0..1.0).contains(&v) { Ok(()) } else { Err(refuse(optimizer, name, "in [0, 1)", v)) }
}

/// A fraction in [0, 1] (RMSprop's alpha, SGD's dampening).
pub(crate) fn fraction(optimizer: &str, name: &str, v: f32) -> Result<()> {
    if (0.0..=1.0).contains(&v) { Ok(()) } else { Err(refuse(optimizer, name, "in [0, 1]", v)) }
}

/// The learning rate.
pub(crate) fn learning_rate(optimizer: &str, lr: f32) -> Result<()> {
    non_negative(optimizer, "learning rate", lr)
}

/// A gradient clipping bound.
pub(crate) fn clip(optimizer: &str, c: GradClip) -> Result<()> {
    match c {
        GradClip::None => Ok(()),
        GradClip::Value(v) => positive(optimizer, "clip value", v),
        GradClip::Norm(v) => positive(optimizer, "clip norm", v),
        GradClip::GlobalNorm(v) => positive(optimizer, "global clip norm", v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_optimizer_the_parameter_and_the_value() {
        let e = learning_rate("Adam", f32::NAN).unwrap_err().to_string();
        assert_eq!(e, "Adam: learning rate must be a finite number >= 0, got NaN");
        assert!(learning_rate("SGD", -0.1).unwrap_err().to_string().contains("got -0.1"));
        assert!(learning_rate("SGD", f32::INFINITY).is_err());
        assert!(learning_rate("SGD", 0.0).is_ok());
        assert!(decay("Adam", "beta2", 1.0).unwrap_err().to_string().contains("beta2 must be in [0, 1), got 1"));
        assert!(positive("Adam", "eps", 0.0).is_err());
        assert!(clip("SGD", GradClip::Value(-1.0)).is_err() && clip("SGD", GradClip::Norm(1.0)).is_ok());
    }
}
