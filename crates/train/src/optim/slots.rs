//! Per-parameter optimizer state ("slots"), created on first use and keyed by parameter name.

use std::collections::BTreeMap;

use wgtrain_tensor::Tensor;

use super::OptimizerState;
use crate::error::{Result, TrainError};
use crate::param::Param;

/// Named state tensors of each parameter, and how many updates each parameter has had.
#[derive(Default)]
pub(crate) struct Slots {
    map: BTreeMap<String, Vec<Tensor>>,
    steps: BTreeMap<String, u64>,
}

impl Slots {
    /// The state tensors of `p` (one per name in `names`), created filled with `init` on the
    /// first call; an error if a restored one has another shape.
    pub(crate) fn of(&mut self, p: &Param, names: &[&str], init: f32) -> Result<&[Tensor]> {
        if !self.map.contains_key(&p.name) {
            let t = names
                .iter()
                .map(|_| Tensor::full(p.var.device(), p.var.shape(), init))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            self.map.insert(p.name.clone(), t);
        }
        let slots = &self.map[&p.name];
        for (t, n) in slots.iter().zip(names) {
            if t.shape() != p.var.shape() {
                let why = format!("state {}/{n} has shape {:?}, the parameter {:?}", p.name, t.shape(), p.var.shape());
                return Err(TrainError::config("optimizer", why));
            }
        }
        Ok(slots)
    }

    /// Counts one more update of `p` and returns its count (1 on its first). Adam's bias
    /// corrections and SGD's first momentum step go by this count, as PyTorch keeps `step` per
    /// parameter: a parameter that starts updating late (unfrozen for fine-tuning) starts its
    /// own count, instead of taking the optimizer's and an undercorrected first step.
    pub(crate) fn tick(&mut self, p: &Param) -> u64 {
        let t = self.steps.entry(p.name.clone()).or_insert(0);
        *t += 1;
        *t
    }

    /// Every parameter's update count.
    pub(crate) fn steps(&self) -> Vec<(String, u64)> {
        self.steps.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// `(<param>/<slot>, tensor)` for every slot.
    pub(crate) fn export(&self, names: &[&str]) -> Vec<(String, Tensor)> {
        self.map
            .iter()
            .flat_map(|(p, ts)| ts.iter().zip(names).map(move |(t, n)| (format!("{p}/{n}"), t.clone())))
            .collect()
    }

    /// Replaces every slot from `state` (created by `export` with the same `names`).
    pub(crate) fn import(&mut self, kind: &str, names: &[&str], state: &OptimizerState) -> Result<()> {
        if state.kind != kind {
            return Err(TrainError::config(
                "optimizer state",
                format!("state of a {} optimizer given to {kind}", state.kind),
            ));
        }
        let mut map: BTreeMap<String, Vec<Option<Tensor>>> = BTreeMap::new();
        for (name, t) in &state.tensors {
            let slot = names.iter().position(|n| name.ends_with(&format!("/{n}")));
            let Some(k) = slot else {
                let why = format!("tensor {name:?} is not one of {kind}'s slots {names:?}");
                return Err(TrainError::config("optimizer state", why));
            };
            let param = &name[..name.len() - names[k].len() - 1];
            map.entry(param.to_string()).or_insert_with(|| vec![None; names.len()])[k] = Some(t.copy()?);
        }
        let mut out = BTreeMap::new();
        for (param, ts) in map {
            let full: Option<Vec<Tensor>> = ts.into_iter().collect();
            let Some(full) = full else {
                return Err(TrainError::config(
                    "optimizer state",
                    format!("{param}: some of the slots {names:?} are missing"),
                ));
            };
            out.insert(param, full);
        }
        // A state without per-parameter counts (older checkpoints) gives every parameter that
        // has slots the optimizer's count.
        // A parameter the state has no count for (older checkpoints have none) takes the
        // optimizer's count: its moments are as old as that, at most.
        self.steps = out.keys().map(|k| (k.clone(), state.step)).collect();
        self.steps.extend(state.param_steps.iter().cloned());
        self.map = out;
        Ok(())
    }
}
