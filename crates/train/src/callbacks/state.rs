//! The saved state of the callbacks that watch a logged value (`ModelCheckpoint`,
//! `EarlyStopping`, `ReduceLrOnPlateau`): what they watch, the best value so far and their
//! counters. A state is restored only into a callback of the same kind watching the same value
//! the same way, since a best `val_loss` says nothing about `val_accuracy`.

use serde_json::{Value, json};

use super::{CallbackState, Mode};

/// A monitoring callback's state: `values` gets `monitor`, `mode` and `best` added. JSON has
/// no infinities, so the starting "best" (the worst value) is saved as `null`.
pub(crate) fn monitored(kind: &str, monitor: &str, mode: Mode, best: f32, mut values: Value) -> CallbackState {
    values["monitor"] = json!(monitor);
    values["mode"] = json!(mode_name(mode));
    values["best"] = if best.is_finite() { json!(best) } else { Value::Null };
    CallbackState { kind: kind.to_string(), values, tensors: Vec::new() }
}

/// The saved best value when `state` is a `kind` watching `monitor` in `mode` (resolved), and
/// `None` when it is not (the callback then starts afresh).
pub(crate) fn restore_best(state: &CallbackState, kind: &str, monitor: &str, mode: Mode) -> Option<f32> {
    let v = &state.values;
    let fits = state.kind == kind && v["monitor"] == monitor && v["mode"] == mode_name(mode);
    fits.then(|| v["best"].as_f64().map_or(mode.worst(), |b| b as f32))
}

/// A saved counter (0 when absent).
pub(crate) fn counter(state: &CallbackState, name: &str) -> usize {
    state.values[name].as_u64().unwrap_or(0) as usize
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Max => "max",
        _ => "min",
    }
}
