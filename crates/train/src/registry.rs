//! What `load_model` can rebuild from a checkpoint's JSON: every built-in layer, loss and
//! metric, plus those of your own registered here by name (Keras' `register_keras_serializable`).
//!
//! A layer of your own writes its settings in [`Layer::config`] and registers a constructor
//! that reads them back:
//!
//! ```no_run
//! use wgtrain::layers::{Layer, LayerConfig};
//! # fn my_layer(scale: f32) -> Box<dyn Layer> { unimplemented!() }
//! wgtrain::registry::register_layer("Scale", |c: &LayerConfig<'_>| Ok(my_layer(c.get("scale")?)))?;
//! # Ok::<(), wgtrain::TrainError>(())
//! ```
//!
//! Registrations are process-wide and must happen before `load_model`. A built-in layer's name
//! can't be taken; a loss or metric registered under a built-in's class name replaces it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::Value;
use wgtrain_tensor::Device;

use crate::error::{Result, TrainError};
use crate::layers::{self, Layer, LayerConfig};
use crate::losses::Loss;
use crate::metrics::Metric;

/// Builds a layer of one type from its entry in an architecture.
pub type LayerFactory = Arc<dyn Fn(&LayerConfig<'_>) -> Result<Box<dyn Layer>> + Send + Sync>;
/// Builds a `T` (a loss, a metric) from its settings (`config()["config"]`).
pub type Factory<T> = Arc<dyn Fn(&Value) -> Result<Box<T>> + Send + Sync>;
/// Builds a loss from its settings (`Loss::config()["config"]`).
pub type LossFactory = Factory<dyn Loss>;
/// Builds a metric from its settings (`Metric::config()["config"]`).
pub type MetricFactory = Factory<dyn Metric>;

#[derive(Default)]
struct Registry {
    layers: HashMap<String, LayerFactory>,
    losses: HashMap<String, LossFactory>,
    metrics: HashMap<String, MetricFactory>,
}

fn registry() -> &'static RwLock<Registry> {
    static R: OnceLock<RwLock<Registry>> = OnceLock::new();
    R.get_or_init(RwLock::default)
}

/// Registers the constructor of layers whose `kind()` is `kind`; `load_model` calls it with
/// the layer's entry ([`LayerConfig`]: what its `config()` wrote) and names the layer itself.
pub fn register_layer(
    kind: &str,
    factory: impl Fn(&LayerConfig<'_>) -> Result<Box<dyn Layer>> + Send + Sync + 'static,
) -> Result<()> {
    if built_in_layer(kind).is_some() {
        return Err(taken("register_layer", kind));
    }
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    r.layers.insert(kind.to_string(), Arc::new(factory));
    Ok(())
}

/// Registers the constructor of losses whose `config()` names class `class_name` (it takes
/// precedence over a built-in loss of that class name).
pub fn register_loss(
    class_name: &str,
    factory: impl Fn(&Value) -> Result<Box<dyn Loss>> + Send + Sync + 'static,
) -> Result<()> {
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    r.losses.insert(class_name.to_string(), Arc::new(factory));
    Ok(())
}

/// Registers the constructor of metrics whose `config()` names class `class_name` (it takes
/// precedence over a built-in metric of that class name).
pub fn register_metric(
    class_name: &str,
    factory: impl Fn(&Value) -> Result<Box<dyn Metric>> + Send + Sync + 'static,
) -> Result<()> {
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    r.metrics.insert(class_name.to_string(), Arc::new(factory));
    Ok(())
}

fn taken(what: &str, kind: &str) -> TrainError {
    TrainError::config(what, format!("{kind:?} is a built-in layer's name: register yours under another"))
}

type BuiltIn = fn(&LayerConfig<'_>) -> Result<Box<dyn Layer>>;

/// `L::from_config`, boxed.
fn boxed<L: Layer + 'static>(layer: Result<L>) -> Result<Box<dyn Layer>> {
    Ok(Box::new(layer?))
}

/// Every built-in layer type, by the `kind()` its architecture entry records.
const BUILT_IN_LAYERS: &[(&str, BuiltIn)] = &[
    ("Activation", |c| boxed(layers::ActivationLayer::from_config(c))),
    ("PReLU", |c| boxed(layers::PRelu::from_config(c))),
    ("MultiHeadAttention", |c| boxed(layers::MultiHeadAttention::from_config(c))),
    ("Bidirectional", |c| boxed(layers::Bidirectional::from_config(c))),
    ("Conv1D", |c| boxed(layers::Conv1d::from_config(c))),
    ("Conv2D", |c| boxed(layers::Conv2d::from_config(c))),
    ("DepthwiseConv2D", |c| boxed(layers::DepthwiseConv2d::from_config(c))),
    ("Conv2DTranspose", |c| boxed(layers::ConvTranspose2d::from_config(c))),
    ("Dense", |c| boxed(layers::Dense::from_config(c))),
    ("Dropout", |c| boxed(layers::Dropout::from_config(c))),
    ("Embedding", |c| boxed(layers::Embedding::from_config(c))),
    ("Masking", |c| boxed(layers::Masking::from_config(c))),
    ("Normalization", |c| boxed(layers::Normalization::from_config(c))),
    ("BatchNormalization", |c| boxed(layers::BatchNorm::from_config(c))),
    ("LayerNormalization", |c| boxed(layers::LayerNorm::from_config(c))),
    ("MaxPooling2D", |c| boxed(layers::MaxPool2d::from_config(c))),
    ("AveragePooling2D", |c| boxed(layers::AvgPool2d::from_config(c))),
    ("GlobalAveragePooling2D", |c| boxed(layers::GlobalAvgPool2d::from_config(c))),
    ("GlobalMaxPooling2D", |c| boxed(layers::GlobalMaxPool2d::from_config(c))),
    ("GlobalMaxPooling1D", |c| boxed(layers::GlobalMaxPool1d::from_config(c))),
    ("SimpleRNN", |c| boxed(layers::Recurrent::from_config(c))),
    ("LSTM", |c| boxed(layers::Recurrent::from_config(c))),
    ("GRU", |c| boxed(layers::Recurrent::from_config(c))),
    ("Flatten", |c| boxed(layers::Flatten::from_config(c))),
    ("Reshape", |c| boxed(layers::Reshape::from_config(c))),
    // A model used as a layer: its network is rebuilt from its own architecture.
    ("Sequential", |c| boxed(crate::models::Nested::from_config(c))),
    ("Functional", |c| boxed(crate::models::Nested::from_config(c))),
];

/// The type (`kind()`) of every built-in layer `load_model` rebuilds.
pub fn built_in_layers() -> Vec<&'static str> {
    BUILT_IN_LAYERS.iter().map(|(k, _)| *k).collect()
}

