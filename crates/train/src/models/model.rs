//! [`Model`]: a network plus what trains it.

use wgtrain_autograd::{Var, no_grad};
use wgtrain_tensor::{DType, Device, LossScale, Tensor};

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
    /// The training objective.
    pub loss: Box<dyn Loss>,
    /// Reported by `fit` and `evaluate` besides the loss.
    pub metrics: Vec<Box<dyn Metric>>,
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
}

impl Model {
    /// Wraps `net`; call [`compile`](Self::compile) before training or evaluating. Seed 0.
    pub fn new(net: impl Network + 'static) -> Self {
        Model {
            net: Box::new(net),
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
            if let Some(Compiled { optimizer, loss, metrics }) = self.compiled.take() {
                let optimizer = Box::new(LossScaleOptimizer::from_parts(optimizer, scale));
                self.compiled = Some(Compiled { optimizer, loss, metrics });
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
    /// beta outside [0, 1), ...) is refused here, naming the parameter and its value.
    pub fn compile(
        &mut self,
        optimizer: impl Optimizer + 'static,
        loss: impl Loss + 'static,
        metrics: Vec<Box<dyn Metric>>,
    ) -> Result<()> {
        optimizer.validate()?;
        let optimizer = with_loss_scale(Box::new(optimizer), self.policy, self.device())?;
        self.compiled = Some(Compiled { optimizer, loss: Box::new(loss), metrics });
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
    /// norm on batch statistics) unless inside `no_grad`.
    pub fn forward(&mut self, x: &Var, training: bool) -> Result<Var> {
        self.forward_inputs(std::slice::from_ref(x), training)
    }
    /// `forward` for a network with several inputs (in declaration order).
    pub fn forward_inputs(&mut self, xs: &[Var], training: bool) -> Result<Var> {
        let mut ctx = Ctx::new(training, self.seed ^ self.global_step.wrapping_mul(0x2545_f491_4f6c_dd1d))
            .with_compute_dtype(self.policy.compute_dtype())
            .with_first_sample(self.shard.map_or(0, |s| s.0));
        let out = self.net.forward_inputs(xs, &mut ctx)?;
        self.pass_losses = ctx.take_losses();
        // The loss, the metrics and `predict` see f32 whatever the layers computed in.
        if out.dtype() == DType::F16 { Ok(out.cast(DType::F32)?) } else { Ok(out) }
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
        if let Some(w) = sample_weight {
            let n = y.shape().first().copied().unwrap_or(0);
            super::weights::check_sample_weight("train_step sample_weight", n, w)?;
        }
        let vars: Vec<Var> = xs.iter().map(|x| Var::constant(x.clone())).collect();
        let pred = self.forward_inputs(&vars, true)?;
        let c = self.compiled("train_step")?;
        let loss = c.loss.forward(&pred, y, sample_weight)?;
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
        Ok((loss.data().clone(), pred.data().clone()))
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
    /// on the device. Needs no `compile`.
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
        let n = self.check_batch_input("predict", xs, batch_size)?;
        let mut outs = Vec::new();
        for start in (0..n).step_by(batch_size) {
            let end = (start + batch_size).min(n);
            let vars = xs
                .iter()
                .map(|x| Ok(Var::constant(super::batches::rows(x, start, end)?)))
                .collect::<Result<Vec<_>>>()?;
            outs.push(no_grad(|| self.forward_inputs(&vars, false))?.data().clone());
            // Predictions have no loss: drop what the layers added.
            self.pass_losses.clear();
        }
        if outs.is_empty() {
            let mut shape = vec![0];
            shape.extend(self.net.output_shape());
            return Ok(Tensor::zeros(self.device(), &shape, DType::F32)?);
        }
        let refs: Vec<&Tensor> = outs.iter().collect();
        Ok(if refs.len() == 1 { outs[0].clone() } else { Tensor::concat(&refs, 0)? })
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
        let n = self.check_batch_input("evaluate", xs, batch_size)?;
        check_targets("evaluate", n, y)?;
        if let Some(w) = sample_weight {
            super::weights::check_sample_weight("evaluate sample_weight", n, w)?;
        }
        if n == 0 {
            // A mean over no samples has no value; Keras refuses too.
            return Err(TrainError::config("evaluate", "no samples to evaluate"));
        }
        let mut total = Tensor::zeros(self.device(), &[], DType::F32)?;
        self.compiled("evaluate")?.metrics.iter_mut().for_each(|m| m.reset());
        for start in (0..n).step_by(batch_size) {
            let end = (start + batch_size).min(n);
            let vars = xs
                .iter()
                .map(|x| Ok(Var::constant(super::batches::rows(x, start, end)?)))
                .collect::<Result<Vec<_>>>()?;
            let yb = super::batches::rows(y, start, end)?;
            let wb = sample_weight.map(|w| super::batches::rows(w, start, end)).transpose()?;
            let pred = no_grad(|| self.forward_inputs(&vars, false))?;
            let c = self.compiled("evaluate")?;
            let loss = no_grad(|| c.loss.forward(&pred, &yb, wb.as_ref()))?;
            let loss = no_grad(|| self.with_penalties(loss))?;
            // Batch losses are means: weight each by its size so the total is a sample mean.
            total = total.add(&loss.data().mul_scalar((end - start) as f32)?)?;
            for m in &mut self.compiled("evaluate")?.metrics {
                m.update(pred.data(), &yb)?;
            }
        }
        let mut logs = Logs::new();
        logs.set("loss", total.item::<f32>()? / n as f32);
        for m in &self.compiled("evaluate")?.metrics {
            logs.set(m.name(), m.result()?);
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

/// Checks that targets have one row per sample.
pub(crate) fn check_targets(what: &str, n: usize, y: &Tensor) -> Result<()> {
    if y.rank() == 0 || y.shape()[0] != n {
        let expected = format!("targets with {n} rows (one per sample)");
        return Err(TrainError::Shape { layer: what.to_string(), expected, got: y.shape().to_vec() });
    }
    Ok(())
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
