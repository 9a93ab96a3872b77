//! [`Model`]: a network plus what trains it.

use wgtrain_autograd::{Var, no_grad};
use wgtrain_tensor::{DType, Device, LossScale, Tensor};

use super::outputs::{self, Head, LossTotals, OutputLoss};
use super::{Network, summary};
use crate::distributed::{CommStats, Distributed};
use crate::error::{Result, TrainError};
use crate::layers::Ctx;
use crate::logs::Logs;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::optim::{LossScaleOptimizer, Optimizer, global_norm};
use crate::param::Param;
use crate::policy::Policy;

/// What `compile` sets: how to learn and what to report.
pub struct Compiled {
    /// Updates the parameters in `train_step` and `fit`.
    pub optimizer: Box<dyn Optimizer>,
    /// Each output's loss, loss weight and metrics, in output order.
    pub(crate) heads: Vec<Head>,
}

impl Compiled {
    /// Clears every output's metrics (an epoch or an evaluation starts).
    pub(crate) fn reset_metrics(&mut self) {
        self.heads.iter_mut().flat_map(|h| h.metrics.iter_mut()).for_each(|m| m.reset());
    }
    /// Adds a batch's predictions and targets (one per output) to every output's metrics; an
    /// output with a mask over its steps is scored on its real steps.
    pub(crate) fn update_metrics(&mut self, preds: &[Tensor], ys: &[Tensor], masks: &[Option<Tensor>]) -> Result<()> {
        for (k, ((h, p), y)) in self.heads.iter_mut().zip(preds).zip(ys).enumerate() {
            let mask = masks.get(k).and_then(Option::as_ref).filter(|m| outputs::steps_of(p.shape(), y, m));
            for m in &mut h.metrics {
                match mask {
                    Some(mask) => m.update_masked(p, y, mask)?,
                    None => m.update(p, y)?,
                }
            }
        }
        Ok(())
    }
}

/// What one training step returns: the total loss `[]` (penalties included), each output's
/// own loss (several outputs only), and the predictions, all still on the device.
pub(crate) struct Step {
    pub(crate) loss: Tensor,
    pub(crate) each: Vec<Tensor>,
    pub(crate) preds: Vec<Tensor>,
    /// The outputs' masks (padded steps), for the metrics.
    pub(crate) masks: Vec<Option<Tensor>>,
}

/// A network with its training configuration: `compile`, then `fit`, `evaluate`, `predict`;
/// or drive it yourself with `train_step` / `forward` (custom loops, GANs). See
/// [`compile`](Self::compile) for a complete example, [`save`](Self::save) for checkpoints.
pub struct Model {
    pub(crate) net: Box<dyn Network>,
    pub(crate) compiled: Option<Compiled>,
    /// Set by a callback to end `fit` after the current epoch (Keras' `stop_training`).
    pub stop_training: bool,
    /// Set by a callback that stops `fit` to say why; `fit` clears it when it starts and
    /// returns it in `History::stop_reason`.
    pub stop_reason: Option<crate::logs::StopReason>,
    /// Seed of shuffling and dropout; a run is repeatable from it.
    pub(crate) seed: u64,
    /// Optimizer steps taken (also the dropout stream position).
    pub(crate) global_step: u64,
    /// Epochs completed by `fit`, for checkpoints and resuming.
    pub(crate) epochs_done: usize,
    /// Set by `BackupAndRestore` when `fit` must continue an interrupted run at this epoch.
    pub(crate) resume_from: Option<usize>,
    /// Every `train_step`'s global gradient norm (device scalars), while recording.
    pub(crate) grad_norms: Option<Vec<Tensor>>,
    /// `fit`'s `check_numerics`: each `train_step` flags a non-finite parameter or gradient on
    /// the device (tagged by its position in `params()`), read with the next read-back.
    pub(crate) check_numerics: bool,
    /// The states of `fit`'s callbacks (by position) while it commits an epoch, so a `save`
    /// then keeps them; empty otherwise.
    pub(crate) callback_states: Vec<(usize, crate::callbacks::CallbackState)>,
    /// Callback states read by the last `load`, restored by `fit` when a callback loaded the
    /// checkpoint in `on_train_begin` (a resume).
    pub(crate) restored_callbacks: Option<std::collections::BTreeMap<usize, crate::checkpoint::SavedCallback>>,
    /// The dtypes layers compute in and keep variables in (`set_policy`).
    pub(crate) policy: Policy,
    /// The processes training this model together (`distribute`), if any.
    pub(crate) dist: Option<Distributed>,
    /// Set by `fit` for the step it runs: the row of the global batch the step's shard
    /// starts at, and the shard's share of the global batch (its gradient's weight).
    pub(crate) shard: Option<(u64, f32)>,
    /// Where the gradient all-reduces spent their time since the last `take_comm_stats`.
    pub(crate) comm: CommStats,
    /// The losses the last forward pass's layers added (activity regularizers).
    pub(crate) pass_losses: Vec<Var>,
    /// The masks of the last forward pass's outputs (padded steps the loss leaves out).
    pub(crate) pass_masks: Vec<Option<Tensor>>,
}

