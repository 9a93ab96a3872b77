//! Per-sample loss weights, the Keras way: `sample_weight` (one weight per sample) and
//! `class_weight` (one weight per class, given to each sample by its target), multiplied when
//! both are given. Each sample's loss is multiplied by its weight and the batch loss stays the
//! mean over the batch (`sum(w_i l_i) / n`), so a weight of 2 counts a sample twice.

use wgtrain_tensor::{DType, Tensor};

use crate::error::{Result, TrainError};

/// Checks that `w` holds one f32 weight per sample of `n`.
pub(crate) fn check_sample_weight(what: &str, n: usize, w: &Tensor) -> Result<()> {
    if w.dtype() != DType::F32 || w.shape() != [n] {
        let expected = format!("f32 sample weights of shape [{n}] (one per sample)");
        return Err(TrainError::Shape { layer: what.to_string(), expected, got: w.shape().to_vec() });
    }
    Ok(())
}

/// Checks that every class weight is finite and >= 0.
pub(crate) fn check_class_weight(what: &str, class_weight: &[f32]) -> Result<()> {
    if class_weight.is_empty() || class_weight.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(TrainError::config(
            what,
            format!("class_weight {class_weight:?} must be finite weights >= 0, one per class"),
        ));
    }
    Ok(())
}

/// Each sample's weight by its target, from a weight per class: integer labels `[n]` index
/// `class_weight`; one-hot (or probability) targets `[n, c]` take `t . class_weight`; binary
/// targets `[n]` or `[n, 1]` in [0, 1] take `w0 + (w1 - w0) t` (two weights). A label outside
/// the classes fails the next read-back, naming it.
pub(crate) fn class_weights(what: &str, y: &Tensor, class_weight: &[f32]) -> Result<Tensor> {
    let dev = y.device();
    let c = class_weight.len();
    check_class_weight(what, class_weight)?;
    let n = y.shape().first().copied().unwrap_or(0);
    match (y.dtype(), y.shape()) {
        (DType::U32 | DType::I32, [_]) => {
            let table = Tensor::from_slice(dev, class_weight, &[c, 1])?;
            Ok(Tensor::embedding(y, &table)?.reshape(&[n])?)
        }
        (DType::F32, [_, k]) if *k == c && c > 1 => {
            let column = Tensor::from_slice(dev, class_weight, &[c, 1])?;
            Ok(y.matmul(&column)?.reshape(&[n])?)
        }
        (DType::F32, [_] | [_, 1]) if c == 2 => {
            let t = y.reshape(&[n])?;
            Ok(t.mul_scalar(class_weight[1] - class_weight[0])?.add_scalar(class_weight[0])?)
        }
        _ => {
            let why = format!(
                "class_weight has {c} weights; it needs integer labels [n], targets [n, {c}], or binary targets [n] or [n, 1] with 2 weights (got {:?} {:?})",
                y.dtype(),
                y.shape()
            );
            Err(TrainError::config(what, why))
        }
    }
}

/// Checks, on the host (once, as `fit` starts), that every integer label has a class weight:
/// the error names the first label without one. (A loader's batches are checked on the
/// device, and their first bad label fails the next read-back.)
fn check_labels(what: &str, y: &Tensor, classes: usize) -> Result<()> {
    let labels: Vec<i64> = match y.dtype() {
        DType::U32 => y.to_vec::<u32>()?.into_iter().map(i64::from).collect(),
        DType::I32 => y.to_vec::<i32>()?.into_iter().map(i64::from).collect(),
        _ => return Ok(()),
    };
    match labels.iter().position(|&l| l < 0 || l >= classes as i64) {
        Some(i) => {
            let why = format!(
                "label {} (sample {i}) has no class_weight: {classes} weights, for classes 0..{classes}",
                labels[i]
            );
            Err(TrainError::config(what, why))
        }
        None => Ok(()),
    }
}

/// The weights of `fit`'s samples: `sample_weight`, times each sample's class weight.
pub(crate) fn combine(
    what: &str,
    y: &Tensor,
    sample_weight: Option<&Tensor>,
    class_weight: Option<&[f32]>,
) -> Result<Option<Tensor>> {
    // `fit` checked `sample_weight` against every sample before cutting the validation split.
    if let Some(cw) = class_weight {
        check_labels(what, y, cw.len())?;
    }
    let by_class = class_weight.map(|cw| class_weights(what, y, cw)).transpose()?;
    Ok(match (sample_weight, by_class) {
        (Some(w), Some(c)) => Some(w.mul(&c)?),
        (Some(w), None) => Some(w.clone()),
        (None, c) => c,
    })
}