fn built_in_layer(kind: &str) -> Option<BuiltIn> {
    BUILT_IN_LAYERS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

/// The layer an architecture entry describes, named as it records.
pub(crate) fn layer_from_entry(entry: &Value, device: &Device) -> Result<Box<dyn Layer>> {
    let field = |key: &str| {
        entry[key]
            .as_str()
            .ok_or_else(|| TrainError::config("load_model", format!("a layer entry has no {key:?} string: {entry}")))
    };
    let (kind, name) = (field("class_name")?, field("name")?);
    let config = LayerConfig::new(kind, name, &entry["config"], device);
    let mut layer = match built_in_layer(kind) {
        Some(f) => f(&config)?,
        None => {
            let factory = registry().read().unwrap_or_else(|e| e.into_inner()).layers.get(kind).cloned();
            let Some(factory) = factory else {
                let why = format!(
                    "layer {name:?} is of type {kind:?}, which is neither built in nor registered: register its constructor before loading, with wgtrain::registry::register_layer({kind:?}, |c| ...)"
                );
                return Err(TrainError::config("load_model", why));
            };
            factory(&config)?
        }
    };
    layer.set_name(name.to_string());
    Ok(layer)
}

/// The loss a compile entry describes (`{"class_name", "config"}`).
pub(crate) fn loss_from_entry(entry: &Value, device: &Device) -> Result<Box<dyn Loss>> {
    let registered = |class: &str| registry().read().unwrap_or_else(|e| e.into_inner()).losses.get(class).cloned();
    let built_in = |class: &str, config: &Value| crate::losses::loss_from_config(class, config, device);
    from_entry(("loss", "register_loss"), entry, registered, built_in)
}

/// The metric a compile entry describes (`{"class_name", "config"}`).
pub(crate) fn metric_from_entry(entry: &Value, device: &Device) -> Result<Box<dyn Metric>> {
    let registered = |class: &str| registry().read().unwrap_or_else(|e| e.into_inner()).metrics.get(class).cloned();
    let built_in = |class: &str, config: &Value| crate::metrics::metric_from_config(class, config, device);
    from_entry(("metric", "register_metric"), entry, registered, built_in)
}

/// What a compile entry describes: by a registered constructor, else a built-in's.
fn from_entry<T: ?Sized>(
    (what, register): (&str, &str),
    entry: &Value,
    registered: impl Fn(&str) -> Option<Factory<T>>,
    built_in: impl Fn(&str, &Value) -> Option<Result<Box<T>>>,
) -> Result<Box<T>> {
    let (class, config) = class_and_config(what, entry)?;
    match (registered(class), built_in(class, config)) {
        (Some(f), _) => f(config),
        (None, Some(built)) => built,
        (None, None) => Err(unknown(what, class, register)),
    }
}

fn class_and_config<'a>(what: &str, entry: &'a Value) -> Result<(&'a str, &'a Value)> {
    match entry["class_name"].as_str() {
        Some(class) => Ok((class, &entry["config"])),
        None => Err(TrainError::config(
            "load_model",
            format!("a {what} of the compile settings has no class name ({entry}): it was not saved"),
        )),
    }
}

fn unknown(what: &str, class: &str, register: &str) -> TrainError {
    let why = format!(
        "the {what} {class:?} is neither built in nor registered: register its constructor before loading, with wgtrain::registry::{register}({class:?}, |config| ...), or use load_model_uncompiled"
    );
    TrainError::config("load_model", why)
}
