//! Precision, recall, F1, the confusion matrix and ROC AUC.

use serde_json::{Value, json};
use wgtrain_tensor::{DType, Tensor};

use super::{Counters, Metric, class_ids, logits_shape};
use crate::error::{Result, TrainError};
use crate::losses::class_config;

fn same(pred: &Tensor, target: &Tensor, what: &str) -> Result<()> {
    if pred.shape() != target.shape() {
        let e = format!("targets of the predictions' shape {:?}", pred.shape());
        return Err(TrainError::Shape { layer: what.into(), expected: e, got: target.shape().to_vec() });
    }
    Ok(())
}

/// Binary true positives, false positives and false negatives, as one device vector `[3]`.
struct Outcomes {
    threshold: f32,
    counts: Counters,
}

impl Outcomes {
    fn new(threshold: f32) -> Self {
        Outcomes { threshold, counts: Counters::default() }
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor, what: &str) -> Result<()> {
        same(pred, target, what)?;
        let p = pred.gt_scalar(self.threshold)?;
        let t = target.gt_scalar(0.5)?;
        let tp = p.mul(&t)?.sum_all()?.reshape(&[1])?;
        let fp = p.mul(&t.rsub_scalar(1.0)?)?.sum_all()?.reshape(&[1])?;
        let fn_ = p.rsub_scalar(1.0)?.mul(&t)?.sum_all()?.reshape(&[1])?;
        self.counts.add(&Tensor::concat(&[&tp, &fp, &fn_], 0)?)
    }
    /// (tp, fp, fn)
    fn read(&self) -> Result<(f32, f32, f32)> {
        Ok(self.counts.read()?.map_or((0.0, 0.0, 0.0), |c| (c[0], c[1], c[2])))
    }
}

fn ratio(a: f32, b: f32) -> f32 {
    if b > 0.0 { a / b } else { 0.0 }
}

