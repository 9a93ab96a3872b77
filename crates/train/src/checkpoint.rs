//! Checkpoints: weights in `safetensors` (names from the layer tree), the architecture and the
//! training state in JSON. Every file is written atomically (a temporary file, synced, then
//! renamed over the old one), so a crash mid-save never leaves a torn checkpoint; loading
//! validates names, shapes and dtypes and says exactly what does not match.
//!
//! A full checkpoint (`Model::save`) is a folder: `weights.safetensors` (parameters and
//! buffers), `optimizer.safetensors` (optimizer state tensors) and `training.json`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde_json::json;
use wgtrain_tensor::Tensor;

use crate::error::{Result, TrainError};
use crate::models::Model;
use crate::optim::OptimizerState;

const FORMAT: &str = "wgtrain-checkpoint-1";

/// What a non-strict `load_weights` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// Names of the tensors loaded.
    pub loaded: Vec<String>,
    /// In the file but not in the model, or of another shape (with why).
    pub skipped: Vec<String>,
    /// In the model but not in the file (left as they were).
    pub missing: Vec<String>,
}

fn io(path: &Path, e: std::io::Error) -> TrainError {
    TrainError::Io { file: path.display().to_string(), source: e }
}

fn bad(path: &Path, why: impl Into<String>) -> TrainError {
    TrainError::Checkpoint { file: path.display().to_string(), why: why.into() }
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

/// Serializes named f32 tensors (read back from the device).
fn encode(tensors: &[(String, Tensor)], path: &Path) -> Result<Vec<u8>> {
    let mut host: BTreeMap<&str, (Vec<usize>, Vec<u8>)> = BTreeMap::new();
    for (name, t) in tensors {
        let values = t.to_vec::<f32>()?;
        if host.insert(name, (t.shape().to_vec(), bytemuck_bytes(&values))).is_some() {
            return Err(bad(path, format!("two tensors are named {name:?}")));
        }
    }
    let views = host
        .iter()
        .map(|(name, (shape, bytes))| {
            Ok((*name, TensorView::new(Dtype::F32, shape.clone(), bytes).map_err(|e| bad(path, e.to_string()))?))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, None).map_err(|e| bad(path, e.to_string()))
}

fn bytemuck_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Named host tensors: `name -> (shape, values)`.
type HostTensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads a safetensors file into `name -> (shape, values)`, f32 only.
fn decode(path: &Path) -> Result<HostTensors> {
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(path, format!("not a readable safetensors file (truncated or corrupt?): {e}")))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(bad(path, format!("tensor {name:?} has dtype {:?}, expected F32", view.dtype())));
        }
        let values = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        out.insert(name, (view.shape().to_vec(), values));
    }
    Ok(out)
}