impl Model {
    /// Wraps `net`; call [`compile`](Self::compile) before training or evaluating. Seed 0.
    pub fn new(net: impl Network + 'static) -> Self {
        Self::from_network(Box::new(net))
    }
    /// Wraps a boxed network (rebuilt by `load_model`, or chosen at run time).
    pub fn from_network(net: Box<dyn Network>) -> Self {
        Model {
            net,
            compiled: None,
            stop_training: false,
            stop_reason: None,
            seed: 0,
            global_step: 0,
            epochs_done: 0,
            resume_from: None,
            grad_norms: None,
            check_numerics: false,
            callback_states: Vec::new(),
            restored_callbacks: None,
            policy: Policy::float32(),
            dist: None,
            shard: None,
            comm: CommStats::default(),
            pass_losses: Vec::new(),
            pass_masks: Vec::new(),
        }
    }
    /// Trains data-parallel with the processes of `dist` (see [`crate::distributed`]): checks
    /// that every process built the same model (the error names the first difference), then
    /// gives every process rank 0's weights, buffers, optimizer state, seed and counters. From
    /// then on `fit` and `fit_loader` shard each global batch among the processes and sum the
    /// gradients, `train_step` sums them too, and only rank 0 prints and writes files. Call it
    /// on every process, after `compile` (and `set_policy`).
    pub fn distribute(&mut self, dist: &Distributed) -> Result<()> {
        self.compiled("distribute")?;
        // Errors every rank meets alike are returned...
        crate::distributed::agree(dist.collective(), self)?;
        crate::distributed::replicable(self)?;
        self.dist = Some(dist.clone());
        // ...one in the transfer may be this rank's alone: it ends every process.
        let sent = crate::distributed::broadcast_state(dist.collective(), self);
        if sent.is_err() {
            let sent = self.abort_alone(sent);
            self.dist = None;
            return sent;
        }
        Ok(())
    }
    /// The processes this model trains with, if `distribute` was called.
    pub fn distribution(&self) -> Option<&Distributed> {
        self.dist.as_ref()
    }
    /// Whether this process prints, logs and writes files: rank 0, or a model trained alone.
    pub fn is_chief(&self) -> bool {
        self.dist.as_ref().is_none_or(Distributed::is_chief)
    }
    /// Where the gradient all-reduces spent their time since the last call (zero when not
    /// distributed), and resets it.
    pub fn take_comm_stats(&mut self) -> CommStats {
        std::mem::take(&mut self.comm)
    }
    /// Sets the mixed-precision policy (Keras' `mixed_precision.set_global_policy`, per model):
    /// under [`Policy::mixed_float16`] layers with weights compute in f16 while the weights stay
    /// f32, the model's output is f32, and the optimizer gets a dynamic loss scale (one that
    /// `compile` was given, or a [`LossScaleOptimizer`] wrapped around it). Needs the adapter's
    /// `SHADER_F16`: without it the call fails and the policy stays as it was.
    pub fn set_policy(&mut self, policy: Policy) -> Result<()> {
        if policy.is_mixed() && !self.device().has_f16() {
            let why =
                format!("{} needs an adapter with SHADER_F16 ({} has none)", policy.name(), self.device().adapter());
            return Err(TrainError::config("set_policy", why));
        }
        let needs_scale = self.compiled.as_ref().is_some_and(|c| c.optimizer.loss_scale().is_none());
        if policy.is_mixed() && needs_scale {
            // The fallible part first: a failure leaves the optimizer and the policy as they were.
            let scale = LossScale::new(self.device())?;
            if let Some(Compiled { optimizer, heads }) = self.compiled.take() {
                let optimizer = Box::new(LossScaleOptimizer::from_parts(optimizer, scale));
                self.compiled = Some(Compiled { optimizer, heads });
            }
        }
        self.policy = policy;
        Ok(())
    }
    /// The mixed-precision policy (default float32).
    pub fn policy(&self) -> Policy {
        self.policy
    }
    /// The seed of shuffling and dropout (default 0).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The device of the network's parameters.
    pub fn device(&self) -> &Device {
        self.net.device()
    }
    /// The wrapped network.
    pub fn network(&self) -> &dyn Network {
        self.net.as_ref()
    }
    /// Every parameter, named by its layer path (frozen ones included).
    pub fn params(&self) -> Vec<Param> {
        self.net.params()
    }
    /// Optimizer steps taken so far.
    pub fn global_step(&self) -> u64 {
        self.global_step
    }
    /// Epochs `fit` has completed (a resumed fit continues from here).
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// Sets the optimizer, the loss and the metrics reported by fit and evaluate (replacing an
    /// earlier configuration, and with it the optimizer's state).
    ///
    /// ```no_run
    /// use wgtrain::prelude::*;
    /// # fn main() -> wgtrain::Result<()> {
    /// let dev = Device::new()?;
    /// let x = Tensor::rand_uniform(&dev, &[512, 2], -1.0, 1.0, 1)?;
    /// let y = x.sum(&[1], false)?.gt_scalar(0.0)?.cast(DType::U32)?; // class 1 when x0 + x1 > 0
    /// let net = Sequential::new(&dev, &[2]).add(Dense::new(16).relu())?.add(Dense::new(2))?;
    /// let mut model = Model::new(net).with_seed(42);
    /// model.compile(
    ///     Adam::new(1e-2),
    ///     SparseCategoricalCrossEntropy::from_logits(),
    ///     vec![Box::new(SparseCategoricalAccuracy::new())],
    /// )?;
    /// let history = model.fit(
    ///     &x,
    ///     &y,
    ///     FitOptions {
    ///         epochs: 20,
    ///         batch_size: 64,
    ///         validation_split: 0.2,
    ///         callbacks: vec![Box::new(EarlyStopping::new("val_loss").patience(3))],
    ///         ..Default::default()
    ///     },
    /// )?;
    /// println!("val accuracy per epoch: {:?}", history.get("val_accuracy"));
    /// let logs = model.evaluate(&x, &y, 256)?;
    /// println!("loss {:?}", logs.get("loss"));
    /// # Ok(()) }
    /// ```
    ///
    /// An optimizer whose hyper-parameters make no sense (a NaN or negative learning rate, a
    /// beta outside [0, 1), ...) is refused here, naming the parameter and its value. A model
    /// of several outputs is compiled with [`compile_outputs`](Self::compile_outputs).
    pub fn compile(
        &mut self,
        optimizer: impl Optimizer + 'static,
        loss: impl Loss + 'static,
        metrics: Vec<Box<dyn Metric>>,
    ) -> Result<()> {
        let names = self.net.output_names();
        if names.len() > 1 {
            let why = format!(
                "the model has {} outputs ({}): compile_outputs takes a loss per output",
                names.len(),
                names.join(", ")
            );
            return Err(TrainError::config("compile", why));
        }
        self.set_compiled(Box::new(optimizer), vec![Head::single(Box::new(loss), metrics)])
    }

