//! Making the replicas one model: every rank checks that it built what rank 0 built, then
//! takes rank 0's weights, buffers, optimizer state, seed and counters, so the other ranks'
//! initializers and seeds do not matter.

use serde_json::{Value, json};
use wgtrain_tensor::{DType, Tensor};

use super::collective::Collective;
use crate::error::{Result, TrainError};
use crate::models::Model;
use crate::optim::OptimizerState;

/// What the ranks must agree on, one line per tensor in order: each parameter's and buffer's
/// name, shape and dtype; then the optimizer's kind, whether it has a loss scale, and the
/// mixed-precision policy (summing scaled and unscaled gradients would be nonsense).
fn describe(model: &mut Model) -> Result<Vec<String>> {
    let mut lines: Vec<String> = model
        .params()
        .iter()
        .map(|p| format!("parameter {} {:?} {:?}", p.name, p.var.shape(), p.var.dtype()))
        .collect();
    lines.extend(model.network().buffers().iter().map(|(n, t)| format!("buffer {n} {:?} {:?}", t.shape(), t.dtype())));
    let policy = model.policy().name();
    let optimizer = model.optimizer()?;
    let scaled = if optimizer.loss_scale().is_some() { " with a loss scale" } else { "" };
    lines.push(format!("optimizer {}{scaled}, policy {policy}", optimizer.state().kind));
    Ok(lines)
}

/// The first line where `mine` differs from rank 0's `root`, said plainly.
fn first_difference(root: &[String], mine: &[String]) -> Option<String> {
    let at = root.iter().zip(mine).position(|(a, b)| a != b);
    match at {
        Some(i) => Some(format!("rank 0 has `{}` where this rank has `{}`", root[i], mine[i])),
        None if root.len() != mine.len() => {
            let (longer, who) = if root.len() > mine.len() { (root, "rank 0") } else { (mine, "this rank") };
            Some(format!("{who} has more: `{}` is its first extra", longer[root.len().min(mine.len())]))
        }
        None => None,
    }
}

/// Checks that every rank built the same model (parameter and buffer names, shapes and dtypes;
/// the optimizer's kind). On a difference every rank returns the same error, naming the first
/// rank that differs and its first difference, instead of training into a hang.
pub(crate) fn agree(comm: &dyn Collective, model: &mut Model) -> Result<()> {
    let mine = describe(model)?;
    let mut bytes = serde_json::to_vec(&mine).map_err(|e| TrainError::config("distribute", e.to_string()))?;
    comm.broadcast(0, &mut bytes);
    let root: Vec<String> =
        serde_json::from_slice(&bytes).map_err(|e| TrainError::config("distribute", e.to_string()))?;
    let difference = first_difference(&root, &mine);
    let first = comm.min_u64(if difference.is_some() { comm.rank() as u64 } else { u64::MAX });
    if first == u64::MAX {
        return Ok(());
    }
    let mut message = difference.unwrap_or_default().into_bytes();
    comm.broadcast(first as usize, &mut message);
    let why = format!("rank {first}'s model differs from rank 0's: {}", String::from_utf8_lossy(&message));
    Err(TrainError::config("distribute", why))
}

/// What rank 0 sends: the named tensors (parameters and buffers first, how many of them, then
/// the optimizer's state tensors) and the optimizer's state.
type ModelState = (Vec<(String, Tensor)>, usize, OptimizerState);

/// The tensors rank 0 sends: parameters and buffers (how many), then the optimizer's state.
fn state_tensors(model: &mut Model) -> Result<ModelState> {
    let state = model.optimizer()?.state();
    let mut tensors: Vec<(String, Tensor)> =
        model.params().into_iter().map(|p| (p.name, p.var.data().clone())).collect();
    tensors.extend(model.network().buffers());
    let targets = tensors.len();
    tensors.extend(state.tensors.iter().cloned());
    Ok((tensors, targets, state))
}