macro_rules! binary_metric {
    ($(#[$doc:meta])* $t:ident, $name:literal, $class:literal, |$tp:ident, $fp:ident, $fn_:ident| $value:expr) => {
        $(#[$doc])*
        pub struct $t(Outcomes);
        impl $t {
            /// Predictions above `threshold` count as positive (0.5 for probabilities, 0 for logits).
            pub fn new(threshold: f32) -> Self {
                $t(Outcomes::new(threshold))
            }
        }
        impl Metric for $t {
            fn name(&self) -> String {
                $name.into()
            }
            fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
                self.0.update(pred, target, $name)
            }
            fn result(&self) -> Result<f32> {
                let ($tp, $fp, $fn_) = self.0.read()?;
                Ok($value)
            }
            fn reset(&mut self) {
                self.0.counts.reset();
            }
            fn config(&self) -> Value {
                class_config($class, json!({ "threshold": self.0.threshold }))
            }
        }
    };
}

binary_metric!(
    /// Binary precision `tp / (tp + fp)`.
    Precision, "precision", "Precision", |tp, fp, fn_| { let _ = fn_; ratio(tp, tp + fp) }
);
binary_metric!(
    /// Binary recall `tp / (tp + fn)`.
    Recall, "recall", "Recall", |tp, fp, fn_| { let _ = fp; ratio(tp, tp + fn_) }
);

/// The confusion matrix of arg-max predictions `[n, c]` against labels (u32 `[n]` or one-hot),
/// accumulated on the device as `one_hot(true)^T @ one_hot(pred)`. `result` is the accuracy.
pub struct ConfusionMatrix {
    classes: usize,
    counts: Counters,
}

impl ConfusionMatrix {
    /// For `classes` classes; logged as `confusion_accuracy`.
    pub fn new(classes: usize) -> Self {
        ConfusionMatrix { classes, counts: Counters::default() }
    }
    /// `m[true][predicted]` counts (a read-back).
    pub fn matrix(&self) -> Result<Vec<Vec<u64>>> {
        let c = self.classes;
        let flat = self.counts.read()?.unwrap_or_else(|| vec![0.0; c * c]);
        // `max(1)`: with 0 classes the matrix is empty (and no update can succeed).
        Ok(flat.chunks(c.max(1)).map(|r| r.iter().map(|&v| v.round() as u64).collect()).collect())
    }
    /// Per class: (precision, recall, F1, support).
    pub fn per_class(&self) -> Result<Vec<(f32, f32, f32, u64)>> {
        let m = self.matrix()?;
        Ok((0..self.classes)
            .map(|k| {
                let tp = m[k][k] as f32;
                let predicted: u64 = m.iter().map(|r| r[k]).sum();
                let support: u64 = m[k].iter().sum();
                let (p, r) = (ratio(tp, predicted as f32), ratio(tp, support as f32));
                (p, r, ratio(2.0 * p * r, p + r), support)
            })
            .collect())
    }
}

impl Metric for ConfusionMatrix {
    fn name(&self) -> String {
        "confusion_accuracy".into()
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        let (n, c) = logits_shape(pred, "confusion_matrix")?;
        if c != self.classes {
            return Err(TrainError::config(
                "confusion_matrix",
                format!("{c} predicted classes, expected {}", self.classes),
            ));
        }
        let truth = class_ids(target, n, "confusion_matrix")?.cast(DType::U32)?.one_hot(c)?;
        let guess = pred.argmax(-1, false)?.one_hot(c)?;
        self.counts.add(&truth.transpose(0, 1)?.matmul(&guess)?.reshape(&[c * c])?)
    }
    fn result(&self) -> Result<f32> {
        let m = self.matrix()?;
        let total: u64 = m.iter().flatten().sum();
        Ok(ratio((0..self.classes).map(|k| m[k][k]).sum::<u64>() as f32, total as f32))
    }
    fn reset(&mut self) {
        self.counts.reset();
    }
    fn config(&self) -> Value {
        class_config("ConfusionMatrix", json!({ "num_classes": self.classes }))
    }
}

/// F1 score: binary (threshold), or multi-class averaged `Macro` (mean of per-class F1) or
/// `Micro` (from the pooled counts, which equals accuracy for single-label data).
pub struct F1Score(F1Kind);

enum F1Kind {
    Binary(Outcomes),
    Macro(ConfusionMatrix),
    Micro(ConfusionMatrix),
}

impl F1Score {
    /// Binary F1 with predictions above `threshold` positive; logged as `f1`.
    pub fn binary(threshold: f32) -> Self {
        F1Score(F1Kind::Binary(Outcomes::new(threshold)))
    }
    /// Mean of the per-class F1 over `classes` classes; logged as `f1_macro`.
    pub fn macro_average(classes: usize) -> Self {
        F1Score(F1Kind::Macro(ConfusionMatrix::new(classes)))
    }
    /// F1 of the pooled counts over `classes` classes; logged as `f1_micro`.
    pub fn micro_average(classes: usize) -> Self {
        F1Score(F1Kind::Micro(ConfusionMatrix::new(classes)))
    }
}

impl Metric for F1Score {
    fn name(&self) -> String {
        match &self.0 {
            F1Kind::Binary(_) => "f1".into(),
            F1Kind::Macro(_) => "f1_macro".into(),
            F1Kind::Micro(_) => "f1_micro".into(),
        }
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        match &mut self.0 {
            F1Kind::Binary(o) => o.update(pred, target, "f1"),
            F1Kind::Macro(m) | F1Kind::Micro(m) => m.update(pred, target),
        }
    }
    fn result(&self) -> Result<f32> {
        match &self.0 {
            F1Kind::Binary(o) => {
                let (tp, fp, fn_) = o.read()?;
                Ok(ratio(2.0 * tp, 2.0 * tp + fp + fn_))
            }
            F1Kind::Macro(m) => {
                let per = m.per_class()?;
                Ok(per.iter().map(|c| c.2).sum::<f32>() / per.len().max(1) as f32)
            }
            F1Kind::Micro(m) => {
                let mat = m.matrix()?;
                let tp: u64 = (0..mat.len()).map(|k| mat[k][k]).sum();
                let total: u64 = mat.iter().flatten().sum();
                // Pooled fp = fn = total - tp for single-label data.
                Ok(ratio(2.0 * tp as f32, (2 * tp + 2 * (total - tp)) as f32))
            }
        }
    }
    fn reset(&mut self) {
        match &mut self.0 {
            F1Kind::Binary(o) => o.counts.reset(),
            F1Kind::Macro(m) | F1Kind::Micro(m) => m.reset(),
        }
    }
    /// `average` says which constructor made it: `binary`, `macro` or `micro`, as the log name's suffix.
    fn config(&self) -> Value {
        let settings = match &self.0 {
            F1Kind::Binary(o) => json!({ "average": "binary", "threshold": o.threshold }),
            F1Kind::Macro(m) => json!({ "average": "macro", "num_classes": m.classes }),
            F1Kind::Micro(m) => json!({ "average": "micro", "num_classes": m.classes }),
        };
        class_config("F1Score", settings)
    }
}

/// Binary ROC AUC from `thresholds` evenly spaced in [0, 1] (Keras' default 200), for
/// probabilities `[n]` or `[n, 1]` against 0/1 targets: per threshold, true and false
/// positives counted on the device, the curve integrated by trapezoids at `result`.
pub struct Auc {
    thresholds: usize,
    /// The thresholds `[1, t]` on the device, uploaded on the first update only.
    grid: Option<Tensor>,
    counts: Counters,
}

impl Auc {
    /// ROC AUC over `thresholds` evenly spaced thresholds (Keras uses 200); logged as `auc`.
    pub fn new(thresholds: usize) -> Self {
        Auc { thresholds: thresholds.max(2), grid: None, counts: Counters::default() }
    }
}

impl Metric for Auc {
    fn name(&self) -> String {
        "auc".into()
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> Result<()> {
        same(pred, target, "auc")?;
        let n = pred.len();
        let t = self.thresholds;
        if self.grid.is_none() {
            let thr: Vec<f32> = (0..t).map(|i| i as f32 / (t - 1) as f32).collect();
            self.grid = Some(Tensor::from_slice(pred.device(), &thr, &[1, t])?);
        }
        let thr = self.grid.as_ref().expect("set above");
        let (p, y) = (pred.reshape(&[n, 1])?, target.reshape(&[n, 1])?.gt_scalar(0.5)?);
        let above = p.gt(thr)?;
        let tp = above.mul(&y)?.sum(&[0], false)?;
        let fp = above.mul(&y.rsub_scalar(1.0)?)?.sum(&[0], false)?;
        let pos = y.sum_all()?.reshape(&[1])?;
        let neg = pos.rsub_scalar(n as f32)?;
        self.counts.add(&Tensor::concat(&[&tp, &fp, &pos, &neg], 0)?)
    }
    fn result(&self) -> Result<f32> {
        let t = self.thresholds;
        let Some(c) = self.counts.read()? else { return Ok(0.0) };
        let (pos, neg) = (c[2 * t], c[2 * t + 1]);
        if pos == 0.0 || neg == 0.0 {
            return Ok(0.0);
        }
        // (fpr, tpr) from the highest threshold down, closed by (0, 0) and (1, 1).
        let mut pts = vec![(0.0f32, 0.0f32)];
        pts.extend((0..t).rev().map(|i| (c[t + i] / neg, c[i] / pos)));
        pts.push((1.0, 1.0));
        Ok(pts.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum())
    }
    fn reset(&mut self) {
        self.counts.reset();
    }
    fn config(&self) -> Value {
        class_config("AUC", json!({ "num_thresholds": self.thresholds }))
    }
}
