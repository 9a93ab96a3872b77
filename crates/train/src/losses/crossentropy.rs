//! Cross-entropies: binary, categorical, sparse categorical (the fused kernel), focal.

use wgtrain_autograd::{Reduction, Var};
use wgtrain_tensor::{DType, Tensor, XentOptions};

use super::{EPS, Loss, reduce, same_shape, weighted_mean};
use crate::error::{Result, TrainError};

/// Binary cross-entropy of probabilities (clamped to [1e-7, 1 - 1e-7], Keras) or, with
/// `from_logits`, of logits computed stably as `softplus(z) - t z`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BinaryCrossEntropy {
    /// Predictions are logits (any real) rather than probabilities in [0, 1].
    pub from_logits: bool,
}

impl BinaryCrossEntropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (numerically safer than a sigmoid followed by this loss).
    pub fn from_logits() -> Self {
        BinaryCrossEntropy { from_logits: true }
    }
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
        reduce(self.name(), bce(pred, &Var::constant(target.clone()), self.from_logits)?, w)
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
}

/// Categorical cross-entropy against one-hot or probability targets `[n, c]`, of
/// probabilities or (`from_logits`) of logits through log-softmax; optional label smoothing
/// `t (1 - eps) + eps / c`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CategoricalCrossEntropy {
    /// Predictions are logits `[n, c]` rather than probabilities.
    pub from_logits: bool,
    /// Smoothing `eps` in [0, 1]: targets become `t (1 - eps) + eps / c` (default 0).
    pub label_smoothing: f32,
}

impl CategoricalCrossEntropy {
    /// On probabilities, no label smoothing.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (through log-softmax), no label smoothing.
    pub fn from_logits() -> Self {
        CategoricalCrossEntropy { from_logits: true, label_smoothing: 0.0 }
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
        let logp = if self.from_logits { pred.log_softmax(-1)? } else { pred.clamp(EPS, 1.0)?.log()? };
        let per_sample = Var::constant(t).mul(&logp)?.sum(&[-1], false)?.neg()?;
        weighted_mean(self.name(), per_sample, w)
    }
}

/// Cross-entropy against integer labels `[n]` (u32 or i32). From logits it runs the fused
/// softmax + cross-entropy kernels (class weights, label smoothing, labels outside 0..c
/// ignored, as PyTorch); from probabilities, `-log p[label]`.
#[derive(Debug, Clone, Default)]
pub struct SparseCategoricalCrossEntropy {
    /// Predictions are logits `[n, c]` (the fused kernel) rather than probabilities.
    pub from_logits: bool,
    /// Smoothing `eps` in [0, 1] (default 0); needs `from_logits`.
    pub label_smoothing: f32,
    /// Per-class weights `[c]` (default none); the mean is then weighted by each sample's class
    /// weight, as PyTorch. Needs `from_logits`.
    pub class_weights: Option<Tensor>,
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
}

impl Loss for SparseCategoricalCrossEntropy {
    fn name(&self) -> &str {
        "sparse_categorical_crossentropy"
    }
    fn forward(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>) -> Result<Var> {
        let name = self.name();
        if pred.rank() != 2 || target.shape() != [pred.shape()[0]] || !matches!(target.dtype(), DType::U32 | DType::I32)
        {
            return Err(TrainError::Shape {
                layer: name.into(),
                expected: format!("logits [n, c] and u32/i32 labels [n]; predictions are {:?}", pred.shape()),
                got: target.shape().to_vec(),
            });
        }
        if self.from_logits {
            let o = XentOptions { class_weights: self.class_weights.as_ref(), label_smoothing: self.label_smoothing };
            return match w {
                None => Ok(pred.cross_entropy(target, &o, Reduction::Mean)?),
                Some(_) => weighted_mean(name, pred.cross_entropy(target, &o, Reduction::None)?, w),
            };
        }
        if self.label_smoothing > 0.0 || self.class_weights.is_some() {
            let why = "label smoothing and class weights need from_logits (the fused kernel)";
            return Err(TrainError::config(name, why));
        }
        let idx = target.reshape(&[pred.shape()[0], 1])?;
        let logp = pred.clamp(EPS, 1.0)?.log()?.gather(1, &idx)?.reshape(&[pred.shape()[0]])?;
        weighted_mean(name, logp.neg()?, w)
    }
}