/// Checks that `broadcast_state` can send the model's state (f32 only), alike on every rank
/// once they agreed on the dtypes: an error here is every rank's.
pub(crate) fn replicable(model: &mut Model) -> Result<()> {
    let (tensors, _, _) = state_tensors(model)?;
    match tensors.iter().find(|(_, t)| t.dtype() != DType::F32) {
        Some((name, t)) => {
            Err(TrainError::config("distribute", format!("{name} is {:?}: only f32 state is replicated", t.dtype())))
        }
        None => Ok(()),
    }
}

/// Gives every rank rank 0's weights, buffers, optimizer state (its tensors, step counts and
/// hyper-parameters, a loss scale included), seed and counters. Call [`replicable`] first: an
/// error here may be one rank's alone.
pub(crate) fn broadcast_state(comm: &dyn Collective, model: &mut Model) -> Result<()> {
    let (tensors, targets, state) = state_tensors(model)?;
    let mut header = serde_json::to_vec(&json!({
        "seed": model.seed,
        "global_step": model.global_step,
        "epochs_done": model.epochs_done,
        "optimizer": {
            "kind": state.kind,
            "step": state.step,
            "param_steps": state.param_steps,
            "hyper": state.hyper,
            "tensors": state.tensors.iter().map(|(n, t)| json!([n, t.shape()])).collect::<Vec<_>>(),
        },
    }))
    .map_err(|e| TrainError::config("distribute", e.to_string()))?;
    comm.broadcast(0, &mut header);
    let mut data = Vec::new();
    if comm.rank() == 0 {
        for (_, t) in &tensors {
            data.extend(t.to_vec::<f32>()?.iter().flat_map(|v| v.to_le_bytes()));
        }
    }
    comm.broadcast(0, &mut data);
    if comm.rank() == 0 {
        return Ok(());
    }
    let header: Value = serde_json::from_slice(&header).map_err(|e| TrainError::config("distribute", e.to_string()))?;
    let values: Vec<f32> = data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let mut at = 0;
    let mut take = |n: usize| {
        let s = &values[at.min(values.len())..(at + n).min(values.len())];
        at += n;
        s
    };
    for (_, t) in &tensors[..targets] {
        t.assign(&Tensor::from_slice(t.device(), take(t.len()), t.shape())?)?;
    }
    let o = &header["optimizer"];
    let dev = model.device().clone();
    let mut opt_tensors = Vec::new();
    for entry in o["tensors"].as_array().into_iter().flatten() {
        let name = entry[0].as_str().unwrap_or_default().to_string();
        let shape: Vec<usize> = serde_json::from_value(entry[1].clone()).unwrap_or_default();
        let n = shape.iter().product();
        opt_tensors.push((name, Tensor::from_slice(&dev, take(n), &shape)?));
    }
    let param_steps = serde_json::from_value(o["param_steps"].clone()).unwrap_or_default();
    let state = OptimizerState {
        kind: o["kind"].as_str().unwrap_or_default().to_string(),
        step: o["step"].as_u64().unwrap_or(0),
        param_steps,
        hyper: o["hyper"].clone(),
        tensors: opt_tensors,
    };
    model.optimizer()?.load_state(&state)?;
    model.seed = header["seed"].as_u64().unwrap_or(model.seed);
    model.global_step = header["global_step"].as_u64().unwrap_or(model.global_step);
    model.epochs_done = header["epochs_done"].as_u64().map_or(model.epochs_done, |e| e as usize);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_named() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let root = a(&["parameter d/kernel [2, 4] F32", "parameter d/bias [4] F32"]);
        assert_eq!(first_difference(&root, &root), None);
        let other = a(&["parameter d/kernel [2, 8] F32", "parameter d/bias [8] F32"]);
        let why = first_difference(&root, &other).unwrap();
        assert!(why.contains("[2, 4]") && why.contains("[2, 8]") && !why.contains("bias"), "{why}");
        let why = first_difference(&root, &root[..1]).unwrap();
        assert!(why.contains("rank 0 has more") && why.contains("d/bias"), "{why}");
    }
}
