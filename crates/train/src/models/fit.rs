//! `Model::fit`: the Keras training loop.
//!
//! Per batch it records the forward pass, backward and the optimizer step, and adds the batch
//! loss into a device accumulator; metrics accumulate on the device too. The host reads them
//! back only every `log_every` steps and at the end of each epoch, so the GPU is never made to
//! wait per batch.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use wgtrain_autograd::AutogradError;
use wgtrain_tensor::{AugmentOptions, Tensor, TensorError};

use super::Model;
use super::batches::{self, RowTable};
use super::outputs::{self, LossTotals};
use crate::callbacks::Callback;
use crate::data::DataLoader;
use crate::error::{Result, TrainError};
use crate::logs::{History, Logs};

/// Settings of [`Model::fit`]. `Default`: 1 epoch, batch 32, shuffled, progress bar on, a
/// read-back every 50 steps.
pub struct FitOptions {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per optimizer step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Held-out `(inputs, targets)` evaluated after each epoch (`val_` logs), a target per
    /// output; see `validation` and `validation_outputs`.
    pub validation_data: Option<(Vec<Tensor>, Vec<Tensor>)>,
    /// Fraction of the samples, taken from the end before shuffling, held out for validation
    /// (Keras semantics); ignored when `validation_data` is given.
    pub validation_split: f32,
    /// Reshuffle the training samples each epoch (seeded by the model's seed and the epoch).
    pub shuffle: bool,
    /// Called at every hook of the run, in order.
    pub callbacks: Vec<Box<dyn Callback>>,
    /// Progress bar and one line per epoch on the terminal.
    pub verbose: bool,
    /// Steps between read-backs of the running loss and metrics.
    pub log_every: usize,
    /// The epoch to start at (for continuing a run by hand).
    pub initial_epoch: usize,
    /// GPU augmentation of each training batch's images (the first input), drawn anew every
    /// step from the model's seed: random padded crop, flips, normalization.
    pub augment: Option<AugmentOptions>,
    /// Check every parameter and gradient for NaN and infinity after each step (off by
    /// default). The check runs on the device and is read with the loss, every `log_every`
    /// steps; a hit stops `fit` with [`TrainError::NonFinite`] naming the first parameter
    /// concerned. Costs two small dispatches per parameter tensor per step.
    pub check_numerics: bool,
    /// A weight per training sample `[n]` (Keras' `sample_weight`): each sample's loss is
    /// multiplied by it, and the batch loss stays the mean over the batch. With
    /// `validation_split`, the samples held out keep theirs and weight `val_loss` (as Keras).
    /// `fit` only: a loader's batches carry no weights.
    pub sample_weight: Option<Tensor>,
    /// A weight per class (Keras' `class_weight`, as a list by class index): each sample's
    /// loss is multiplied by its class's weight (times its `sample_weight`). For integer
    /// labels, one-hot targets, or binary targets with two weights. A model of several outputs
    /// takes class weights on its classification loss instead (`class_weights` of the
    /// cross-entropies, `pos_weight`), since a class belongs to one output (Keras refuses
    /// `class_weight` there too).
    pub class_weight: Option<Vec<f32>>,
}

impl FitOptions {
    /// Refuses options that cannot describe a run (checked before anything trains).
    fn check(&self) -> Result<()> {
        if self.log_every == 0 {
            return Err(TrainError::config("fit", "log_every must be >= 1 (steps between loss read-backs)"));
        }
        if self.initial_epoch > self.epochs {
            let why = format!("initial_epoch {} is past the last epoch, {}", self.initial_epoch, self.epochs);
            return Err(TrainError::config("fit", why));
        }
        Ok(())
    }
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            validation_data: None,
            validation_split: 0.0,
            shuffle: true,
            callbacks: Vec::new(),
            verbose: true,
            log_every: 50,
            initial_epoch: 0,
            augment: None,
            check_numerics: false,
            sample_weight: None,
            class_weight: None,
        }
    }
}

