//! An optimizer rebuilt from the kind and hyper-parameters its checkpoint state records
//! (`Optimizer::state`), for `load_model`. Its slots (moments, momenta) are then loaded by
//! `Model::load` as for any compiled model.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Adagrad, Adam, AdamW, GradClip, Optimizer, Rmsprop, Sgd};
use crate::error::{Result, TrainError};

/// The optimizer of `kind` (`"Adam"`, `"SGD"`, ...) with the hyper-parameters `hyper`.
/// Fields a file from before them lacks take the constructor's default.
pub(crate) fn optimizer_from_config(kind: &str, hyper: &Value) -> Result<Box<dyn Optimizer>> {
    let h = Hyper { kind, hyper };
    let lr = h.get("lr")?;
    let clip = h.or("clip", GradClip::None)?;
    Ok(match kind {
        "SGD" => Box::new(
            Sgd::new(lr)
                .momentum(h.or("momentum", 0.0)?)
                .dampening(h.or("dampening", 0.0)?)
                .nesterov(h.or("nesterov", false)?)
                .weight_decay(h.or("weight_decay", 0.0)?)
                .clip(clip),
        ),
        "Adam" | "AdamW" => {
            let base = if kind == "AdamW" { AdamW::new(lr, 0.0) } else { Adam::new(lr) };
            Box::new(
                base.betas(h.or("beta1", 0.9)?, h.or("beta2", 0.999)?)
                    .eps(h.or("eps", 1e-7)?)
                    .weight_decay(h.or("weight_decay", 0.0)?)
                    .clip(clip),
            )
        }
        "RMSprop" => Box::new(
            Rmsprop::new(lr)
                .alpha(h.or("alpha", 0.99)?)
                .eps(h.or("eps", 1e-8)?)
                .momentum(h.or("momentum", 0.0)?)
                .centered(h.or("centered", false)?)
                .weight_decay(h.or("weight_decay", 0.0)?)
                .clip(clip),
        ),
        "Adagrad" => Box::new(
            Adagrad::new(lr)
                .initial_accumulator(h.or("initial", 0.0)?)
                .eps(h.or("eps", 1e-10)?)
                .weight_decay(h.or("weight_decay", 0.0)?)
                .clip(clip),
        ),
        _ => {
            let why = format!(
                "the checkpoint's optimizer is {kind:?}, not one of wgtrain's (SGD, Adam, AdamW, RMSprop, Adagrad): load the model with load_model_uncompiled and compile it with your optimizer"
            );
            return Err(TrainError::config("load_model", why));
        }
    })
}

/// An optimizer's recorded hyper-parameters, read with errors naming the field.
struct Hyper<'a> {
    kind: &'a str,
    hyper: &'a Value,
}

impl Hyper<'_> {
    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T> {
        let v = self.hyper.get(key).cloned().unwrap_or(Value::Null);
        serde_json::from_value(v.clone()).map_err(|e| {
            TrainError::config("load_model", format!("optimizer {}: hyper-parameter {key:?} is {v}: {e}", self.kind))
        })
    }
    fn or<T: DeserializeOwned>(&self, key: &str, default: T) -> Result<T> {
        match self.hyper.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(_) => self.get(key),
        }
    }
}
