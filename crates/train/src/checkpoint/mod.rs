//! Checkpoints: weights in `safetensors` (names from the layer tree), the architecture and the
//! training state in JSON, saved and loaded all-or-nothing.
//!
//! A full checkpoint (`Model::save`) is a folder whose `training.json` (the manifest) names
//! one generation of data files: `weights-N.safetensors` (parameters and buffers),
//! `optimizer-N.safetensors` (optimizer state tensors) and, within `fit`,
//! `callbacks-N.safetensors` (tensors of callbacks with state), each with its size and CRC-32C.
//! `files` says how a save commits atomically; `snapshot` how a load decodes and checks
//! everything before it changes the model.

mod codec;
mod files;
mod snapshot;

use std::path::Path;

use serde_json::json;
use wgtrain_tensor::Tensor;

use crate::callbacks::CallbackState;
use crate::error::Result;
use crate::models::Model;
use crate::optim::OptimizerState;
use codec::HostTensors;
pub(crate) use files::remove_checkpoint;
use files::{bad, write_atomic};
use snapshot::FORMAT;
pub(crate) use snapshot::SavedCallback;
pub(crate) use snapshot::Snapshot;

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

/// Weights matched to the model, not yet assigned: `(target, shape, values, name)`.
type WeightPlan<'a> = Vec<(Tensor, &'a [usize], &'a [f32], String)>;

impl Model {
    /// Parameters and buffers by name.
    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut t: Vec<(String, Tensor)> =
            self.net.params().into_iter().map(|p| (p.name, p.var.data().clone())).collect();
        t.extend(self.net.buffers());
        t
    }

    /// Saves parameters and buffers to a safetensors file, atomically (a synced temporary file
    /// renamed over the old one). In a distributed run only rank 0 writes (the replicas are
    /// identical); on the others it does nothing.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        if !self.is_chief() {
            return Ok(());
        }
        let path = path.as_ref();
        let host = codec::to_host(&self.named_tensors(), path)?;
        write_atomic(path, &codec::encode(&host, path)?)
    }

    /// Loads weights saved by `save_weights`, or those of a checkpoint folder written by `save`
    /// (when `path` is a folder). `strict`: the names must match exactly and every shape agree,
    /// else an error lists every difference and nothing is changed. Not strict: loads what
    /// matches by name and shape and reports the rest (transfer learning into a model with a
    /// new head).
    pub fn load_weights(&mut self, path: impl AsRef<Path>, strict: bool) -> Result<LoadReport> {
        let path = path.as_ref();
        let (file, path) = if path.is_dir() {
            let snap = Snapshot::read(path)?;
            (snap.weights, snap.weights_file)
        } else {
            (codec::read_file(path)?, path.to_path_buf())
        };
        let model = self.named_tensors();
        let (plan, report) = plan_weights(&model, &file, strict, &path)?;
        assign_weights(plan)?;
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
    ///     model.compile(Adam::new(1e-3), SparseCategoricalCrossEntropy::from_logits(), vec![])?;
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
        // In a distributed run only rank 0 writes (the replicas are identical).
        if !self.is_chief() {
            return Ok(());
        }
        let dir = dir.as_ref();
        // Everything is read back and encoded before the first byte is written.
        let weights = codec::encode(&codec::to_host(&self.named_tensors(), dir)?, dir)?;
        let mut data = vec![("weights", weights)];
        let optimizer = match &self.compiled {
            Some(c) => {
                let state = c.optimizer.state();
                data.push(("optimizer", codec::encode(&codec::to_host(&state.tensors, dir)?, dir)?));
                let param_steps: serde_json::Map<String, serde_json::Value> =
                    state.param_steps.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                json!({ "kind": state.kind, "step": state.step, "hyper": state.hyper,
                        "lr": c.optimizer.learning_rate(), "param_steps": param_steps })
            }
            None => serde_json::Value::Null,
        };
        let callbacks = self.encode_callback_states(dir, &mut data)?;
        let meta = json!({
            "format": FORMAT,
            "architecture": self.net.config(),
            "epochs_done": self.epochs_done,
            "global_step": self.global_step,
            "seed": self.seed,
            "optimizer": optimizer,
            "callbacks": callbacks,
            "compile": self.compile_config(),
            "policy": self.policy.name(),
            "frozen": self.net.params().iter().filter(|p| !p.var.requires_grad()).map(|p| p.name.clone()).collect::<Vec<_>>(),
        });
        files::commit(dir, &data, meta)
    }

    /// The states of `fit`'s callbacks (set only while `fit` commits an epoch) as manifest
    /// JSON, their tensors appended to `data` as the `callbacks` file.
    fn encode_callback_states(&self, dir: &Path, data: &mut Vec<(&str, Vec<u8>)>) -> Result<serde_json::Value> {
        if self.callback_states.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        let mut json = serde_json::Map::new();
        let mut tensors = Vec::new();
        for (index, state) in &self.callback_states {
            json.insert(index.to_string(), json!({ "kind": state.kind, "values": state.values }));
            tensors.extend(state.tensors.iter().map(|(n, t)| (format!("{index}/{n}"), t.clone())));
        }
        if !tensors.is_empty() {
            data.push(("callbacks", codec::encode(&codec::to_host(&tensors, dir)?, dir)?));
        }
        Ok(serde_json::Value::Object(json))
    }

    /// Loads a checkpoint written by `save`, all-or-nothing: the manifest, every file it names
    /// (sizes and checksums checked) and the optimizer state are decoded and checked against
    /// this model first (strict weight names and shapes, the optimizer's kind and its state's
    /// names and shapes), and only then assigned; a failure leaves the model as it was. The
    /// optimizer state is restored when the model is compiled (it must then be the same kind of
    /// optimizer) and ignored otherwise.
    pub fn load(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        self.load_snapshot(Snapshot::read(dir.as_ref())?)
    }

    /// `load` of a checkpoint already read.
    pub(crate) fn load_snapshot(&mut self, snap: Snapshot) -> Result<()> {
        let model = self.named_tensors();
        let (plan, _) = plan_weights(&model, &snap.weights, true, &snap.weights_file)?;
        let optimizer = match (&snap.optimizer, &self.compiled) {
            (Some(saved), Some(c)) => Some(self.check_optimizer_state(saved, c.optimizer.state().kind, &snap)?),
            _ => None,
        };
        // Checked: from here on only device uploads, which fail only with the device.
        if let (Some((state, lr)), Some(c)) = (optimizer, self.compiled.as_mut()) {
            c.optimizer.load_state(&state)?;
            if let Some(lr) = lr {
                // Read as finite and >= 0; refused only if it overflowed f32.
                c.optimizer.set_learning_rate(lr)?;
            }
        }
        assign_weights(plan)?;
        self.epochs_done = snap.epochs_done as usize;
        (self.global_step, self.seed) = (snap.global_step, snap.seed);
        self.restored_callbacks = Some(snap.callbacks);
        Ok(())
    }

    /// The saved optimizer state on the device, checked against the model's optimizer (`kind`)
    /// and parameters (`<param>/<slot>` names a parameter of the same shape).
    fn check_optimizer_state(
        &self,
        saved: &snapshot::SavedOptimizer,
        kind: String,
        snap: &Snapshot,
    ) -> Result<(OptimizerState, Option<f32>)> {
        if saved.kind != kind {
            let why = format!("the checkpoint's optimizer is {}, this model's is {kind}", saved.kind);
            return Err(bad(&snap.manifest, why));
        }
        let params: std::collections::HashMap<String, Vec<usize>> =
            self.net.params().into_iter().map(|p| (p.name, p.var.shape().to_vec())).collect();
        let mut problems = Vec::new();
        for (name, (shape, _)) in &saved.tensors {
            let owner = name.rsplit_once('/').map(|(p, _)| p).unwrap_or(name);
            match params.get(owner) {
                None => problems.push(format!("{name}: no parameter {owner:?} in the model")),
                Some(s) if s != shape => problems.push(format!("{name}: shape {shape:?}, the parameter's {s:?}")),
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            problems.sort();
            let why = format!("optimizer state does not match the model:\n  {}", problems.join("\n  "));
            return Err(bad(&snap.manifest, why));
        }
        let dev = self.device();
        let tensors = saved
            .tensors
            .iter()
            .map(|(name, (shape, values))| Ok((name.clone(), Tensor::from_slice(dev, values, shape)?)))
            .collect::<Result<Vec<_>>>()?;
        let state = OptimizerState {
            kind: saved.kind.clone(),
            step: saved.step,
            hyper: saved.hyper.clone(),
            tensors,
            param_steps: saved.param_steps.clone(),
        };
        Ok((state, saved.lr))
    }

    /// Restores the callback states the last `load` read into `fit`'s callbacks (by position,
    /// and only into a callback of the same kind); returns how many were restored.
    pub(crate) fn restore_callback_states(
        &mut self,
        callbacks: &mut [Box<dyn crate::callbacks::Callback>],
    ) -> Result<usize> {
        let Some(saved) = self.restored_callbacks.take() else { return Ok(0) };
        let mut restored = 0;
        for (index, s) in saved {
            let Some(cb) = callbacks.get_mut(index) else {
                eprintln!(
                    "warning: the checkpoint has the state of a {} at position {index} of the callbacks; \
                           this fit has no callback there, so it is not restored",
                    s.kind
                );
                continue;
            };
            let state = CallbackState::from_saved(self.device(), s)?;
            if cb.load_state(&state)? {
                restored += 1;
            } else {
                eprintln!(
                    "warning: the checkpoint's state of a {} (callback {index}) does not fit this fit's callback \
                     there; it starts afresh",
                    state.kind
                );
            }
        }
        Ok(restored)
    }
}

