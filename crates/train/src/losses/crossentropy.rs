//! Cross-entropies: binary, categorical, sparse categorical (the fused kernel), focal.

use serde_json::{Value, json};
use wgtrain_autograd::{Reduction, Var};
use wgtrain_tensor::{DType, FaultOp, Tensor, XentOptions};

use super::{EPS, Loss, class_config, reduce, same_shape, weighted_mean, weighted_sum};
use crate::error::{Result, TrainError};

/// Binary cross-entropy of probabilities (clamped to [1e-7, 1 - 1e-7], Keras) or, with
/// `from_logits`, of logits computed stably as `softplus(z) - t z`. With a `pos_weight`
/// (PyTorch's), the positive term is weighted: `-(pw t log p + (1 - t) log(1 - p))`, on logits
/// `(1 - t) z + (1 + (pw - 1) t) softplus(-z)`: above 1 it favours recall of the positives.
#[derive(Debug, Clone, Copy, Default)]
pub struct BinaryCrossEntropy {
    /// Predictions are logits (any real) rather than probabilities in [0, 1].
    pub from_logits: bool,
    /// The weight of the positive term (`None`: 1).
    pub pos_weight: Option<f32>,
}

impl BinaryCrossEntropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (numerically safer than a sigmoid followed by this loss).
    pub fn from_logits() -> Self {
        BinaryCrossEntropy { from_logits: true, pos_weight: None }
    }
    /// Weights the positive term by `w` (> 0): an imbalanced problem's rare positives.
    pub fn pos_weight(mut self, w: f32) -> Self {
        self.pos_weight = Some(w);
        self
    }
}

/// Element-wise BCE `[n, ...]` with the positive term weighted by `pw`.
fn weighted_bce(pred: &Var, t: &Var, from_logits: bool, pw: f32) -> Result<Var> {
    if pw == 1.0 {
        return bce(pred, t, from_logits);
    }
    if from_logits {
        // (1 - t) z + (1 + (pw - 1) t) softplus(-z)
        let neg_part = t.rsub_scalar(1.0)?.mul(pred)?;
        return Ok(neg_part.add(&t.mul_scalar(pw - 1.0)?.add_scalar(1.0)?.mul(&pred.neg()?.softplus()?)?)?);
    }
    let p = pred.clamp(EPS, 1.0 - EPS)?;
    let positive = t.mul(&p.log()?)?.mul_scalar(pw)?;
    Ok(positive.add(&t.rsub_scalar(1.0)?.mul(&p.rsub_scalar(1.0)?.log()?)?)?.neg()?)
}

/// Element-wise BCE `[n, ...]`.
fn bce(pred: &Var, t: &Var, from_logits: bool) -> Result<Var> {
    if from_logits {
        return Ok(pred.softplus()?.sub(&t.mul(pred)?)?);
    }
    let p = pred.clamp(EPS, 1.0 - EPS)?;
    // -(t log p + (1 - t) log(1 - p))
    Ok(t.mul(&p.log()?)?.add(&t.rsub_scalar(1.0)?.mul(&p.rsub_scalar(1.0)?.log()?)?)?.neg()?)
}

impl Loss for BinaryCrossEntropy {
    fn name(&self) -> &str {
        "binary_crossentropy"
    }
    fn forward(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>) -> Result<Var> {
        same_shape(self.name(), pred, target)?;
        let pw = self.pos_weight.unwrap_or(1.0);
        if !(pw.is_finite() && pw > 0.0) {
            return Err(TrainError::config(self.name(), format!("pos_weight {pw} must be finite and > 0")));
        }
        reduce(self.name(), weighted_bce(pred, &Var::constant(target.clone()), self.from_logits, pw)?, w)
    }
    fn config(&self) -> Value {
        class_config("BinaryCrossentropy", json!({ "from_logits": self.from_logits, "pos_weight": self.pos_weight }))
    }
}