    /// `compile` for a model of several outputs (Keras' `compile(loss={...}, loss_weights={...},
    /// metrics={...})`): one [`OutputLoss`] per output, by name or in order. Training minimizes
    /// `sum(weight_k * loss_k)` (plus the regularization penalties), logged as `loss`; each
    /// output's loss and metrics are logged under its name (`digit_loss`, `digit_accuracy`,
    /// `val_digit_loss`), where callbacks can monitor them. `fit_outputs`, `evaluate_outputs`
    /// and `train_step_outputs` then take a target per output.
    ///
    /// ```no_run
    /// use wgtrain::prelude::*;
    /// # fn main() -> wgtrain::Result<()> {
    /// let dev = Device::new()?;
    /// # let x_train = Tensor::rand_uniform(&dev, &[256, 1, 28, 28], 0.0, 1.0, 1)?;
    /// # let digits = Tensor::from_slice(&dev, &(0..256).map(|i| i % 10).collect::<Vec<u32>>(), &[256])?;
    /// # let sizes = x_train.mean(&[1, 2, 3], false)?.reshape(&[256, 1])?;
    /// let mut g = Functional::new(&dev);
    /// let image = g.input("image", &[1, 28, 28]);
    /// let x = g.apply(Conv2d::new(32, [3, 3]).relu().kernel_regularizer(Regularizer::L2(1e-4)), image)?;
    /// let x = g.apply(Flatten::new(), x)?;
    /// let trunk = g.apply(Dense::new(64).relu().activity_regularizer(Regularizer::L1(1e-5)), x)?;
    /// let digit = g.apply(Dense::new(10).named("digit"), trunk)?; // logits of the class
    /// let size = g.apply(Dense::new(1).named("size"), trunk)?; // a regression head
    /// g.set_outputs(&[digit, size])?;
    /// let mut model = Model::new(g);
    /// model.compile_outputs(
    ///     Adam::new(1e-3),
    ///     vec![
    ///         // Rare digits count more: class weights on this output's loss.
    ///         OutputLoss::named(
    ///             "digit",
    ///             SparseCategoricalCrossEntropy::from_logits()
    ///                 .class_weights(Tensor::from_slice(&dev, &[1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0, 1.0], &[10])?),
    ///         )
    ///         .metric(SparseCategoricalAccuracy::new()),
    ///         OutputLoss::named("size", MeanSquaredError).weight(0.5), // Keras' loss_weights
    ///     ],
    /// )?;
    /// let history = model.fit_outputs(
    ///     &[x_train],
    ///     &[digits, sizes],
    ///     FitOptions {
    ///         epochs: 5,
    ///         validation_split: 0.1,
    ///         callbacks: vec![Box::new(EarlyStopping::new("val_digit_loss").patience(2))],
    ///         ..Default::default()
    ///     },
    /// )?; // logs loss, digit_loss, size_loss, digit_accuracy and their val_ twins
    /// println!("{:?}", history.get("val_digit_accuracy"));
    /// model.save("ckpt/two_heads")?;
    /// let restored = wgtrain::models::load_model("ckpt/two_heads", &dev)?; // no code needed
    /// # let _ = restored;
    /// # Ok(()) }
    /// ```
    pub fn compile_outputs(&mut self, optimizer: impl Optimizer + 'static, outputs: Vec<OutputLoss>) -> Result<()> {
        let heads = outputs::heads(&self.net.output_names(), outputs)?;
        self.set_compiled(Box::new(optimizer), heads)
    }