impl FitOptions {
    /// Sets held-out data of a single-input model.
    pub fn validation(mut self, x: &Tensor, y: &Tensor) -> Self {
        self.validation_data = Some((vec![x.clone()], vec![y.clone()]));
        self
    }
    /// Sets held-out data of any model: its inputs, and a target per output.
    pub fn validation_outputs(mut self, xs: &[Tensor], ys: &[Tensor]) -> Self {
        self.validation_data = Some((xs.to_vec(), ys.to_vec()));
        self
    }
}

/// Where an epoch's training batches come from.
enum Source<'a> {
    /// Device tensors, gathered in a seeded order (or sliced in order), with the samples'
    /// loss weights.
    Tensors { x: Vec<Tensor>, y: Vec<Tensor>, w: Option<Tensor>, batch_size: usize, shuffle: bool },
    /// A loader assembling host batches on worker threads.
    Loader(&'a DataLoader),
}

/// Held-out data evaluated after each epoch.
enum Validation<'a> {
    /// Inputs, a target per output, batch size, and the samples' loss weights.
    Tensors(Vec<Tensor>, Vec<Tensor>, usize, Option<Tensor>),
    Loader(&'a DataLoader),
}

impl Source<'_> {
    fn steps(&self) -> usize {
        match self {
            Source::Tensors { y, batch_size, .. } => y[0].shape()[0].div_ceil(*batch_size),
            Source::Loader(l) => l.len(),
        }
    }
    /// The global batch size.
    fn batch_size(&self) -> usize {
        match self {
            Source::Tensors { batch_size, .. } => *batch_size,
            Source::Loader(l) => l.batch_size(),
        }
    }
}

/// Which rows of each global batch this process trains on: all of them, or its shard
/// (`rank` of `size`).
#[derive(Debug, Clone, Copy)]
struct Sharding {
    rank: usize,
    size: usize,
}