/// Matches the file's tensors to the model's by name and shape. Strict: any difference is an
/// error listing them all. Changes nothing.
fn plan_weights<'a>(
    model: &[(String, Tensor)],
    file: &'a HostTensors,
    strict: bool,
    path: &Path,
) -> Result<(WeightPlan<'a>, LoadReport)> {
    let mut report = LoadReport::default();
    let mut problems = Vec::new();
    let mut plan = Vec::new();
    for (name, t) in model {
        match file.get(name) {
            None => report.missing.push(name.clone()),
            Some((shape, _)) if shape.as_slice() != t.shape() => {
                let why = format!("{name}: shape {shape:?} in the file, {:?} in the model", t.shape());
                problems.push(why.clone());
                report.skipped.push(why);
            }
            Some((shape, values)) => plan.push((t.clone(), shape.as_slice(), values.as_slice(), name.clone())),
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
    report.loaded = plan.iter().map(|p| p.3.clone()).collect();
    Ok((plan, report))
}

fn assign_weights(plan: WeightPlan<'_>) -> Result<()> {
    for (t, shape, values, _) in plan {
        t.assign(&Tensor::from_slice(t.device(), values, shape)?)?;
    }
    Ok(())
}

impl CallbackState {
    /// A saved state with its tensors uploaded to `dev`.
    fn from_saved(dev: &wgtrain_tensor::Device, s: SavedCallback) -> Result<CallbackState> {
        let mut tensors = s
            .tensors
            .into_iter()
            .map(|(name, (shape, values))| Ok((name, Tensor::from_slice(dev, &values, &shape)?)))
            .collect::<Result<Vec<_>>>()?;
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(CallbackState { kind: s.kind, values: s.values, tensors })
    }
}