/// Binary focal loss (Lin et al.; Keras' BinaryFocalCrossentropy): `alpha_t (1 - p_t)^gamma`
/// times the binary cross-entropy, down-weighting easy examples.
#[derive(Debug, Clone, Copy)]
pub struct FocalLoss {
    /// Focusing exponent: 0 is plain BCE; larger values down-weight well-classified examples more.
    pub gamma: f32,
    /// Weight of the positive class (`None`: no balancing).
    pub alpha: Option<f32>,
    /// Predictions are logits rather than probabilities.
    pub from_logits: bool,
}

impl FocalLoss {
    /// gamma 2, no alpha balancing, probabilities.
    pub fn new() -> Self {
        FocalLoss { gamma: 2.0, alpha: None, from_logits: false }
    }
}

impl Default for FocalLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for FocalLoss {
    fn name(&self) -> &str {
        "binary_focal_crossentropy"
    }
    fn forward(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>) -> Result<Var> {
        same_shape(self.name(), pred, target)?;
        let t = Var::constant(target.clone());
        let p = if self.from_logits { pred.sigmoid()? } else { pred.clone() };
        // p_t = t p + (1 - t)(1 - p), so 1 - p_t = t + p - 2 t p.
        let one_minus_pt = t.add(&p)?.sub(&t.mul(&p)?.mul_scalar(2.0)?)?;
        let mut l = one_minus_pt.clamp(0.0, 1.0)?.pow_scalar(self.gamma)?.mul(&bce(pred, &t, self.from_logits)?)?;
        if let Some(a) = self.alpha {
            // alpha_t = t alpha + (1 - t)(1 - alpha)
            l = l.mul(&t.mul_scalar(2.0 * a - 1.0)?.add_scalar(1.0 - a)?)?;
        }
        reduce(self.name(), l, w)
    }
    fn config(&self) -> Value {
        let settings = json!({ "gamma": self.gamma, "alpha": self.alpha, "from_logits": self.from_logits });
        class_config("BinaryFocalCrossentropy", settings)
    }
}

/// Categorical cross-entropy against one-hot or probability targets `[n, c]`, of
/// probabilities or (`from_logits`) of logits through log-softmax; optional label smoothing
/// `t (1 - eps) + eps / c`, and optional class weights (a sample's loss is
/// `-sum_c w_c t_c log p_c`, PyTorch's `weight` with probability targets).
#[derive(Debug, Clone, Default)]
pub struct CategoricalCrossEntropy {
    /// Predictions are logits `[n, c]` rather than probabilities.
    pub from_logits: bool,
    /// Smoothing `eps` in [0, 1]: targets become `t (1 - eps) + eps / c` (default 0).
    pub label_smoothing: f32,
    /// A weight per class `[c]` (default none).
    pub class_weights: Option<Vec<f32>>,
}

impl CategoricalCrossEntropy {
    /// On probabilities, no label smoothing.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (through log-softmax), no label smoothing.
    pub fn from_logits() -> Self {
        CategoricalCrossEntropy { from_logits: true, ..Self::default() }
    }
    /// Weights each class's term by `weights[c]` (one weight per class, each >= 0).
    pub fn class_weights(mut self, weights: Vec<f32>) -> Self {
        self.class_weights = Some(weights);
        self
    }
}

impl Loss for CategoricalCrossEntropy {
    fn name(&self) -> &str {
        "categorical_crossentropy"
    }
    fn forward(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>) -> Result<Var> {
        same_shape(self.name(), pred, target)?;
        let c = *pred.shape().last().unwrap_or(&1) as f32;
        let mut t = target.clone();
        if self.label_smoothing > 0.0 {
            t = t.mul_scalar(1.0 - self.label_smoothing)?.add_scalar(self.label_smoothing / c)?;
        }
        if let Some(cw) = &self.class_weights {
            if cw.len() != c as usize || cw.iter().any(|w| !w.is_finite() || *w < 0.0) {
                let why = format!("class_weights {cw:?} must be {c} finite weights >= 0 (one per class)");
                return Err(TrainError::config(self.name(), why));
            }
            // Each class's target scaled by its weight (broadcast over the rows).
            t = t.mul(&Tensor::from_slice(t.device(), cw, &[cw.len()])?)?;
        }
        let logp = if self.from_logits { pred.log_softmax(-1)? } else { pred.clamp(EPS, 1.0)?.log()? };
        let per_sample = Var::constant(t).mul(&logp)?.sum(&[-1], false)?.neg()?;
        weighted_mean(self.name(), per_sample, w)
    }
    fn config(&self) -> Value {
        let settings = json!({
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "class_weights": self.class_weights,
        });
        class_config("CategoricalCrossentropy", settings)
    }
}