    pub(crate) fn set_compiled(&mut self, optimizer: Box<dyn Optimizer>, heads: Vec<Head>) -> Result<()> {
        optimizer.validate()?;
        let optimizer = with_loss_scale(optimizer, self.policy, self.device())?;
        self.compiled = Some(Compiled { optimizer, heads });
        Ok(())
    }
    pub(crate) fn compiled(&mut self, what: &str) -> Result<&mut Compiled> {
        self.compiled
            .as_mut()
            .ok_or_else(|| TrainError::config(what, "the model is not compiled: call compile() first"))
    }
    /// The optimizer set by `compile`.
    pub fn optimizer(&mut self) -> Result<&mut dyn Optimizer> {
        Ok(self.compiled("optimizer")?.optimizer.as_mut())
    }
    /// The current learning rate (`None` before `compile`).
    pub fn learning_rate(&self) -> Option<f32> {
        self.compiled.as_ref().map(|c| c.optimizer.learning_rate())
    }
    /// Sets the optimizer's learning rate; an error before `compile`, or for a NaN, infinite or
    /// negative rate (the rate then stays as it was).
    pub fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        self.compiled("set_learning_rate")?.optimizer.set_learning_rate(lr)
    }

    /// Runs the network on a batch, recording the graph when `training` (dropout on, batch
    /// norm on batch statistics) unless inside `no_grad`. A model of several outputs returns
    /// its first here; [`forward_outputs`](Self::forward_outputs) returns them all.
    pub fn forward(&mut self, x: &Var, training: bool) -> Result<Var> {
        self.forward_inputs(std::slice::from_ref(x), training)
    }
    /// `forward` for a network with several inputs (in declaration order).
    pub fn forward_inputs(&mut self, xs: &[Var], training: bool) -> Result<Var> {
        let mut ctx = self.pass_ctx(training);
        let out = self.net.forward_inputs(xs, &mut ctx)?;
        self.pass_losses = ctx.take_losses();
        to_f32(out)
    }
    /// Every output of the network on a batch (in `set_outputs` order).
    pub fn forward_outputs(&mut self, xs: &[Var], training: bool) -> Result<Vec<Var>> {
        let mut ctx = self.pass_ctx(training);
        let outs = self.net.forward_outputs(xs, &mut ctx)?;
        self.pass_losses = ctx.take_losses();
        self.pass_masks = ctx.take_output_masks();
        outs.into_iter().map(to_f32).collect()
    }
    fn pass_ctx(&self, training: bool) -> Ctx {
        Ctx::new(training, self.seed ^ self.global_step.wrapping_mul(0x2545_f491_4f6c_dd1d))
            .with_compute_dtype(self.policy.compute_dtype())
            .with_first_sample(self.shard.map_or(0, |s| s.0))
    }

    /// One optimization step on a batch (forward, loss, backward, optimizer step, zero grads):
    /// the building block of `fit`, public for custom loops. Returns the batch loss `[]` and
    /// the predictions, still on the device (nothing is read back).
    pub fn train_step(&mut self, x: &Tensor, y: &Tensor) -> Result<(Tensor, Tensor)> {
        self.train_step_inputs(std::slice::from_ref(x), y)
    }
    /// `train_step` for a network with several inputs.
    pub fn train_step_inputs(&mut self, xs: &[Tensor], y: &Tensor) -> Result<(Tensor, Tensor)> {
        self.train_step_weighted_inputs(xs, y, None)
    }
    /// `train_step` with a loss weight per sample `[n]` (Keras' `sample_weight`): the batch
    /// loss is `sum(w_i l_i) / n`.
    pub fn train_step_weighted(&mut self, x: &Tensor, y: &Tensor, sample_weight: &Tensor) -> Result<(Tensor, Tensor)> {
        self.train_step_weighted_inputs(std::slice::from_ref(x), y, Some(sample_weight))
    }
    /// `train_step` for several inputs, with optional per-sample loss weights.
    pub fn train_step_weighted_inputs(
        &mut self,
        xs: &[Tensor],
        y: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor)> {
        let step = self.step(xs, std::slice::from_ref(y), sample_weight)?;
        Ok((step.loss, step.preds.into_iter().next().expect("one output")))
    }
    /// `train_step` for a model of several outputs (`compile_outputs`): a target per output,
    /// optional per-sample loss weights (applied to every output's loss). Returns the total
    /// loss `[]` and every output's predictions, on the device.
    pub fn train_step_outputs(
        &mut self,
        xs: &[Tensor],
        ys: &[Tensor],
        sample_weight: Option<&Tensor>,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let step = self.step(xs, ys, sample_weight)?;
        Ok((step.loss, step.preds))
    }

    /// The step behind every `train_step` and `fit`.
    pub(crate) fn step(&mut self, xs: &[Tensor], ys: &[Tensor], sample_weight: Option<&Tensor>) -> Result<Step> {
        let n = xs.first().and_then(|x| x.shape().first().copied()).unwrap_or(0);
        outputs::check_targets("train_step", &self.compiled("train_step")?.heads, n, ys)?;
        if let Some(w) = sample_weight {
            super::weights::check_sample_weight("train_step sample_weight", n, w)?;
        }
        let vars: Vec<Var> = xs.iter().map(|x| Var::constant(x.clone())).collect();
        let preds = self.forward_outputs(&vars, true)?;
        let masks = std::mem::take(&mut self.pass_masks);
        let (loss, each) = outputs::losses(&self.compiled("train_step")?.heads, &preds, ys, sample_weight, &masks)?;
        let loss = self.with_penalties(loss)?;
        let c = self.compiled("train_step")?;
        // With a loss scale (mixed precision), backward runs on the scaled loss; the loss
        // returned and logged stays unscaled.
        match c.optimizer.loss_scale() {
            Some(scale) => loss.mul(&Var::constant(scale.scale()?))?.backward()?,
            None => loss.backward()?,
        }
        let params = self.net.params();
        if let Some(dist) = &self.dist {
            // The gradient of the global batch: every shard's, weighted by its share.
            let weight = self.shard.map_or(1.0 / dist.size() as f32, |s| s.1);
            self.comm += dist.all_reduce_grads_weighted(&params, weight)?;
        }
        if self.grad_norms.is_some() {
            // Norms are of the true gradients.
            self.compiled("train_step")?.optimizer.unscale_grads(&params)?;
        }
        if let Some(log) = &mut self.grad_norms
            && let Some(norm) = global_norm(&params)?
        {
            log.push(norm);
        }
        self.compiled("train_step")?.optimizer.step(&params)?;
        self.net.apply_constraints()?;
        if self.check_numerics {
            // Under a loss scale an overflowing gradient is expected: the step was skipped on
            // the device and the scale halved. The weights are what must stay finite.
            let scaled = self.compiled("train_step")?.optimizer.loss_scale().is_some();
            check_finite(&params, !scaled)?;
        }
        params.iter().for_each(|p| p.var.zero_grad());
        self.global_step += 1;
        let each = if each.len() > 1 { each.iter().map(|l| l.data().clone()).collect() } else { Vec::new() };
        let preds = preds.iter().map(|p| p.data().clone()).collect();
        Ok(Step { loss: loss.data().clone(), each, preds, masks })
    }

    /// The losses the last forward pass's layers added (activity regularizers), taken out: a
    /// custom loop adds them to its loss, as `train_step` does (with the weight penalties,
    /// `network().weight_penalties()`).
    pub fn take_layer_losses(&mut self) -> Vec<Var> {
        std::mem::take(&mut self.pass_losses)
    }

    /// The loss plus the regularization losses, as Keras adds them (and logs the sum): the last
    /// pass's activity penalties and every layer's weight penalties.
    pub(crate) fn with_penalties(&mut self, loss: Var) -> Result<Var> {
        let mut total = loss;
        for p in std::mem::take(&mut self.pass_losses).into_iter().chain(self.net.weight_penalties()?) {
            total = total.add(&p)?;
        }
        Ok(total)
    }

    /// Starts (or stops, dropping what was kept) recording the global L2 norm of the gradients
    /// at every `train_step`, before clipping. The norms stay on the device until
    /// [`Model::take_grad_norms`] reads them all back at once (TensorBoard does so per epoch).
    pub fn record_grad_norms(&mut self, on: bool) {
        self.grad_norms = on.then(Vec::new);
    }

    /// The gradient norms recorded since the last call, oldest first, in one read-back; empty
    /// when not recording.
    pub fn take_grad_norms(&mut self) -> Result<Vec<f32>> {
        let Some(log) = &mut self.grad_norms else { return Ok(Vec::new()) };
        let norms = std::mem::take(log);
        if norms.is_empty() {
            return Ok(Vec::new());
        }
        let scalars: Vec<Tensor> = norms.iter().map(|t| t.reshape(&[1])).collect::<std::result::Result<_, _>>()?;
        let refs: Vec<&Tensor> = scalars.iter().collect();
        Ok(Tensor::concat(&refs, 0)?.to_vec::<f32>()?)
    }

    /// Predictions for `x` `[n, ...input shape]` in batches of `batch_size`, in inference mode
    /// (dropout off, batch norm on running statistics, no graph): `[n, ...output shape]`, still
    /// on the device. Needs no `compile`. A model of several outputs: `predict_outputs`.
    ///
    /// ```no_run
    /// use wgtrain::prelude::*;
    /// # fn main() -> wgtrain::Result<()> {
    /// let dev = Device::new()?;
    /// let net = Sequential::new(&dev, &[2]).add(Dense::new(16).relu())?.add(Dense::new(3))?;
    /// let mut model = Model::new(net);
    /// let x = Tensor::rand_uniform(&dev, &[1000, 2], -1.0, 1.0, 7)?;
    /// let logits = model.predict(&x, 256)?; // [1000, 3]
    /// let classes: Vec<u32> = logits.argmax(-1, false)?.to_vec()?;
    /// assert_eq!(classes.len(), 1000);
    /// # Ok(()) }
    /// ```
    pub fn predict(&mut self, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        self.predict_inputs(std::slice::from_ref(x), batch_size)
    }
    /// `predict` for a network with several inputs.
    pub fn predict_inputs(&mut self, xs: &[Tensor], batch_size: usize) -> Result<Tensor> {
        let names = self.net.output_names();
        if names.len() > 1 {
            let why = format!("the model has {} outputs ({}): use predict_outputs", names.len(), names.join(", "));
            return Err(TrainError::config("predict", why));
        }
        Ok(self.predict_outputs(xs, batch_size)?.swap_remove(0))
    }
    /// Every output's predictions (Keras' `predict` of a model of several outputs), in
    /// `set_outputs` order: `[n, ...output shape]` each, on the device.
    pub fn predict_outputs(&mut self, xs: &[Tensor], batch_size: usize) -> Result<Vec<Tensor>> {
        let n = self.check_batch_input("predict", xs, batch_size)?;
        let shapes = self.net.output_shapes();
        let mut outs: Vec<Vec<Tensor>> = vec![Vec::new(); shapes.len()];
        for start in (0..n).step_by(batch_size) {
            let end = (start + batch_size).min(n);
            let vars = xs
                .iter()
                .map(|x| Ok(Var::constant(super::batches::rows(x, start, end)?)))
                .collect::<Result<Vec<_>>>()?;
            let preds = no_grad(|| self.forward_outputs(&vars, false))?;
            // Predictions have no loss: drop what the layers added.
            self.pass_losses.clear();
            for (out, p) in outs.iter_mut().zip(preds) {
                out.push(p.data().clone());
            }
        }
        outs.into_iter()
            .zip(shapes)
            .map(|(parts, shape)| {
                Ok(match parts.len() {
                    0 => Tensor::zeros(self.device(), &[&[0][..], &shape[..]].concat(), DType::F32)?,
                    1 => parts[0].clone(),
                    _ => Tensor::concat(&parts.iter().collect::<Vec<_>>(), 0)?,
                })
            })
            .collect()
    }

    /// The loss and metrics on `(x, y)` in inference mode: one read-back at the end.
    pub fn evaluate(&mut self, x: &Tensor, y: &Tensor, batch_size: usize) -> Result<Logs> {
        self.evaluate_inputs(std::slice::from_ref(x), y, batch_size)
    }
    /// `evaluate` for a network with several inputs.
    pub fn evaluate_inputs(&mut self, xs: &[Tensor], y: &Tensor, batch_size: usize) -> Result<Logs> {
        self.evaluate_weighted_inputs(xs, y, None, batch_size)
    }
    /// `evaluate` with a loss weight per sample `[n]` (Keras' `sample_weight`): the loss is
    /// `sum(w_i l_i) / n` over every sample; the metrics are unweighted (as Keras' `metrics`).
    pub fn evaluate_weighted(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        sample_weight: &Tensor,
        batch_size: usize,
    ) -> Result<Logs> {
        self.evaluate_weighted_inputs(std::slice::from_ref(x), y, Some(sample_weight), batch_size)
    }
    /// `evaluate` for several inputs, with optional per-sample loss weights.
    pub fn evaluate_weighted_inputs(
        &mut self,
        xs: &[Tensor],
        y: &Tensor,
        sample_weight: Option<&Tensor>,
        batch_size: usize,
    ) -> Result<Logs> {
        self.evaluate_outputs(xs, std::slice::from_ref(y), sample_weight, batch_size)
    }
    /// `evaluate` for a model of several outputs (`compile_outputs`): a target per output,
    /// optional per-sample loss weights. Logs the total `loss`, each output's loss
    /// (`digit_loss`) and each output's metrics (`digit_accuracy`).
    pub fn evaluate_outputs(
        &mut self,
        xs: &[Tensor],
        ys: &[Tensor],
        sample_weight: Option<&Tensor>,
        batch_size: usize,
    ) -> Result<Logs> {
        let n = self.check_batch_input("evaluate", xs, batch_size)?;
        outputs::check_targets("evaluate", &self.compiled("evaluate")?.heads, n, ys)?;
        if let Some(w) = sample_weight {
            super::weights::check_sample_weight("evaluate sample_weight", n, w)?;
        }
        if n == 0 {
            // A mean over no samples has no value; Keras refuses too.
            return Err(TrainError::config("evaluate", "no samples to evaluate"));
        }
        let batches = (0..n).step_by(batch_size).map(|start| {
            let end = (start + batch_size).min(n);
            let cut = |t: &Tensor| super::batches::rows(t, start, end);
            let x = xs.iter().map(cut).collect::<Result<Vec<_>>>()?;
            let y = ys.iter().map(cut).collect::<Result<Vec<_>>>()?;
            Ok((x, y, sample_weight.map(cut).transpose()?))
        });
        self.evaluate_batches(batches)
    }

    /// The loss and metrics over batches `(inputs, targets, weights)`, in inference mode: one
    /// read-back at the end.
    pub(crate) fn evaluate_batches(&mut self, batches: impl Iterator<Item = Result<EvalBatch>>) -> Result<Logs> {
        let heads = self.compiled("evaluate")?.heads.len();
        let mut totals = LossTotals::new(self.device(), heads)?;
        self.compiled("evaluate")?.reset_metrics();
        for batch in batches {
            let (xb, yb, wb) = batch?;
            let vars: Vec<Var> = xb.into_iter().map(Var::constant).collect();
            let preds = no_grad(|| self.forward_outputs(&vars, false))?;
            let masks = std::mem::take(&mut self.pass_masks);
            let c = self.compiled("evaluate")?;
            let (loss, each) = no_grad(|| outputs::losses(&c.heads, &preds, &yb, wb.as_ref(), &masks))?;
            let loss = no_grad(|| self.with_penalties(loss))?;
            let each: Vec<Tensor> = each.iter().map(|l| l.data().clone()).collect();
            totals.add(loss.data(), &each, yb[0].shape()[0])?;
            let preds: Vec<Tensor> = preds.iter().map(|p| p.data().clone()).collect();
            self.compiled("evaluate")?.update_metrics(&preds, &yb, &masks)?;
        }
        if totals.seen == 0 {
            return Err(TrainError::config("evaluate", "no samples to evaluate"));
        }
        let seen = totals.seen as f64;
        let mut logs = Logs::new();
        for (name, sum) in totals.sums(&self.compiled("evaluate")?.heads)? {
            logs.set(name, (sum / seen) as f32);
        }
        Ok(logs)
    }

    /// Checks each input is `[n, ...its input shape]` with one n, and the batch size is
    /// positive; returns n.
    pub(crate) fn check_batch_input(&self, what: &str, xs: &[Tensor], batch_size: usize) -> Result<usize> {
        if batch_size == 0 {
            return Err(TrainError::config(what, "batch_size must be >= 1"));
        }
        let shapes = self.net.input_shapes();
        if xs.len() != shapes.len() {
            return Err(TrainError::config(
                what,
                format!("{} inputs given, the model takes {}", xs.len(), shapes.len()),
            ));
        }
        let n = xs.first().map_or(0, |x| x.shape().first().copied().unwrap_or(0));
        for (x, shape) in xs.iter().zip(&shapes) {
            if x.rank() != shape.len() + 1 || x.shape()[1..] != shape[..] || x.shape()[0] != n {
                let expected = format!("[{n}, {shape:?}...] (samples of the model's input shape {shape:?})");
                return Err(TrainError::Shape { layer: what.to_string(), expected, got: x.shape().to_vec() });
            }
        }
        Ok(n)
    }

    /// Freezes the named layer's parameters: no gradients, no updates (transfer learning).
    pub fn freeze(&mut self, layer: &str) -> Result<()> {
        self.set_trainable(layer, false)
    }
    /// Makes the named layer's parameters trainable again.
    pub fn unfreeze(&mut self, layer: &str) -> Result<()> {
        self.set_trainable(layer, true)
    }
    fn set_trainable(&mut self, layer: &str, on: bool) -> Result<()> {
        let params = self
            .net
            .layer_params(layer)
            .ok_or_else(|| TrainError::config("freeze", format!("no layer named {layer:?}")))?;
        for p in params {
            p.var.set_requires_grad(on)?;
        }
        Ok(())
    }

    /// The Keras-style table of layers, output shapes and parameter counts.
    pub fn summary(&self) -> String {
        summary::format("model", &self.net.summary_rows(), self.policy)
    }
}

