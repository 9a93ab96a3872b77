//! A checkpoint read from disk and checked field by field, entirely on the host: `Model::load`
//! decodes and validates everything here before it changes anything in the model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::codec::{self, HostTensors};
use super::files::{self, MANIFEST, bad, io};
use crate::error::Result;

/// The format a `save` writes: generation-named data files committed by the manifest.
pub(crate) const FORMAT: &str = "wgtrain-checkpoint-2";
/// The first format (fixed file names, no checksums): still loaded.
const FORMAT_1: &str = "wgtrain-checkpoint-1";

/// The optimizer part of a checkpoint.
pub(crate) struct SavedOptimizer {
    pub kind: String,
    pub step: u64,
    pub hyper: Value,
    pub lr: Option<f32>,
    pub param_steps: Vec<(String, u64)>,
    pub tensors: HostTensors,
}

/// One callback's saved state: its kind, values, and tensors.
pub(crate) struct SavedCallback {
    pub kind: String,
    pub values: Value,
    pub tensors: HostTensors,
}

/// A whole checkpoint, decoded.
pub(crate) struct Snapshot {
    pub manifest: PathBuf,
    pub weights: HostTensors,
    pub weights_file: PathBuf,
    pub optimizer: Option<SavedOptimizer>,
    /// By the callback's position in `fit`'s list.
    pub callbacks: BTreeMap<usize, SavedCallback>,
    pub epochs_done: u64,
    pub global_step: u64,
    pub seed: u64,
    /// The network's architecture (`Network::config`), for `load_model`.
    pub architecture: Value,
    /// The compile settings (losses, loss weights, metrics), `Null` if not compiled or
    /// written before they were recorded.
    pub compile: Value,
    /// The mixed-precision policy's name, if recorded.
    pub policy: Option<String>,
    /// The parameters frozen when it was saved (none if not recorded).
    pub frozen: Vec<String>,
}

/// Typed access to the manifest's fields: a field of the wrong type is an error naming it,
/// never a silent default.
struct Fields<'a> {
    file: &'a Path,
}

impl Fields<'_> {
    fn wrong(&self, name: &str, v: &Value, expected: &str) -> crate::error::TrainError {
        let got = if v.is_null() { "missing".to_string() } else { format!("{v}") };
        bad(self.file, format!("field {name:?} is {got}, expected {expected}"))
    }
    fn u64(&self, v: &Value, name: &str) -> Result<u64> {
        v.as_u64().ok_or_else(|| self.wrong(name, v, "an unsigned integer"))
    }
    fn str<'v>(&self, v: &'v Value, name: &str) -> Result<&'v str> {
        v.as_str().ok_or_else(|| self.wrong(name, v, "a string"))
    }
    /// A finite, non-negative learning rate, or absent.
    fn lr(&self, v: &Value, name: &str) -> Result<Option<f32>> {
        match v {
            Value::Null => Ok(None),
            v => match v.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x as f32)),
                _ => Err(self.wrong(name, v, "a finite, non-negative number")),
            },
        }
    }
    fn object<'v>(&self, v: &'v Value, name: &str) -> Result<&'v serde_json::Map<String, Value>> {
        v.as_object().ok_or_else(|| self.wrong(name, v, "an object"))
    }
}