/// Cross-entropy against integer labels `[n]` (u32 or i32). From logits it runs the fused
/// softmax + cross-entropy kernels (class weights, label smoothing, as PyTorch); from
/// probabilities, `-log p[label]` through a one-hot mask.
///
/// Labels are checked on the device: a label outside `0..c` makes the next read-back (in `fit`,
/// the loss every `log_every` steps) fail with an error naming the first bad label and its
/// position. Only [`ignore_index`](Self::ignore_index) is skipped (Keras' `ignore_class`,
/// PyTorch's `ignore_index`; off by default, as in Keras): ignored samples add nothing, and the
/// loss is the mean over the kept ones (weighted by class weight when there are class weights,
/// as PyTorch). A batch of nothing but ignored labels gives loss 0, as Keras, not PyTorch's NaN,
/// so one padding-only batch cannot turn the weights into NaN.
#[derive(Debug, Clone, Default)]
pub struct SparseCategoricalCrossEntropy {
    /// Predictions are logits `[n, c]` (the fused kernel) rather than probabilities.
    pub from_logits: bool,
    /// Smoothing `eps` in [0, 1] (default 0); needs `from_logits`.
    pub label_smoothing: f32,
    /// Per-class weights `[c]` (default none); the mean is then weighted by each sample's class
    /// weight, as PyTorch. Needs `from_logits`.
    pub class_weights: Option<Tensor>,
    /// The one label value to skip (e.g. a padding label such as -100); `None` skips nothing.
    pub ignore_index: Option<i64>,
}

impl SparseCategoricalCrossEntropy {
    /// On probabilities `[n, c]`.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits `[n, c]`: the fused softmax + cross-entropy kernel.
    pub fn from_logits() -> Self {
        SparseCategoricalCrossEntropy { from_logits: true, ..Self::default() }
    }
    /// Sets the label smoothing `eps` in [0, 1].
    pub fn label_smoothing(mut self, eps: f32) -> Self {
        self.label_smoothing = eps;
        self
    }
    /// Sets the per-class weights `[c]` (f32).
    pub fn class_weights(mut self, w: Tensor) -> Self {
        self.class_weights = Some(w);
        self
    }
    /// Skips samples labelled `label` (and only those): Keras' `ignore_class`.
    pub fn ignore_index(mut self, label: i64) -> Self {
        self.ignore_index = Some(label);
        self
    }
}

