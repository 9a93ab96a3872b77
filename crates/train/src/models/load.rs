//! `load_model`: a model rebuilt from a checkpoint folder alone, without the code that built
//! it (Keras' `keras.models.load_model`). `Model::save` records the architecture, the compile
//! settings (each output's loss, loss weight and metrics, the optimizer's kind and
//! hyper-parameters) and the mixed-precision policy beside the weights; this module reads them
//! back through the layer, loss and metric constructors of [`crate::registry`].

use std::path::Path;

use serde_json::{Value, json};
use wgtrain_tensor::Device;

use super::outputs::{self, OutputLoss};
use super::{Functional, Merge, Model, Network, Sequential};
use crate::checkpoint::Snapshot;
use crate::error::{Result, TrainError};
use crate::policy::Policy;
use crate::registry::{layer_from_entry, loss_from_entry, metric_from_entry};

/// The model saved in `dir` by [`Model::save`], on `device`: its network rebuilt from the
/// architecture (every built-in layer; layers of your own registered with
/// [`register_layer`](crate::registry::register_layer)), its weights, and compiled as it was
/// (the optimizer with its state and learning rate, each output's loss, loss weight and
/// metrics, the policy), with its step, epoch count and seed: ready to `fit` on, `evaluate` or
/// `predict`. Loaded all-or-nothing; an error names what could not be rebuilt.
///
/// ```no_run
/// # use wgtrain::prelude::*;
/// # fn main() -> wgtrain::Result<()> {
/// let dev = Device::new()?;
/// let mut model = wgtrain::models::load_model("runs/ckpt", &dev)?;
/// println!("{}", model.summary());
/// # Ok(()) }
/// ```
pub fn load_model(dir: impl AsRef<Path>, device: &Device) -> Result<Model> {
    let snap = Snapshot::read(dir.as_ref())?;
    if snap.compile.is_null() {
        let why = "the checkpoint has no compile settings (the model was saved uncompiled, or by a wgtrain before they were recorded): use load_model_uncompiled and compile it";
        return Err(TrainError::config("load_model", why));
    }
    let mut model = rebuild(&snap, device)?;
    let compile = &snap.compile;
    let Some(optimizer) = &snap.optimizer else {
        return Err(TrainError::config("load_model", "the checkpoint has compile settings but no optimizer"));
    };
    let mut optimizer = crate::optim::optimizer_from_config(&optimizer.kind, &optimizer.hyper)?;
    if snap.optimizer.as_ref().is_some_and(|o| o.hyper.get("loss_scale").is_some()) && !model.policy.is_mixed() {
        // A loss scale chosen by hand (under float32): it comes back with its state.
        let scale = wgtrain_tensor::LossScale::new(device)?;
        optimizer = Box::new(crate::optim::LossScaleOptimizer::from_parts(optimizer, scale));
    }
    let Some(saved) = compile["outputs"].as_array() else {
        return Err(TrainError::config("load_model", format!("compile settings without outputs: {compile}")));
    };
    let specs = saved.iter().map(|o| output_loss(o, device)).collect::<Result<Vec<_>>>()?;
    let heads = outputs::heads(&model.net.output_names(), specs)
        .map_err(|e| bad(format!("the compile settings do not fit the network: {e}")))?;
    model.set_compiled(optimizer, heads)?;
    let frozen = snap.frozen.clone();
    model.load_snapshot(snap)?;
    refreeze(&model, &frozen)?;
    Ok(model)
}

/// Freezes the parameters that were frozen when the model was saved (Keras keeps
/// `trainable = False` through `load_model`).
fn refreeze(model: &Model, frozen: &[String]) -> Result<()> {
    for p in model.params().iter().filter(|p| frozen.contains(&p.name)) {
        p.var.set_requires_grad(false)?;
    }
    Ok(())
}

/// The model saved in `dir`, rebuilt with its weights, counters and policy but not compiled
/// (Keras' `load_model(compile=False)`): for inference, or to compile it anew.
pub fn load_model_uncompiled(dir: impl AsRef<Path>, device: &Device) -> Result<Model> {
    let snap = Snapshot::read(dir.as_ref())?;
    let mut model = rebuild(&snap, device)?;
    let frozen = snap.frozen.clone();
    model.load_snapshot(snap)?;
    refreeze(&model, &frozen)?;
    Ok(model)
}

/// The network and policy of a checkpoint, weights not yet loaded.
fn rebuild(snap: &Snapshot, device: &Device) -> Result<Model> {
    let net = network_from_config(&snap.architecture, device)?;
    let mut model = Model::from_network(net);
    match snap.policy.as_deref() {
        None | Some("float32") => {}
        // The weights are f32 masters: an adapter without f16 runs the model in f32.
        Some("mixed_float16") if !device.has_f16() => eprintln!(
            "load_model: the model was saved under mixed_float16, which {} cannot run (no SHADER_F16): loaded under float32",
            device.adapter()
        ),
        Some("mixed_float16") => model.set_policy(Policy::mixed_float16())?,
        Some(other) => {
            let why = format!("the checkpoint's policy is {other:?}; this wgtrain knows float32 and mixed_float16");
            return Err(TrainError::config("load_model", why));
        }
    }
    Ok(model)
}

