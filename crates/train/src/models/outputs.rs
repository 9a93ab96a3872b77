//! Several outputs, the Keras way: each output of a model has its own loss, its weight in the
//! total loss (Keras' `loss_weights`) and its own metrics; the total that training minimizes is
//! `sum(weight_k * loss_k)` plus the regularization penalties.
//!
//! Logs name an output's figures after it (`digit_loss`, `digit_accuracy`, and `val_digit_loss`
//! in validation), beside `loss`, the total. A model of one output logs `loss` and the bare
//! metric names, as Keras does. An output's name is its node's in the graph: the name of the
//! layer that computes it (`Dense::new(10).named("digit")`).

use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use crate::error::{Result, TrainError};
use crate::losses::Loss;
use crate::metrics::Metric;

/// How one output of a model is trained and reported (an entry of `Model::compile_outputs`):
/// its loss, that loss's weight in the total, and its metrics.
///
/// ```no_run
/// # use wgtrain::prelude::*;
/// # fn demo(model: &mut Model) -> wgtrain::Result<()> {
/// model.compile_outputs(
///     Adam::new(1e-3),
///     vec![
///         OutputLoss::named("digit", SparseCategoricalCrossEntropy::from_logits())
///             .metric(SparseCategoricalAccuracy::new()),
///         OutputLoss::named("size", MeanSquaredError).weight(0.5),
///     ],
/// )?;
/// # Ok(()) }
/// ```
pub struct OutputLoss {
    output: Option<String>,
    loss: Box<dyn Loss>,
    weight: f32,
    metrics: Vec<Box<dyn Metric>>,
}

impl OutputLoss {
    /// The loss of the output at this entry's place (the entries follow the outputs' order).
    pub fn new(loss: impl Loss + 'static) -> Self {
        OutputLoss { output: None, loss: Box::new(loss), weight: 1.0, metrics: Vec::new() }
    }
    /// A boxed loss (chosen at run time, or rebuilt by `load_model`), in order.
    pub fn from_boxed(loss: Box<dyn Loss>) -> Self {
        OutputLoss { output: None, loss, weight: 1.0, metrics: Vec::new() }
    }
    /// The loss of the output called `output` (Keras' `loss={"digit": ...}`).
    pub fn named(output: &str, loss: impl Loss + 'static) -> Self {
        OutputLoss { output: Some(output.to_string()), ..OutputLoss::new(loss) }
    }
    /// This loss's weight in the total (Keras' `loss_weights`; default 1).
    pub fn weight(mut self, weight: f32) -> Self {
        self.weight = weight;
        self
    }
    /// Adds a metric of this output.
    pub fn metric(mut self, metric: impl Metric + 'static) -> Self {
        self.metrics.push(Box::new(metric));
        self
    }
    /// Adds metrics of this output.
    pub fn metrics(mut self, metrics: Vec<Box<dyn Metric>>) -> Self {
        self.metrics.extend(metrics);
        self
    }
}

/// One output as compiled: where its logs' names start, its loss, weight and metrics.
pub(crate) struct Head {
    /// `Some("digit")` in a model of several outputs; `None` in a model of one (bare names).
    pub(crate) prefix: Option<String>,
    pub(crate) loss: Box<dyn Loss>,
    pub(crate) weight: f32,
    pub(crate) metrics: Vec<Box<dyn Metric>>,
}

impl Head {
    /// The one output of a model compiled with `compile`.
    pub(crate) fn single(loss: Box<dyn Loss>, metrics: Vec<Box<dyn Metric>>) -> Self {
        Head { prefix: None, loss, weight: 1.0, metrics }
    }
    /// The log name of this output's `what` (`loss`, a metric's name).
    pub(crate) fn log_name(&self, what: &str) -> String {
        match &self.prefix {
            Some(p) => format!("{p}_{what}"),
            None => what.to_string(),
        }
    }
}

/// Matches `specs` to the outputs called `names`: all by name, or all in order, one per output.
pub(crate) fn heads(names: &[String], specs: Vec<OutputLoss>) -> Result<Vec<Head>> {
    let listed = names.join(", ");
    if specs.len() != names.len() {
        let why = format!("{} losses given for {} outputs ({listed}): give one per output", specs.len(), names.len());
        return Err(TrainError::config("compile_outputs", why));
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            let why = format!("two outputs are called {name:?}: give their layers distinct names");
            return Err(TrainError::config("compile_outputs", why));
        }
    }
    for s in &specs {
        if !s.weight.is_finite() || s.weight < 0.0 {
            let which = s.output.as_deref().unwrap_or("an output");
            let why = format!("the loss weight of {which} is {}; it must be finite and >= 0", s.weight);
            return Err(TrainError::config("compile_outputs", why));
        }
    }
    let named = specs.iter().filter(|s| s.output.is_some()).count();
    let mut slots: Vec<Option<OutputLoss>> = names.iter().map(|_| None).collect();
    if named == 0 {
        slots = specs.into_iter().map(Some).collect();
    } else if named == specs.len() {
        for s in specs {
            let name = s.output.clone().unwrap_or_default();
            let Some(i) = names.iter().position(|n| *n == name) else {
                let why = format!("no output is called {name:?}; the outputs are {listed}");
                return Err(TrainError::config("compile_outputs", why));
            };
            if slots[i].replace(s).is_some() {
                return Err(TrainError::config("compile_outputs", format!("output {name:?} is given two losses")));
            }
        }
    } else {
        let why = "name every output's loss (OutputLoss::named) or none of them (OutputLoss::new, in order)";
        return Err(TrainError::config("compile_outputs", why));
    }
    let several = names.len() > 1;
    Ok(slots
        .into_iter()
        .zip(names)
        .map(|(s, name)| {
            let s = s.expect("every output matched once");
            Head { prefix: several.then(|| name.clone()), loss: s.loss, weight: s.weight, metrics: s.metrics }
        })
        .collect())
}