impl Model {
    /// Trains on `x` `[n, ...input shape]` and targets `y` (`[n, ...]` f32, or `[n]` u32 labels).
    /// Returns the per-epoch logs. Callbacks may stop training or change the learning rate.
    ///
    /// ```no_run
    /// # use wgtrain::prelude::*;
    /// # fn main() -> wgtrain::Result<()> {
    /// # let dev = Device::new()?;
    /// # let (x, y) = (Tensor::zeros(&dev, &[64, 2], DType::F32)?, Tensor::zeros(&dev, &[64], DType::U32)?);
    /// let net = Sequential::new(&dev, &[2]).add(Dense::new(16).relu())?.add(Dense::new(2))?;
    /// let mut model = Model::new(net);
    /// model.compile(Adam::new(1e-2), SparseCategoricalCrossEntropy::from_logits(), vec![Box::new(SparseCategoricalAccuracy::new())])?;
    /// let history = model.fit(&x, &y, FitOptions { epochs: 5, batch_size: 16, ..Default::default() })?;
    /// println!("final loss {:?}", history.get("loss").last());
    /// # Ok(()) }
    /// ```
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, o: FitOptions) -> Result<History> {
        self.fit_inputs(std::slice::from_ref(x), y, o)
    }

    /// `fit` for a network with several inputs (in declaration order).
    pub fn fit_inputs(&mut self, xs: &[Tensor], y: &Tensor, o: FitOptions) -> Result<History> {
        self.fit_outputs(xs, std::slice::from_ref(y), o)
    }

    /// `fit` for a model of several outputs (`compile_outputs`): its inputs, and a target per
    /// output, in order. Logs the total `loss` and each output's loss and metrics by its name
    /// (`digit_loss`, `digit_accuracy`, `val_digit_loss`).
    pub fn fit_outputs(&mut self, xs: &[Tensor], ys: &[Tensor], mut o: FitOptions) -> Result<History> {
        let n_all = self.check_batch_input("fit", xs, o.batch_size)?;
        let heads = &self.compiled("fit")?.heads;
        outputs::check_targets("fit", heads, n_all, ys)?;
        if o.class_weight.is_some() && heads.len() > 1 {
            let why = "class_weight is for a model of one output; give the classification output's loss its class weights (CategoricalCrossEntropy::class_weights, SparseCategoricalCrossEntropy::class_weights, BinaryCrossEntropy::pos_weight)";
            return Err(TrainError::config("fit", why));
        }
        if !(0.0..1.0).contains(&o.validation_split) {
            return Err(TrainError::config("fit", format!("validation_split {} is not in [0, 1)", o.validation_split)));
        }
        let sample_weight = o.sample_weight.take();
        if let Some(w) = &sample_weight {
            super::weights::check_sample_weight("fit sample_weight", n_all, w)?;
        }
        let collect = |ts: &[Tensor], f: &dyn Fn(&Tensor) -> std::result::Result<Tensor, TensorError>| {
            ts.iter().map(f).collect::<std::result::Result<Vec<_>, _>>()
        };
        let (x, y, validation) = match o.validation_data.take() {
            Some((vx, vy)) => {
                // Checked now, not after an epoch of training.
                let n_val = self.check_batch_input("fit validation_data", &vx, o.batch_size)?;
                outputs::check_targets("fit validation_data", &self.compiled("fit")?.heads, n_val, &vy)?;
                for (v, t) in vy.iter().zip(ys) {
                    if v.dtype() != t.dtype() || v.shape()[1..] != t.shape()[1..] {
                        let expected = format!(
                            "{:?} targets shaped [n, {:?}...] like the training targets",
                            t.dtype(),
                            &t.shape()[1..]
                        );
                        return Err(TrainError::Shape {
                            layer: "fit validation_data".into(),
                            expected,
                            got: v.shape().to_vec(),
                        });
                    }
                }
                (xs.to_vec(), ys.to_vec(), Some(Validation::Tensors(vx, vy, o.batch_size, None)))
            }
            None if o.validation_split > 0.0 => {
                let n_val = ((n_all as f32) * o.validation_split).floor() as usize;
                let cut = n_all - n_val;
                let head = |t: &Tensor| t.slice(0, 0, cut, 1);
                let tail = |t: &Tensor| t.slice(0, cut, n_all, 1);
                // The held-out samples keep their sample weights (Keras splits them too).
                let vw = sample_weight.as_ref().map(tail).transpose()?;
                let val = (n_val > 0).then_some(Validation::Tensors(
                    collect(xs, &tail)?,
                    collect(ys, &tail)?,
                    o.batch_size,
                    vw,
                ));
                (collect(xs, &head)?, collect(ys, &head)?, val)
            }
            None => (xs.to_vec(), ys.to_vec(), None),
        };
        let n = y[0].shape()[0];
        if n == 0 {
            return Err(TrainError::config("fit", "no training samples"));
        }
        // The training samples' weights: with a validation split, the first rows'.
        let kept = sample_weight.map(|w| w.slice(0, 0, n, 1)).transpose()?;
        let w = super::weights::combine("fit", &y[0], kept.as_ref(), o.class_weight.as_deref())?;
        let source = Source::Tensors { x, y, w, batch_size: o.batch_size, shuffle: o.shuffle };
        self.run_fit(source, validation, o)
    }

    /// `fit` on batches from a [`DataLoader`] (its own batch size and shuffling), validating on
    /// `validation` after each epoch when given.
    pub fn fit_loader(
        &mut self,
        train: &DataLoader,
        validation: Option<&DataLoader>,
        o: FitOptions,
    ) -> Result<History> {
        if train.is_empty() {
            return Err(TrainError::config("fit_loader", "the training loader has no batches"));
        }
        one_output(self, "fit_loader")?;
        if o.sample_weight.is_some() {
            let why = "a loader's batches carry no sample weights: pass the tensors to `fit`, or use class_weight";
            return Err(TrainError::config("fit_loader", why));
        }
        // Checked before training; a label without a weight fails at the next read-back.
        o.class_weight
            .as_deref()
            .map_or(Ok(()), |cw| super::weights::check_class_weight("fit_loader class_weight", cw))?;
        let shape = train.dataset().sample_shape();
        if [shape] != *self.net.input_shapes() {
            let expected = format!("samples of the model's input shape {:?}", self.net.input_shape());
            return Err(TrainError::Shape {
                layer: "fit_loader".into(),
                expected,
                got: train.dataset().sample_shape(),
            });
        }
        self.run_fit(Source::Loader(train), validation.map(Validation::Loader), o)
    }

    /// The loss and metrics over a loader's batches, in inference mode (one read-back).
    pub fn evaluate_loader(&mut self, data: &DataLoader) -> Result<Logs> {
        if data.is_empty() {
            return Err(TrainError::config("evaluate_loader", "the loader has no batches"));
        }
        one_output(self, "evaluate_loader")?;
        let dev = self.device().clone();
        let batches = data.iter(0).map(|batch| {
            let (x, y) = batch?.to_device(&dev)?;
            Ok((vec![x], vec![y], None))
        });
        self.evaluate_batches(batches)
    }

    /// The training loop shared by every `fit`, with `check_numerics` on for its steps; a
    /// non-finite flag read back anywhere in the run is reported with the parameter's name.
    fn run_fit(&mut self, source: Source<'_>, validation: Option<Validation<'_>>, o: FitOptions) -> Result<History> {
        self.check_numerics = o.check_numerics;
        let result = self.run_epochs(source, validation, o);
        self.check_numerics = false;
        result.map_err(|e| match non_finite_tag(&e) {
            Some(tag) => {
                let params = self.net.params();
                let param = params.get(tag as usize).map_or_else(|| format!("#{tag}"), |p| p.name.clone());
                TrainError::NonFinite { param, step: self.global_step }
            }
            None => e,
        })
    }

    fn run_epochs(
        &mut self,
        source: Source<'_>,
        validation: Option<Validation<'_>>,
        mut o: FitOptions,
    ) -> Result<History> {
        // Hyper-parameters out of range (a NaN learning rate, ...) stop the run before it starts.
        self.compiled("fit")?.optimizer.validate()?;
        o.check()?;
        let mut callbacks = std::mem::take(&mut o.callbacks);
        self.stop_training = false;
        self.stop_reason = None;
        self.resume_from = None;
        self.restored_callbacks = None;
        for cb in &mut callbacks {
            cb.on_train_begin(self)?;
        }
        // A callback that resumed the run (`BackupAndRestore`) loaded a checkpoint: the other
        // callbacks continue from their saved states, after their own `on_train_begin`.
        match self.resume_from {
            Some(_) => {
                self.restore_callback_states(&mut callbacks)?;
            }
            None => self.restored_callbacks = None,
        }
        let start = self.resume_from.take().unwrap_or(o.initial_epoch);
        if start > o.epochs {
            let why = format!(
                "the run resumes after epoch {start}, past the {} epochs asked for (a backup of a longer run?)",
                o.epochs
            );
            return Err(TrainError::config("fit", why));
        }
        let steps = source.steps();
        let sharding = self.dist.as_ref().map(|d| Sharding { rank: d.rank(), size: d.size() });
        if let Some(d) = &self.dist {
            d.check_batch("fit", source.batch_size())?;
        }
        // Only one process of a distributed run prints.
        let verbose = o.verbose && self.is_chief();
        // From here on an error may be this process's alone, while the others wait for it in
        // the next collective: in a distributed run it ends them all (see `abort_alone`).
        let run = (|| -> Result<History> {
            let mut history = History::default();
            let mut last = Logs::new();
            for epoch in start..o.epochs {
                for cb in &mut callbacks {
                    cb.on_epoch_begin(self, epoch)?;
                }
                let t0 = Instant::now();
                let bar = progress(verbose, steps, epoch, o.epochs);
                // A distributed run gathers only its shard, unless the whole batch is augmented
                // first (its draws go by the sample's place in the batch).
                let gather_shard = sharding.filter(|_| o.augment.is_none());
                let mut batches = self.epoch_batches(&source, epoch, gather_shard)?;
                let heads = self.compiled("fit")?.heads.len();
                let mut totals = LossTotals::new(self.device(), heads)?;
                self.compiled("fit")?.reset_metrics();
                let mut batch_logs = Logs::new();
                for b in 0..steps {
                    for cb in &mut callbacks {
                        cb.on_train_batch_begin(self, b)?;
                    }
                    let Some(batch) = batches.next() else { break };
                    let DeviceBatch { x: mut xb, y: yb, mut w, first, global } = batch?;
                    if w.is_none()
                        && let Some(cw) = &o.class_weight
                    {
                        // A loader's batch: its samples' class weights.
                        w = Some(super::weights::class_weights("fit_loader class_weight", &yb[0], cw)?);
                    }
                    if let Some(a) = &o.augment {
                        // A fresh draw per step, repeatable from the model's seed.
                        let seed = (self.seed ^ self.global_step.wrapping_mul(0x9e37_79b9)) as u32;
                        xb[0] = xb[0].augment_images(&AugmentOptions { seed, ..a.clone() })?;
                    }
                    // A batch too small to give every process a sample (a last batch) is skipped
                    // alike by every process.
                    if sharding.is_none_or(|s| global >= s.size) {
                        let (xb, yb, wb, first) = match sharding {
                            Some(s) if yb[0].shape()[0] == global => {
                                let r = crate::distributed::shard(global, s.rank, s.size);
                                let xs =
                                    xb.iter().map(|t| batches::rows(t, r.start, r.end)).collect::<Result<Vec<_>>>()?;
                                let ys =
                                    yb.iter().map(|t| batches::rows(t, r.start, r.end)).collect::<Result<Vec<_>>>()?;
                                let ws = w.map(|t| batches::rows(&t, r.start, r.end)).transpose()?;
                                (xs, ys, ws, r.start)
                            }
                            _ => (xb, yb, w, first),
                        };
                        let count = yb[0].shape()[0];
                        self.shard = sharding.map(|_| (first as u64, count as f32 / global as f32));
                        let step = self.step(&xb, &yb, wb.as_ref());
                        self.shard = None;
                        let step = step?;
                        totals.add(&step.loss, &step.each, count)?;
                        self.compiled("fit")?.update_metrics(&step.preds, &yb, &step.masks)?;
                    }
                    if (b + 1) % o.log_every == 0 || b + 1 == steps {
                        batch_logs = self.read_logs(&totals)?;
                        bar.set_message(batch_logs.line());
                    }
                    bar.inc(1);
                    for cb in &mut callbacks {
                        cb.on_train_batch_end(self, b, &batch_logs)?;
                    }
                    if let Some(d) = &self.dist {
                        // A callback may stop training on one process only (a clock, a file):
                        // every process stops if any does, at the same step.
                        self.stop_training = !crate::distributed::all(d.collective(), !self.stop_training);
                    }
                    if self.stop_training {
                        break;
                    }
                }
                drop(batches);
                let mut logs = batch_logs;
                if let Some(v) = &validation {
                    for cb in &mut callbacks {
                        cb.on_test_begin(self)?;
                    }
                    let val = match v {
                        Validation::Tensors(vx, vy, bs, vw) => self.evaluate_outputs(vx, vy, vw.as_ref(), *bs)?,
                        Validation::Loader(l) => self.evaluate_loader(l)?,
                    };
                    for cb in &mut callbacks {
                        cb.on_test_end(self, &val)?;
                    }
                    for (k, v) in val.iter() {
                        logs.set(format!("val_{k}"), v);
                    }
                }
                if let Some(lr) = self.learning_rate() {
                    logs.set("lr", lr);
                }
                if let Some(d) = &self.dist {
                    // Validation on per-process batch statistics can differ: every process
                    // logs, and its callbacks decide on, rank 0's figures.
                    logs = crate::distributed::rank0_logs(d.collective(), &logs)?;
                }
                bar.finish_and_clear();
                if verbose {
                    println!("Epoch {}/{} - {:.1}s - {}", epoch + 1, o.epochs, t0.elapsed().as_secs_f64(), logs.line());
                }
                self.epochs_done = epoch + 1;
                for cb in &mut callbacks {
                    cb.on_epoch_end(self, epoch, &logs)?;
                }
                self.commit_epoch(&mut callbacks, epoch)?;
                if let Some(d) = &self.dist {
                    self.stop_training = !crate::distributed::all(d.collective(), !self.stop_training);
                }
                history.epochs.push(epoch);
                history.logs.push(logs.clone());
                last = logs;
                if self.stop_training {
                    break;
                }
            }
            for cb in &mut callbacks {
                cb.on_train_end(self, &last)?;
            }
            history.stop_reason = self.stop_reason.take();
            Ok(history)
        })();
        self.abort_alone(run)
    }

    /// In a distributed run of several processes, an error that may be this process's alone (a
    /// device fault, an unreadable batch: anything during training or `distribute`'s transfer)
    /// ends every process (MPI's abort, after printing it), since the others would wait for it
    /// forever in their next collective.
    pub(crate) fn abort_alone<T>(&self, result: Result<T>) -> Result<T> {
        if let (Err(e), Some(d)) = (&result, &self.dist)
            && d.size() > 1
        {
            eprintln!("error on process {} of {}: {e}; ending every process (MPI abort)", d.rank(), d.size());
            d.abort(1);
        }
        result
    }

    /// Gathers every callback's state at the end of `epoch` and runs the commit hooks (where
    /// `BackupAndRestore` saves them with the model).
    fn commit_epoch(&mut self, callbacks: &mut [Box<dyn Callback>], epoch: usize) -> Result<()> {
        let mut states = Vec::new();
        for (i, cb) in callbacks.iter().enumerate() {
            if let Some(s) = cb.state()? {
                states.push((i, s));
            }
        }
        self.callback_states = states;
        let result = callbacks.iter_mut().try_for_each(|cb| cb.on_epoch_commit(self, epoch));
        self.callback_states.clear();
        result
    }

    /// The batches of `epoch` on the device: whole, or only the rows of `shard`'s process.
    fn epoch_batches<'s>(
        &self,
        source: &'s Source<'_>,
        epoch: usize,
        shard: Option<Sharding>,
    ) -> Result<Box<dyn Iterator<Item = Result<DeviceBatch>> + 's>> {
        let dev = self.device().clone();
        Ok(match source {
            Source::Tensors { x, y, w, batch_size, shuffle } => {
                let n = y[0].shape()[0];
                // Shuffled: the tables are prepared once per epoch, not per batch.
                let order = if *shuffle {
                    let tables = x.iter().map(RowTable::new).collect::<Result<Vec<_>>>()?;
                    let order = self.permutation(n, epoch);
                    let on_device = Tensor::from_slice(&dev, &order, &[n])?;
                    let w_table = w.as_ref().map(RowTable::new).transpose()?;
                    let y_tables = y.iter().map(RowTable::new).collect::<Result<Vec<_>>>()?;
                    Some((order, on_device, tables, y_tables, w_table))
                } else {
                    None
                };
                let bs = *batch_size;
                Box::new((0..n.div_ceil(bs)).map(move |b| {
                    let (s0, e0) = (b * bs, ((b + 1) * bs).min(n));
                    let global = e0 - s0;
                    let rows = shard.map_or(0..global, |d| crate::distributed::shard(global, d.rank, d.size));
                    let (s, e) = (s0 + rows.start, s0 + rows.end);
                    let (x, y, w) = match &order {
                        Some((order, on_device, x_tables, y_tables, w_table)) => {
                            let ids = &order[s..e];
                            let device_ids = on_device.slice(0, s, e, 1)?;
                            let gather = |tables: &[RowTable]| {
                                tables.iter().map(|t| t.gather(ids, &device_ids)).collect::<Result<Vec<_>>>()
                            };
                            let wb = w_table.as_ref().map(|t| t.gather(ids, &device_ids)).transpose()?;
                            (gather(x_tables)?, gather(y_tables)?, wb)
                        }
                        None => {
                            let cut =
                                |ts: &[Tensor]| ts.iter().map(|t| batches::rows(t, s, e)).collect::<Result<Vec<_>>>();
                            let wb = w.as_ref().map(|t| batches::rows(t, s, e)).transpose()?;
                            (cut(x)?, cut(y)?, wb)
                        }
                    };
                    Ok(DeviceBatch { x, y, w, first: rows.start, global })
                }))
            }
            // The loader assembles whole batches; `fit` cuts the shard.
            Source::Loader(l) => Box::new(l.iter(epoch).map(move |b| {
                let (x, y) = b?.to_device(&dev)?;
                let global = y.shape()[0];
                Ok(DeviceBatch { x: vec![x], y: vec![y], w: None, first: 0, global })
            })),
        })
    }

    /// The epoch's sample order: a seeded shuffle, so a resumed run repeats it.
    fn permutation(&self, n: usize, epoch: usize) -> Vec<u32> {
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        order.shuffle(&mut rng);
        order
    }

    /// One read-back: the mean losses so far and every metric's result. In a distributed run,
    /// of every process's samples: the loss sums and counts are summed over processes, and
    /// each metric is the mean of the processes' results weighted by their samples (exact for
    /// the metrics that are means over samples, as accuracy and the errors are).
    fn read_logs(&mut self, totals: &LossTotals) -> Result<Logs> {
        let named = totals.sums(&self.compiled("fit")?.heads)?;
        let mut sums: Vec<f64> = named.iter().map(|(_, v)| *v).collect();
        sums.push(totals.seen as f64);
        if let Some(d) = &self.dist {
            d.collective().sum_f64(&mut sums);
        }
        let total = sums.pop().unwrap_or(0.0).max(1.0);
        let mut logs = Logs::new();
        for ((name, _), sum) in named.into_iter().zip(sums) {
            logs.set(name, (sum / total) as f32);
        }
        Ok(logs)
    }
}