impl Model {
    /// Parameters and buffers by name.
    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut t: Vec<(String, Tensor)> =
            self.net.params().into_iter().map(|p| (p.name, p.var.data().clone())).collect();
        t.extend(self.net.buffers());
        t
    }

    /// Saves parameters and buffers to a safetensors file.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        write_atomic(path, &encode(&self.named_tensors(), path)?)
    }

    /// Loads weights saved by `save_weights` (or `save`'s `weights.safetensors`). `strict`: the
    /// names must match exactly and every shape agree, else an error lists every difference and
    /// nothing is changed. Not strict: loads what matches by name and shape and reports the rest
    /// (transfer learning into a model with a new head).
    pub fn load_weights(&mut self, path: impl AsRef<Path>, strict: bool) -> Result<LoadReport> {
        let path = path.as_ref();
        let file = decode(path)?;
        let model = self.named_tensors();
        let mut report = LoadReport::default();
        let mut problems = Vec::new();
        let mut plan = Vec::new();
        for (name, t) in &model {
            match file.get(name) {
                None => report.missing.push(name.clone()),
                Some((shape, _)) if shape.as_slice() != t.shape() => {
                    let why = format!("{name}: shape {shape:?} in the file, {:?} in the model", t.shape());
                    problems.push(why.clone());
                    report.skipped.push(why);
                }
                Some((shape, values)) => plan.push((t.clone(), shape.clone(), values, name.clone())),
            }
        }
        let known: Vec<&String> = model.iter().map(|(n, _)| n).collect();
        let mut unexpected: Vec<&String> = file.keys().filter(|k| !known.contains(k)).collect();
        unexpected.sort();
        report.skipped.extend(unexpected.iter().map(|n| format!("{n}: not in the model")));
        if strict && (!problems.is_empty() || !report.missing.is_empty() || !unexpected.is_empty()) {
            let mut why = problems;
            why.extend(report.missing.iter().map(|n| format!("{n}: in the model, missing from the file")));
            why.extend(unexpected.iter().map(|n| format!("{n}: in the file, not in the model")));
            return Err(bad(path, format!("weights do not match the model:\n  {}", why.join("\n  "))));
        }
        for (t, shape, values, name) in plan {
            t.assign(&Tensor::from_slice(t.device(), values, &shape)?)?;
            report.loaded.push(name);
        }
        Ok(report)
    }

    /// Saves a full checkpoint into folder `dir`: weights, optimizer state and training state
    /// (epochs done, step, seed, learning rate), enough to resume `fit` exactly. Restore it with
    /// [`load`](Self::load) into a model built the same way (same layers, so the same names)
    /// and compiled with the same kind of optimizer.
    ///
    /// ```no_run
    /// use wgtrain::prelude::*;
    /// # fn main() -> wgtrain::Result<()> {
    /// let dev = Device::new()?;
    /// let build = || -> wgtrain::Result<Model> {
    ///     let net = Sequential::new(&dev, &[4]).add(Dense::new(8).relu())?.add(Dense::new(3))?;
    ///     let mut model = Model::new(net);
    ///     model.compile(Adam::new(1e-3), SparseCategoricalCrossEntropy::from_logits(), vec![]);
    ///     Ok(model)
    /// };
    /// let mut model = build()?;
    /// let x = Tensor::rand_uniform(&dev, &[64, 4], -1.0, 1.0, 1)?;
    /// let y = Tensor::from_slice(&dev, &[0u32, 1, 2, 0].repeat(16), &[64])?;
    /// model.fit(&x, &y, FitOptions { epochs: 2, verbose: false, ..Default::default() })?;
    /// model.save("runs/ckpt")?;
    ///
    /// let mut restored = build()?;
    /// restored.load("runs/ckpt")?; // weights, Adam's moments, step and epoch count
    /// assert_eq!(restored.epochs_done(), 2);
    /// // Weights only, e.g. into a model with a new head: load what matches by name and shape.
    /// model.save_weights("runs/weights.safetensors")?;
    /// let report = restored.load_weights("runs/weights.safetensors", false)?;
    /// println!("loaded {:?}, skipped {:?}", report.loaded, report.skipped);
    /// # Ok(()) }
    /// ```
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        self.save_weights(dir.join("weights.safetensors"))?;
        let optimizer = match &self.compiled {
            Some(c) => {
                let state = c.optimizer.state();
                let file = dir.join("optimizer.safetensors");
                write_atomic(&file, &encode(&state.tensors, &file)?)?;
                let param_steps: serde_json::Map<String, serde_json::Value> =
                    state.param_steps.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                json!({ "kind": state.kind, "step": state.step, "hyper": state.hyper,
                        "lr": c.optimizer.learning_rate(), "param_steps": param_steps })
            }
            None => serde_json::Value::Null,
        };
        let meta = json!({
            "format": FORMAT,
            "architecture": self.net.config(),
            "epochs_done": self.epochs_done,
            "global_step": self.global_step,
            "seed": self.seed,
            "optimizer": optimizer,
        });
        let text = serde_json::to_vec_pretty(&meta).map_err(|e| bad(dir, e.to_string()))?;
        // Written last: a folder with training.json is a complete checkpoint.
        write_atomic(&dir.join("training.json"), &text)
    }

    /// Loads a checkpoint written by `save` (strictly), restoring the optimizer state when the
    /// model is compiled with the same kind of optimizer.
    pub fn load(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let meta_path = dir.join("training.json");
        let text = std::fs::read(&meta_path).map_err(|e| io(&meta_path, e))?;
        let meta: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| bad(&meta_path, format!("not valid JSON: {e}")))?;
        if meta["format"] != FORMAT {
            return Err(bad(&meta_path, format!("field \"format\" is {}, expected {FORMAT:?}", meta["format"])));
        }
        let field = |name: &str| {
            meta[name].as_u64().ok_or_else(|| bad(&meta_path, format!("field {name:?} is missing or not an integer")))
        };
        let (epochs_done, global_step, seed) = (field("epochs_done")?, field("global_step")?, field("seed")?);
        self.load_weights(dir.join("weights.safetensors"), true)?;
        let opt = &meta["optimizer"];
        let dev = self.device().clone();
        if let (Some(c), false) = (self.compiled.as_mut(), opt.is_null()) {
            let file = dir.join("optimizer.safetensors");
            let tensors = decode(&file)?
                .into_iter()
                .map(|(name, (shape, values))| Ok((name, Tensor::from_slice(&dev, &values, &shape)?)))
                .collect::<Result<Vec<_>>>()?;
            let state = OptimizerState {
                kind: opt["kind"].as_str().unwrap_or_default().to_string(),
                step: opt["step"].as_u64().unwrap_or(0),
                hyper: opt["hyper"].clone(),
                tensors,
                // Absent in checkpoints written before per-parameter counts: every one at `step`.
                param_steps: opt["param_steps"]
                    .as_object()
                    .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_u64()?))).collect())
                    .unwrap_or_default(),
            };
            c.optimizer.load_state(&state)?;
            if let Some(lr) = opt["lr"].as_f64() {
                c.optimizer.set_learning_rate(lr as f32);
            }
        }
        (self.epochs_done, self.global_step, self.seed) = (epochs_done as usize, global_step, seed);
        Ok(())
    }
}