/// Checks that `ys` holds one target per head, each with a row per sample of `n`.
pub(crate) fn check_targets(what: &str, heads: &[Head], n: usize, ys: &[Tensor]) -> Result<()> {
    if ys.len() != heads.len() {
        let names: Vec<String> = heads.iter().filter_map(|h| h.prefix.clone()).collect();
        let why = match heads.len() {
            1 => format!("{} targets given; the model was compiled for one output", ys.len()),
            k => format!(
                "{} targets given; the model has {k} outputs ({}): give one per output",
                ys.len(),
                names.join(", ")
            ),
        };
        return Err(TrainError::config(what, why));
    }
    for (y, h) in ys.iter().zip(heads) {
        if y.rank() == 0 || y.shape()[0] != n {
            let expected = format!("targets with {n} rows (one per sample)");
            let layer = match &h.prefix {
                Some(p) => format!("{what} ({p})"),
                None => what.to_string(),
            };
            return Err(TrainError::Shape { layer, expected, got: y.shape().to_vec() });
        }
    }
    Ok(())
}

/// The losses of one batch: the weighted total (what backward runs on, before the penalties)
/// and each output's own. An output with a mask (padded steps) is scored on its real steps.
pub(crate) fn losses(
    heads: &[Head],
    preds: &[Var],
    ys: &[Tensor],
    w: Option<&Tensor>,
    masks: &[Option<Tensor>],
) -> Result<(Var, Vec<Var>)> {
    let mut each = Vec::with_capacity(heads.len());
    let mut total: Option<Var> = None;
    for (k, ((h, p), y)) in heads.iter().zip(preds).zip(ys).enumerate() {
        let l = match masks.get(k).and_then(Option::as_ref) {
            Some(mask) if steps_of(p.shape(), y, mask) => h.loss.forward_masked(p, y, w, mask)?,
            _ => h.loss.forward(p, y, w)?,
        };
        // A lone output of weight 1 is its own total: no extra dispatch.
        let weighted = if h.weight == 1.0 { l.clone() } else { l.mul_scalar(h.weight)? };
        total = Some(match total {
            Some(t) => t.add(&weighted)?,
            None => weighted,
        });
        each.push(l);
    }
    let total = total.ok_or_else(|| TrainError::config("loss", "the model has no outputs to train"))?;
    Ok((total, each))
}

/// Whether `mask` `[n, time]` marks the steps of both predictions of shape `pred` and the
/// targets.
pub(crate) fn steps_of(pred: &[usize], y: &Tensor, mask: &Tensor) -> bool {
    let steps = mask.shape();
    steps.len() == 2 && pred.len() > 2 && pred[..2] == *steps && y.rank() >= 2 && y.shape()[..2] == *steps
}

/// Running sums of a pass over batches (an epoch of `fit`, an `evaluate`), kept on the device:
/// the total loss and each output's, weighted by the batch sizes.
pub(crate) struct LossTotals {
    total: Tensor,
    each: Vec<Tensor>,
    pub(crate) seen: usize,
}

impl LossTotals {
    pub(crate) fn new(dev: &wgtrain_tensor::Device, heads: usize) -> Result<Self> {
        let zero = || Tensor::zeros(dev, &[], DType::F32);
        // A single output's loss is the total's: only several outputs are summed apart.
        let each = if heads > 1 { (0..heads).map(|_| zero()).collect::<std::result::Result<_, _>>()? } else { vec![] };
        Ok(LossTotals { total: zero()?, each, seen: 0 })
    }
    /// Adds a batch of `count` samples: its mean total loss and each output's mean loss.
    pub(crate) fn add(&mut self, total: &Tensor, each: &[Tensor], count: usize) -> Result<()> {
        self.total = self.total.add(&total.mul_scalar(count as f32)?)?;
        for (sum, l) in self.each.iter_mut().zip(each) {
            *sum = sum.add(&l.mul_scalar(count as f32)?)?;
        }
        self.seen += count;
        Ok(())
    }
    /// The log names and sums over samples (a read-back): `loss`, each output's loss, then
    /// every metric's result times the samples seen. Divided by the samples, they are the logs.
    pub(crate) fn sums(&self, heads: &[Head]) -> Result<Vec<(String, f64)>> {
        let seen = self.seen as f64;
        let mut out = vec![("loss".to_string(), self.total.item::<f32>()? as f64)];
        for (h, sum) in heads.iter().zip(&self.each) {
            out.push((h.log_name("loss"), sum.item::<f32>()? as f64));
        }
        for h in heads {
            for m in &h.metrics {
                out.push((h.log_name(&m.name()), m.result()? as f64 * seen));
            }
        }
        Ok(out)
    }
}