/// Refuses a loader-fed run of a model of several outputs: a loader's batches hold one target.
fn one_output(model: &mut Model, what: &str) -> Result<()> {
    let heads = model.compiled(what)?.heads.len();
    if heads > 1 {
        let why = format!("a loader's batches hold one target; the model has {heads} outputs: use fit_outputs");
        return Err(TrainError::config(what, why));
    }
    Ok(())
}

/// The tag of a non-finite flag (`check_numerics`) that `e` carries, if it is one.
fn non_finite_tag(e: &TrainError) -> Option<u32> {
    match e {
        TrainError::Tensor(TensorError::NonFinite { tag })
        | TrainError::Autograd(AutogradError::Tensor(TensorError::NonFinite { tag })) => Some(*tag),
        _ => None,
    }
}

/// A batch on the device: one tensor per input and a target per output, rows `first..` of a global
/// batch of `global` samples (all of it, unless a distributed run gathered its shard).
struct DeviceBatch {
    x: Vec<Tensor>,
    y: Vec<Tensor>,
    /// The samples' loss weights, if any.
    w: Option<Tensor>,
    first: usize,
    global: usize,
}

fn progress(verbose: bool, steps: usize, epoch: usize, epochs: usize) -> ProgressBar {
    if !verbose {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps as u64);
    let style = ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} [{elapsed}<{eta}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(format!("Epoch {}/{epochs}", epoch + 1));
    bar
}
