//! Losses read back from the compile settings `load_model` finds in a checkpoint (what
//! [`Loss::config`] wrote), and the reader of such settings that metrics share: each field is
//! checked, so a hand-edited or foreign file fails with an error naming the class and the field
//! rather than training with another loss than the one saved.

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wgtrain_tensor::{Device, Tensor};

use super::{
    BinaryCrossEntropy, CategoricalCrossEntropy, FocalLoss, Hinge, Huber, KlDivergence, Loss, MeanAbsoluteError,
    MeanSquaredError, SparseCategoricalCrossEntropy,
};
use crate::error::{Result, TrainError};

/// A loss's or a metric's saved form: `{"class_name": ..., "config": {...}}`.
pub(crate) fn class_config(class_name: &str, config: Value) -> Value {
    json!({ "class_name": class_name, "config": config })
}

/// The settings of one saved loss or metric, read field by field. It remembers the fields read,
/// so [`finish`](Self::finish) can refuse one nobody asked for (a typo would otherwise fall
/// back to a default without a word).
pub(crate) struct Settings<'a> {
    /// `"loss"` or `"metric"`, for errors.
    what: &'static str,
    class_name: &'a str,
    config: &'a Value,
    read: RefCell<Vec<&'a str>>,
}

impl<'a> Settings<'a> {
    /// The settings `config` of the `what` (`"loss"`, `"metric"`) of class `class_name`.
    pub(crate) fn new(what: &'static str, class_name: &'a str, config: &'a Value) -> Self {
        Settings { what, class_name, config, read: RefCell::new(Vec::new()) }
    }
    /// An error about these settings.
    pub(crate) fn error(&self, why: impl Into<String>) -> TrainError {
        TrainError::config("load_model", format!("{} {:?}: {}", self.what, self.class_name, why.into()))
    }
    /// Field `key`, which must be there.
    pub(crate) fn get<T: DeserializeOwned>(&self, key: &'static str) -> Result<T> {
        let v = self.field(key).ok_or_else(|| self.error(format!("field {key:?} is missing")))?;
        self.parse(key, v)
    }
    /// Field `key`, or `default` when it is absent or null (the constructor's default, as Keras
    /// reads a config without it).
    pub(crate) fn get_or<T: DeserializeOwned>(&self, key: &'static str, default: T) -> Result<T> {
        self.field(key).map_or(Ok(default), |v| self.parse(key, v))
    }
    /// `built`, once the settings are known to be an object (or null: none) holding only the
    /// fields read.
    pub(crate) fn finish<T>(&self, built: T) -> Result<T> {
        match self.config {
            Value::Null => Ok(built),
            Value::Object(map) => {
                let read = self.read.borrow();
                match map.keys().find(|k| !read.contains(&k.as_str())) {
                    Some(k) => Err(self.error(format!("unknown field {k:?}"))),
                    None => Ok(built),
                }
            }
            other => Err(self.error(format!("the settings must be an object, got {other}"))),
        }
    }
    /// Field `key` unless absent or null, noted as read.
    fn field(&self, key: &'static str) -> Option<&'a Value> {
        self.read.borrow_mut().push(key);
        self.config.get(key).filter(|v| !v.is_null())
    }
    fn parse<T: DeserializeOwned>(&self, key: &str, v: &Value) -> Result<T> {
        serde_json::from_value(v.clone()).map_err(|e| self.error(format!("field {key:?} is {v}: {e}")))
    }
}

/// The built-in loss of class `class_name` with settings `config` (what its [`Loss::config`]
/// wrote); class weights go to `device`. `None` when no built-in has that class name (a loss
/// of your own, to look up among the registered ones); an error when a field is wrong.
pub(crate) fn loss_from_config(class_name: &str, config: &Value, device: &Device) -> Option<Result<Box<dyn Loss>>> {
    built_in(class_name, config, device).transpose()
}

/// Every built-in loss, by the class name its `config` writes. Absent fields take the
/// constructors' defaults.
fn built_in(class_name: &str, config: &Value, device: &Device) -> Result<Option<Box<dyn Loss>>> {
    let s = Settings::new("loss", class_name, config);
    let loss: Box<dyn Loss> = match class_name {
        "BinaryCrossentropy" => Box::new(BinaryCrossEntropy {
            from_logits: s.get_or("from_logits", false)?,
            pos_weight: s.get_or("pos_weight", None)?,
        }),
        "BinaryFocalCrossentropy" => Box::new(FocalLoss {
            gamma: s.get_or("gamma", FocalLoss::new().gamma)?,
            alpha: s.get_or("alpha", None)?,
            from_logits: s.get_or("from_logits", false)?,
        }),
        "CategoricalCrossentropy" => Box::new(CategoricalCrossEntropy {
            from_logits: s.get_or("from_logits", false)?,
            label_smoothing: s.get_or("label_smoothing", 0.0)?,
            class_weights: s.get_or("class_weights", None)?,
        }),
        "SparseCategoricalCrossentropy" => {
            let weights: Option<Vec<f32>> = s.get_or("class_weights", None)?;
            Box::new(SparseCategoricalCrossEntropy {
                from_logits: s.get_or("from_logits", false)?,
                label_smoothing: s.get_or("label_smoothing", 0.0)?,
                class_weights: weights.map(|w| Tensor::from_slice(device, &w, &[w.len()])).transpose()?,
                ignore_index: s.get_or("ignore_index", None)?,
            })
        }
        "Huber" => Box::new(Huber::new(s.get_or("delta", 1.0)?)),
        "Hinge" => Box::new(Hinge),
        "KLDivergence" => Box::new(KlDivergence),
        "MeanAbsoluteError" => Box::new(MeanAbsoluteError),
        "MeanSquaredError" => Box::new(MeanSquaredError),
        _ => return Ok(None),
    };
    s.finish(loss).map(Some)
}
