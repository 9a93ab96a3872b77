//! A layer's settings read back from its architecture JSON (what [`Layer::config`] wrote), so
//! `load_model` can rebuild it without the code that made it. Every reader names the layer and
//! the field, so a hand-edited or foreign file fails with an error saying what is wrong where.

use serde::de::DeserializeOwned;
use serde_json::Value;
use wgtrain_tensor::Device;

use super::{Activation, WeightRules};
use crate::error::{Result, TrainError};

/// One layer's entry of an architecture: its type, its name and its settings.
pub struct LayerConfig<'a> {
    kind: &'a str,
    name: &'a str,
    config: &'a Value,
    device: &'a Device,
}

impl<'a> LayerConfig<'a> {
    /// The entry of layer `name` of type `kind` (`"Dense"`), with settings `config`; layers
    /// that hold a network of their own rebuild it on `device`.
    pub fn new(kind: &'a str, name: &'a str, config: &'a Value, device: &'a Device) -> Self {
        LayerConfig { kind, name, config, device }
    }
    /// The layer's type.
    pub fn kind(&self) -> &str {
        self.kind
    }
    /// The layer's name.
    pub fn name(&self) -> &str {
        self.name
    }
    /// The settings, whole.
    pub fn value(&self) -> &Value {
        self.config
    }
    /// The device a layer holding a network rebuilds it on.
    pub fn device(&self) -> &Device {
        self.device
    }
    /// An error about this layer's entry.
    pub fn error(&self, why: impl Into<String>) -> TrainError {
        TrainError::config(format!("load_model: layer {:?} ({})", self.name, self.kind), why)
    }
    /// Field `key`, as any type serde reads (a number, a bool, a list, a regularizer...).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T> {
        let v = self.config.get(key).ok_or_else(|| self.error(format!("field {key:?} is missing")))?;
        serde_json::from_value(v.clone()).map_err(|e| self.error(format!("field {key:?} is {v}: {e}")))
    }
    /// Field `key`, or `default` when the entry has none (a file from before the field).
    pub fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> Result<T> {
        match self.config.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(_) => self.get(key),
        }
    }
    /// Field `key`, an activation by its Keras name (`relu`, `leaky_relu(0.2)`).
    pub fn activation(&self, key: &str) -> Result<Activation> {
        let name: String = self.get(key)?;
        Activation::from_name(&name)
            .ok_or_else(|| self.error(format!("field {key:?}: no activation is called {name:?}")))
    }
    /// The regularizers and constraints of a layer with a kernel and a bias (absent: none).
    pub fn weight_rules(&self) -> Result<WeightRules> {
        Ok(WeightRules {
            kernel_regularizer: self.get_or("kernel_regularizer", None)?,
            bias_regularizer: self.get_or("bias_regularizer", None)?,
            activity_regularizer: self.get_or("activity_regularizer", None)?,
            kernel_constraint: self.get_or("kernel_constraint", None)?,
            bias_constraint: self.get_or("bias_constraint", None)?,
        })
    }
}

impl WeightRules {
    /// The rules set, as fields of a layer's config (none set: nothing added).
    pub(crate) fn write_config(&self, config: &mut Value) {
        let Some(map) = config.as_object_mut() else { return };
        let mut put = |key: &str, v: Option<Value>| {
            if let Some(v) = v {
                map.insert(key.to_string(), v);
            }
        };
        let json = |v: Option<_>| v.and_then(|r| serde_json::to_value(r).ok());
        put("kernel_regularizer", json(self.kernel_regularizer.map(Rule::R)));
        put("bias_regularizer", json(self.bias_regularizer.map(Rule::R)));
        put("activity_regularizer", json(self.activity_regularizer.map(Rule::R)));
        put("kernel_constraint", json(self.kernel_constraint.map(Rule::C)));
        put("bias_constraint", json(self.bias_constraint.map(Rule::C)));
    }
}

/// A regularizer or a constraint, written as itself.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Rule {
    R(crate::regularizers::Regularizer),
    C(crate::constraints::Constraint),
}

/// `config` with the rules' fields added: `json!({...})` of a layer plus its `WeightRules`.
pub(crate) fn with_rules(mut config: Value, rules: &WeightRules) -> Value {
    rules.write_config(&mut config);
    config
}