impl Snapshot {
    /// Reads the checkpoint in `dir`: the manifest, then every data file it names (checking
    /// sizes and checksums), decoded.
    pub(crate) fn read(dir: &Path) -> Result<Snapshot> {
        let manifest = dir.join(MANIFEST);
        let text = std::fs::read(&manifest).map_err(|e| io(&manifest, e))?;
        let meta: Value = serde_json::from_slice(&text).map_err(|e| bad(&manifest, format!("not valid JSON: {e}")))?;
        let f = Fields { file: &manifest };
        let format = &meta["format"];
        let data = |role: &str| -> Result<Option<(PathBuf, HostTensors)>> {
            if format == FORMAT_1 {
                // Fixed names; the optimizer file exists only with an optimizer.
                let path = dir.join(format!("{role}.safetensors"));
                let wanted = role == "weights" || (role == "optimizer" && !meta["optimizer"].is_null());
                return Ok(if wanted { Some((path.clone(), codec::read_file(&path)?)) } else { None });
            }
            let entry = &meta["files"][role];
            if entry.is_null() {
                return Ok(None);
            }
            let bytes = files::read_data(dir, &manifest, entry, role)?;
            let path = dir.join(entry["name"].as_str().unwrap_or_default());
            Ok(Some((path.clone(), codec::decode(&bytes, &path)?)))
        };
        if format != FORMAT && format != FORMAT_1 {
            if let Some(v) = newer_format(format) {
                let why = format!(
                    "written by a newer wgtrain (format {v}); this one reads formats 1 and 2 ({FORMAT:?}): upgrade wgtrain to load it"
                );
                return Err(bad(&manifest, why));
            }
            return Err(f.wrong("format", format, &format!("{FORMAT:?} (or {FORMAT_1:?})")));
        }
        let epochs_done = f.u64(&meta["epochs_done"], "epochs_done")?;
        let global_step = f.u64(&meta["global_step"], "global_step")?;
        let seed = f.u64(&meta["seed"], "seed")?;
        let Some((weights_file, weights)) = data("weights")? else {
            return Err(f.wrong("files.weights", &Value::Null, "the weights file's entry"));
        };
        let optimizer = match &meta["optimizer"] {
            Value::Null => None,
            o => Some(Self::optimizer(&f, o, data("optimizer")?.map(|d| d.1))?),
        };
        let callbacks = match &meta["callbacks"] {
            Value::Null => BTreeMap::new(),
            c => Self::callbacks(&f, c, data("callbacks")?.map(|d| d.1).unwrap_or_default())?,
        };
        let policy = match &meta["policy"] {
            Value::Null => None,
            p => Some(f.str(p, "policy")?.to_string()),
        };
        let frozen = match &meta["frozen"] {
            Value::Null => Vec::new(),
            Value::Array(names) => names.iter().map(|n| Ok(f.str(n, "frozen")?.to_string())).collect::<Result<_>>()?,
            other => return Err(f.wrong("frozen", other, "a list of parameter names")),
        };
        Ok(Snapshot {
            manifest,
            weights,
            weights_file,
            optimizer,
            callbacks,
            epochs_done,
            global_step,
            seed,
            architecture: meta["architecture"].clone(),
            compile: meta["compile"].clone(),
            policy,
            frozen,
        })
    }

    fn optimizer(f: &Fields, o: &Value, tensors: Option<HostTensors>) -> Result<SavedOptimizer> {
        f.object(o, "optimizer")?;
        let Some(tensors) = tensors else {
            return Err(f.wrong("files.optimizer", &Value::Null, "the optimizer file's entry"));
        };
        let param_steps = match &o["param_steps"] {
            // Absent in checkpoints written before per-parameter counts: every one at `step`.
            Value::Null => Vec::new(),
            v => f
                .object(v, "optimizer.param_steps")?
                .iter()
                .map(|(k, v)| Ok((k.clone(), f.u64(v, &format!("optimizer.param_steps.{k}"))?)))
                .collect::<Result<_>>()?,
        };
        Ok(SavedOptimizer {
            kind: f.str(&o["kind"], "optimizer.kind")?.to_string(),
            step: f.u64(&o["step"], "optimizer.step")?,
            hyper: o["hyper"].clone(),
            lr: f.lr(&o["lr"], "optimizer.lr")?,
            param_steps,
            tensors,
        })
    }

    /// Callback states, keyed by position; their tensors are named `<position>/<name>`.
    fn callbacks(f: &Fields, c: &Value, mut tensors: HostTensors) -> Result<BTreeMap<usize, SavedCallback>> {
        let mut out = BTreeMap::new();
        for (key, state) in f.object(c, "callbacks")? {
            let name = format!("callbacks.{key}");
            let index: usize = key.parse().map_err(|_| f.wrong(&name, &Value::String(key.clone()), "a position"))?;
            let kind = f.str(&state["kind"], &format!("{name}.kind"))?.to_string();
            let prefix = format!("{key}/");
            let own: Vec<String> = tensors.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
            let mut mine = HostTensors::new();
            for k in own {
                if let Some(t) = tensors.remove(&k) {
                    mine.insert(k[prefix.len()..].to_string(), t);
                }
            }
            out.insert(index, SavedCallback { kind, values: state["values"].clone(), tensors: mine });
        }
        Ok(out)
    }
}

/// The version of a `wgtrain-checkpoint-N` format newer than this build's, if `format` is one.
fn newer_format(format: &Value) -> Option<u64> {
    let n: u64 = format.as_str()?.strip_prefix("wgtrain-checkpoint-")?.parse().ok()?;
    (n > 2).then_some(n)
}