impl Loss for SparseCategoricalCrossEntropy {
    fn name(&self) -> &str {
        "sparse_categorical_crossentropy"
    }
    fn forward(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>) -> Result<Var> {
        let name = self.name();
        let r = pred.rank();
        if super::label_per_step(pred.shape(), target) {
            // A label per step (Keras' `[n, time, c]` logits and `[n, time]` labels): each step
            // a sample, so the mean over them is the mean over sequences of their step means.
            let (n, c) = (pred.shape()[0], pred.shape()[r - 1]);
            let steps = target.len() / n.max(1);
            let w = match w {
                Some(w) if w.shape() == [n] => {
                    Some(w.reshape(&[n, 1])?.broadcast_to(&[n, steps])?.reshape(&[n * steps])?)
                }
                Some(w) => {
                    return Err(TrainError::Shape {
                        layer: name.into(),
                        expected: format!("sample weights of shape [{n}] (one per sequence)"),
                        got: w.shape().to_vec(),
                    });
                }
                None => None,
            };
            return self.forward(&pred.reshape(&[n * steps, c])?, &target.reshape(&[n * steps])?, w.as_ref());
        }
        if pred.rank() != 2 || target.shape() != [pred.shape()[0]] || !matches!(target.dtype(), DType::U32 | DType::I32)
        {
            return Err(TrainError::Shape {
                layer: name.into(),
                expected: format!("logits [n, c] and u32/i32 labels [n]; predictions are {:?}", pred.shape()),
                got: target.shape().to_vec(),
            });
        }
        if !self.from_logits && (self.label_smoothing > 0.0 || self.class_weights.is_some()) {
            let why = "label smoothing and class weights need from_logits (the fused kernel)";
            return Err(TrainError::config(name, why));
        }
        let (n, c) = (pred.shape()[0], pred.shape()[1]);
        // The one-hot mask (zero rows for the ignored label) also checks the labels, under this
        // loss's name; the logits path needs it only to count the kept samples.
        let hot = match (self.from_logits, self.ignore_index) {
            (true, None) => None,
            (_, ignore) => Some(target.one_hot_with(c, ignore, FaultOp::SparseCrossEntropy)?),
        };
        let per_sample = if self.from_logits {
            let o = XentOptions {
                class_weights: self.class_weights.as_ref(),
                label_smoothing: self.label_smoothing,
                ignore_index: self.ignore_index,
            };
            if hot.is_none() && w.is_none() {
                return Ok(pred.cross_entropy(target, &o, Reduction::Mean)?);
            }
            pred.cross_entropy(target, &o, Reduction::None)?
        } else {
            let hot = hot.as_ref().expect("the probabilities path always builds the mask");
            let logp = pred.clamp(EPS, 1.0)?.log()?;
            Var::constant(hot.clone()).mul(&logp)?.sum(&[-1], false)?.neg()?
        };
        match (&hot, self.ignore_index) {
            (Some(hot), Some(_)) => kept_mean(name, per_sample, w, hot, self.class_weights.as_ref(), n),
            _ => weighted_mean(name, per_sample, w),
        }
    }
    /// Padding becomes ignored labels (the `ignore_index`, or -1), so whatever label a padded
    /// step holds is never checked, and the mean is over the kept steps (class-weighted with
    /// class weights), as without a mask.
    fn forward_masked(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>, mask: &Tensor) -> Result<Var> {
        if target.shape() != mask.shape() {
            let expected = format!("labels of the mask's shape {:?} (one per step)", mask.shape());
            return Err(TrainError::Shape { layer: self.name().into(), expected, got: target.shape().to_vec() });
        }
        let ignore = self.ignore_index.unwrap_or(-1);
        let fill = Tensor::full(target.device(), target.shape(), ignore as f32)?;
        // The mask is 1 or 0: where it is 0 the label becomes the ignored one.
        let relabeled = mask.where_(&target.cast(DType::F32)?, &fill)?.cast(DType::I32)?;
        SparseCategoricalCrossEntropy { ignore_index: Some(ignore), ..self.clone() }.forward(pred, &relabeled, w)
    }
    /// The class weights are read back from the device; if that fails, `Null` (not savable)
    /// rather than a loss that would train differently once loaded.
    fn config(&self) -> Value {
        let Ok(class_weights) = self.class_weights.as_ref().map(|w| w.to_vec::<f32>()).transpose() else {
            return Value::Null;
        };
        let settings = json!({
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "class_weights": class_weights,
            "ignore_index": self.ignore_index,
        });
        class_config("SparseCategoricalCrossentropy", settings)
    }
}

/// `sum_i s_i l_i / sum_i k_i` over per-sample losses `l` (0 for ignored samples), sample
/// weights `s` (1 without), and `k_i` the kept sample's class weight (1 without class weights)
/// or 0: the mean over kept samples. The sum of `k` is kept from 0 (a batch of ignored labels
/// gives loss 0; its numerator is 0 too).
fn kept_mean(
    name: &str,
    per_sample: Var,
    w: Option<&Tensor>,
    hot: &Tensor,
    cw: Option<&Tensor>,
    n: usize,
) -> Result<Var> {
    let kept = match cw {
        Some(cw) => hot.matmul(&cw.reshape(&[cw.len(), 1])?)?.reshape(&[n])?,
        None => hot.sum(&[-1], false)?,
    };
    let total = kept.sum_all()?.clamp(f32::MIN_POSITIVE, f32::MAX)?;
    Ok(weighted_sum(name, per_sample, w)?.div(&Var::constant(total))?)
}