/// One batch to evaluate: the inputs, a target per output, and the samples' loss weights.
pub(crate) type EvalBatch = (Vec<Tensor>, Vec<Tensor>, Option<Tensor>);

/// The output in f32: the loss, the metrics and `predict` see f32 whatever the layers computed in.
fn to_f32(out: Var) -> Result<Var> {
    if out.dtype() == DType::F16 { Ok(out.cast(DType::F32)?) } else { Ok(out) }
}

/// Flags, on the device, every parameter whose gradient or updated value holds a NaN or an
/// infinity, tagged by its position in `params` (the record keeps the smallest): no read-back.
fn check_finite(params: &[Param], grads: bool) -> Result<()> {
    for (i, p) in params.iter().enumerate() {
        let value = p.var.data();
        if value.dtype() != DType::F32 {
            continue;
        }
        if let Some(g) = p.var.grad().filter(|_| grads) {
            g.check_finite(i as u32)?;
        }
        value.check_finite(i as u32)?;
    }
    Ok(())
}

/// `optimizer`, wrapped in a [`LossScaleOptimizer`] when `policy` computes in f16 and it has
/// no loss scale of its own.
fn with_loss_scale(optimizer: Box<dyn Optimizer>, policy: Policy, device: &Device) -> Result<Box<dyn Optimizer>> {
    if policy.is_mixed() && optimizer.loss_scale().is_none() {
        return Ok(Box::new(LossScaleOptimizer::from_parts(optimizer, LossScale::new(device)?)));
    }
    Ok(optimizer)
}