/// One output's compile entry as `compile_outputs` takes it.
fn output_loss(entry: &Value, device: &Device) -> Result<OutputLoss> {
    let name = entry["output"].as_str().unwrap_or("output");
    if entry["loss"].is_null() {
        let why = format!(
            "the loss of output {name:?} was not saved: a loss of your own writes its settings in Loss::config and is registered with register_loss; or use load_model_uncompiled"
        );
        return Err(TrainError::config("load_model", why));
    }
    let weight = match &entry["weight"] {
        Value::Null => 1.0,
        w => w.as_f64().ok_or_else(|| bad(format!("the loss weight of output {name:?} is {w}, not a number")))? as f32,
    };
    let mut spec = OutputLoss::from_boxed(loss_from_entry(&entry["loss"], device)?).weight(weight);
    for m in entry["metrics"].as_array().map(Vec::as_slice).unwrap_or_default() {
        if m.is_null() {
            let why = format!(
                "a metric of output {name:?} was not saved: a metric of your own writes its settings in Metric::config and is registered with register_metric; or use load_model_uncompiled"
            );
            return Err(TrainError::config("load_model", why));
        }
        spec = spec.metrics(vec![metric_from_entry(m, device)?]);
    }
    Ok(spec)
}

impl Model {
    /// The compile settings as `save` records them: per output, in order, its name, loss,
    /// loss weight and metrics (`Null` before `compile`).
    pub(crate) fn compile_config(&self) -> Value {
        let Some(c) = &self.compiled else { return Value::Null };
        let names = self.net.output_names();
        let outputs: Vec<Value> = c
            .heads
            .iter()
            .zip(names)
            .map(|(h, name)| {
                json!({ "output": name, "loss": h.loss.config(), "weight": h.weight,
                        "metrics": h.metrics.iter().map(|m| m.config()).collect::<Vec<_>>() })
            })
            .collect();
        json!({ "outputs": outputs })
    }
}

/// The network an architecture describes (`Network::config` of a `Sequential` or a
/// `Functional`), its layers built, weights freshly initialized.
pub(crate) fn network_from_config(arch: &Value, device: &Device) -> Result<Box<dyn Network>> {
    match arch["class_name"].as_str() {
        Some("Sequential") => Ok(Box::new(sequential(arch, device)?)),
        Some("Functional") => Ok(Box::new(functional(arch, device)?)),
        other => Err(TrainError::config(
            "load_model",
            format!("the architecture is of class {other:?}; load_model rebuilds Sequential and Functional networks"),
        )),
    }
}

fn bad(why: impl Into<String>) -> TrainError {
    TrainError::config("load_model", why)
}

fn shape(v: &Value, what: &str) -> Result<Vec<usize>> {
    serde_json::from_value(v.clone()).map_err(|e| bad(format!("{what} is {v}, not a shape: {e}")))
}

fn entries<'a>(v: &'a Value, what: &str) -> Result<&'a [Value]> {
    v.as_array().map(Vec::as_slice).ok_or_else(|| bad(format!("the architecture's {what} is {v}, not a list")))
}

fn sequential(arch: &Value, device: &Device) -> Result<Sequential> {
    let mut net = Sequential::new(device, &shape(&arch["input_shape"], "input_shape")?);
    for entry in entries(&arch["layers"], "layers")? {
        net.push(layer_from_entry(entry, device)?)?;
    }
    Ok(net)
}

fn functional(arch: &Value, device: &Device) -> Result<Functional> {
    let mut g = Functional::new(device);
    let mut layers = std::collections::HashMap::new();
    for entry in entries(&arch["layers"], "layers")? {
        let layer = layer_from_entry(entry, device)?;
        let name = layer.name().to_string();
        layers.insert(name, g.layer_boxed(layer));
    }
    let mut syms = Vec::new();
    let sym = |syms: &Vec<_>, v: &Value| -> Result<super::Sym> {
        v.as_u64()
            .and_then(|i| syms.get(i as usize).copied())
            .ok_or_else(|| bad(format!("node {v} is not an earlier node")))
    };
    let list = |syms: &Vec<_>, v: &Value| -> Result<Vec<super::Sym>> {
        entries(v, "merge inputs")?.iter().map(|s| sym(syms, s)).collect()
    };
    for node in entries(&arch["nodes"], "nodes")? {
        let s = if node.get("input").is_some() {
            let name = node["name"].as_str().unwrap_or("input");
            g.input(name, &shape(&node["shape"], "an input's shape")?)
        } else if let Some(layer) = node.get("call") {
            let name = layer.as_str().unwrap_or_default();
            let l = *layers.get(name).ok_or_else(|| bad(format!("a node calls layer {layer}, which is not listed")))?;
            match node.get("and") {
                Some(second) => g.call_pair(l, sym(&syms, &node["on"])?, sym(&syms, second)?)?,
                None => g.call(l, sym(&syms, &node["on"])?)?,
            }
        } else if let Some(parts) = node.get("concatenate") {
            let axis = node["axis"].as_i64().ok_or_else(|| bad(format!("a concatenation without an axis: {node}")))?;
            // Recorded as the batched axis; `concatenate` takes the per-sample one.
            g.concatenate(&list(&syms, parts)?, axis as isize - 1)?
        } else {
            let merge = Merge::ALL.iter().find(|m| node.get(m.name().to_lowercase()).is_some());
            let Some(&merge) = merge else { return Err(bad(format!("a node of no known kind: {node}"))) };
            g.merge(merge, &list(&syms, &node[merge.name().to_lowercase()])?)?
        };
        syms.push(s);
    }
    let outs = entries(&arch["outputs"], "outputs")?.iter().map(|s| sym(&syms, s)).collect::<Result<Vec<_>>>()?;
    g.set_outputs(&outs)?;
    Ok(g)
}
