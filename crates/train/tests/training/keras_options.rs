//! The Keras options and extension points that had no test (issue 24, item 8), each checked
//! against what Keras does: validation splits and data, `fit_loader`'s validation loader,
//! `initial_epoch`, `shuffle: false`, `CsvLogger`, `ModelCheckpoint::every`, `EarlyStopping`'s
//! `baseline` and `min_delta`, the plateau callback's `cooldown`,
//! `LearningRateScheduler::per_step`, label smoothing, the Glorot and He variances, the
//! freeze -> new head -> unfreeze -> fine-tune flow, the CIFAR ResNet, and user-defined
//! layers, losses, metrics, optimizers and schedules.

use wgtrain::data::Label;
use wgtrain::layers::{BuildCtx, Ctx};
use wgtrain::models::zoo;
use wgtrain::optim::{LrSchedule, OptimizerState};
use wgtrain::prelude::*;

use crate::harness::{data, dev, scratch, tensor};

/// 3 classes in 4-D, learnable: the class is the largest of the first three features.
fn task(n: usize, seed: u64) -> (Tensor, Tensor) {
    let x = data(seed, n * 4);
    let y: Vec<u32> = x.chunks(4).map(|r| (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap() as u32).collect();
    (tensor(&x, &[n, 4]), Tensor::from_slice(dev(), &y, &[n]).unwrap())
}

fn model(lr: f32, seed: u64) -> Model {
    let net = Sequential::new(dev(), &[4]).seed(seed).add(Dense::new(16).relu()).unwrap().add(Dense::new(3)).unwrap();
    let mut m = Model::new(net).with_seed(seed);
    let metrics: Vec<Box<dyn Metric>> = vec![Box::new(SparseCategoricalAccuracy::new())];
    m.compile(Sgd::new(lr), SparseCategoricalCrossEntropy::from_logits(), metrics).unwrap();
    m
}

fn quiet() -> FitOptions {
    FitOptions { verbose: false, ..Default::default() }
}

fn weights(m: &Model) -> Vec<Vec<f32>> {
    m.params().iter().map(|p| p.var.to_vec().unwrap()).collect()
}

#[test]
fn validation_split_holds_out_the_last_samples_and_validation_data_and_loaders_are_evaluated() {
    let (x, y) = task(100, 1);
    // lr 0: the weights stay, so each val_ figure is the model's on the held-out samples.
    let mut m = model(0.0, 2);
    let h = m.fit(&x, &y, FitOptions { epochs: 2, batch_size: 16, validation_split: 0.25, ..quiet() }).unwrap();
    let tail = m.evaluate(&x.slice(0, 75, 100, 1).unwrap(), &y.slice(0, 75, 100, 1).unwrap(), 32).unwrap();
    assert!((h.get("val_loss")[1] - tail.get("loss").unwrap()).abs() < 1e-5, "{:?} vs {tail:?}", h.get("val_loss"));
    assert_eq!(h.get("val_accuracy")[1], tail.get("accuracy").unwrap());
    let head = m.evaluate(&x.slice(0, 0, 75, 1).unwrap(), &y.slice(0, 0, 75, 1).unwrap(), 32).unwrap();
    assert!((h.get("loss")[1] - head.get("loss").unwrap()).abs() < 1e-5, "trained on the first 75 only");
    // validation_data.
    let (vx, vy) = task(40, 3);
    let h = m.fit(&x, &y, FitOptions { epochs: 1, batch_size: 16, ..quiet() }.validation(&vx, &vy)).unwrap();
    let want = m.evaluate(&vx, &vy, 16).unwrap().get("loss").unwrap();
    assert!((h.get("val_loss")[0] - want).abs() < 1e-5);
    // fit_loader with a validation loader.
    let loader = |x: &Tensor, y: &Tensor, bs| {
        let labels = y.to_vec::<u32>().unwrap().into_iter().map(Label::Class).collect();
        DataLoader::new(InMemory::new(x.to_vec::<f32>().unwrap(), &[4], labels).unwrap(), bs).unwrap()
    };
    let (train, val) = (loader(&x, &y, 20), loader(&vx, &vy, 7));
    let h = m.fit_loader(&train, Some(&val), FitOptions { epochs: 1, ..quiet() }).unwrap();
    assert!((h.get("val_loss")[0] - want).abs() < 1e-5, "{:?} vs {want}", h.get("val_loss"));
}

#[test]
fn initial_epoch_continues_the_count_and_shuffle_false_ignores_the_seed() {
    let (x, y) = task(64, 4);
    let mut m = model(0.1, 5);
    let h = m.fit(&x, &y, FitOptions { epochs: 5, initial_epoch: 3, batch_size: 16, ..quiet() }).unwrap();
    assert_eq!(h.epochs, [3, 4], "epochs 3 and 4 of 5 run");
    // The seed orders the samples only when shuffling (no dropout here): unshuffled runs from
    // the same initial weights agree whatever the model's seed, shuffled ones do not.
    let run = |shuffle: bool, seed: u64| {
        let mut m = model(0.1, 6);
        m = m.with_seed(seed);
        m.fit(&x, &y, FitOptions { epochs: 2, batch_size: 8, shuffle, ..quiet() }).unwrap();
        weights(&m)
    };
    assert_eq!(run(false, 1), run(false, 2));
    assert_ne!(run(true, 1), run(true, 2));
}

#[test]
fn csv_logger_writes_a_header_and_a_row_per_epoch_and_checkpoint_every_saves_every_nth() {
    let dir = scratch("keras-options-csv");
    let (x, y) = task(48, 7);
    let mut m = model(0.1, 8);
    let csv = dir.join("log.csv");
    let template = dir.join("ckpt-{epoch}").display().to_string();
    let callbacks: Vec<Box<dyn Callback>> =
        vec![Box::new(CsvLogger::new(&csv)), Box::new(ModelCheckpoint::new(&template).every(2).weights_only(true))];
    let h = m.fit(&x, &y, FitOptions { epochs: 5, batch_size: 16, callbacks, ..quiet() }).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "epoch,loss,accuracy,lr", "{text}");
    assert_eq!(lines.len(), 6);
    for (e, line) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], e.to_string());
        assert_eq!(cells[1].parse::<f32>().unwrap(), h.get("loss")[e]);
    }
    let saved: Vec<bool> = (1..=5).map(|e| dir.join(format!("ckpt-{e}")).exists()).collect();
    assert_eq!(saved, [false, true, false, true, false], "epochs 2 and 4 of 5");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn early_stopping_baseline_and_min_delta_follow_keras() {
    let (x, y) = task(48, 9);
    let epochs_run = |lr: f32, stop: EarlyStopping| {
        let mut m = model(lr, 10);
        // In order: a shuffled batch sums its losses in another order, changing the last bit.
        let o = FitOptions { epochs: 6, batch_size: 48, shuffle: false, callbacks: vec![Box::new(stop)], ..quiet() };
        m.fit(&x, &y, o).unwrap().epochs.len()
    };
    // lr 0, a constant loss. Patience 2: epoch 0 improves on nothing, epochs 1 and 2 do not.
    assert_eq!(epochs_run(0.0, EarlyStopping::new("loss").patience(2)), 3);
    // An unreachable baseline: epoch 0's "improvement" does not beat it, so the count starts there.
    assert_eq!(epochs_run(0.0, EarlyStopping::new("loss").patience(2).baseline(1e-6)), 2);
    assert_eq!(epochs_run(0.0, EarlyStopping::new("loss").patience(2).baseline(100.0)), 3);
    // A slowly falling loss: every epoch improves, unless improvements must exceed min_delta.
    assert_eq!(epochs_run(1e-3, EarlyStopping::new("loss").patience(1)), 6);
    assert_eq!(epochs_run(1e-3, EarlyStopping::new("loss").patience(1).min_delta(0.05)), 2);
}

#[test]
fn reduce_lr_on_plateau_waits_out_its_cooldown() {
    let (x, y) = task(32, 11);
    let lrs = |cooldown: usize| {
        // A learning rate so small the loss cannot improve by min_delta: a plateau from epoch 1.
        let mut m = model(1e-9, 12);
        let plateau = ReduceLrOnPlateau::new("loss").factor(0.5).patience(1).cooldown(cooldown);
        let o = FitOptions { epochs: 6, batch_size: 32, callbacks: vec![Box::new(plateau)], ..quiet() };
        m.fit(&x, &y, o).unwrap().get("lr").iter().map(|lr| lr / 1e-9).collect::<Vec<f32>>()
    };
    let close = |a: Vec<f32>, b: [f32; 6]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4 * y);
    // Keras: a reduction at the end of epoch 1, then none for `cooldown` epochs.
    let got = lrs(0);
    assert!(close(got.clone(), [1.0, 1.0, 0.5, 0.25, 0.125, 0.0625]), "{got:?}");
    let got = lrs(2);
    assert!(close(got.clone(), [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]), "{got:?}");
}

/// `lr = 0.01 (t + 1)` at global step t.
struct Ramp;

impl LrSchedule for Ramp {
    fn lr(&self, t: u64) -> f32 {
        0.01 * (t + 1) as f32
    }
}

#[test]
fn a_per_step_schedule_sets_the_rate_before_every_batch() {
    let (x, y) = task(40, 13);
    let mut m = model(1.0, 14);
    let o = FitOptions {
        epochs: 2,
        batch_size: 8,
        callbacks: vec![Box::new(LearningRateScheduler::per_step(Ramp))],
        ..quiet()
    };
    let h = m.fit(&x, &y, o).unwrap();
    // 5 steps an epoch: the last batch ran at step 9.
    assert!((m.learning_rate().unwrap() - 0.10).abs() < 1e-7, "{:?}", m.learning_rate());
    assert!((h.get("lr")[0] - 0.05).abs() < 1e-7, "epoch 0 ended at step 4: {:?}", h.get("lr"));
}

#[test]
fn label_smoothing_mixes_the_targets_with_the_uniform_distribution() {
    let z = [2.0f32, -1.0, 0.5, 0.0, 3.0, -2.0];
    let labels = [0u32, 1];
    let eps = 0.2f64;
    let mut want = 0.0;
    for (r, &l) in labels.iter().enumerate() {
        let row: Vec<f64> = z[r * 3..r * 3 + 3].iter().map(|&v| v as f64).collect();
        let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
        let logp: Vec<f64> = row.iter().map(|v| v - lse).collect();
        want += -(1.0 - eps) * logp[l as usize] - eps * logp.iter().sum::<f64>() / 3.0;
    }
    want /= 2.0;
    let logits = Var::constant(tensor(&z, &[2, 3]));
    let y = Tensor::from_slice(dev(), &labels, &[2]).unwrap();
    let sparse = SparseCategoricalCrossEntropy::from_logits().label_smoothing(eps as f32);
    let got = sparse.forward(&logits, &y, None).unwrap().item().unwrap() as f64;
    assert!((got - want).abs() < 1e-5, "sparse: {got} vs {want}");
    let onehot = tensor(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], &[2, 3]);
    let cat = CategoricalCrossEntropy { from_logits: true, label_smoothing: eps as f32, ..Default::default() };
    let got = cat.forward(&logits, &onehot, None).unwrap().item().unwrap() as f64;
    assert!((got - want).abs() < 1e-5, "categorical: {got} vs {want}");
}

#[test]
fn glorot_and_he_draw_with_their_variances() {
    let (fan_in, fan_out) = (300usize, 200usize);
    let variance = |init: Initializer| {
        let t = init.create(dev(), &[fan_in, fan_out], (fan_in, fan_out), 15).unwrap().to_vec::<f32>().unwrap();
        let mean = t.iter().map(|&v| v as f64).sum::<f64>() / t.len() as f64;
        (t.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / t.len() as f64, mean)
    };
    let glorot = 2.0 / (fan_in + fan_out) as f64;
    let he = 2.0 / fan_in as f64;
    for (init, want) in [
        (Initializer::GlorotUniform, glorot),
        (Initializer::GlorotNormal, glorot),
        (Initializer::HeUniform { gain: std::f32::consts::SQRT_2 }, he),
        (Initializer::HE_RELU, he),
    ] {
        let (var, mean) = variance(init);
        // 60,000 draws: the sample variance is within 2% of the true one with room to spare.
        assert!((var / want - 1.0).abs() < 0.02 && mean.abs() < 0.01 * want.sqrt() * 10.0, "{init:?}: {var} vs {want}");
    }
}

#[test]
fn freeze_a_base_train_a_new_head_then_unfreeze_and_fine_tune() {
    let (x, y) = task(64, 16);
    let net = Sequential::new(dev(), &[4]).seed(17).add(Dense::new(16).relu()).unwrap().add(Dense::new(3)).unwrap();
    let mut m = Model::new(net).with_seed(18);
    m.compile(Adam::new(0.01), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    let base = |m: &Model| {
        m.params()
            .iter()
            .filter(|p| p.name.starts_with("dense_1/"))
            .map(|p| p.var.to_vec().unwrap())
            .collect::<Vec<_>>()
    };
    let head = |m: &Model| {
        m.params()
            .iter()
            .filter(|p| p.name.starts_with("dense_2/"))
            .map(|p| p.var.to_vec().unwrap())
            .collect::<Vec<_>>()
    };
    m.freeze("dense_1").unwrap();
    let (b0, h0) = (base(&m), head(&m));
    m.fit(&x, &y, FitOptions { epochs: 2, batch_size: 16, ..quiet() }).unwrap();
    assert_eq!(base(&m), b0, "a frozen base does not move");
    assert_ne!(head(&m), h0, "the head trains");
    let summary = m.summary();
    assert!(summary.contains("Non-trainable params: 80"), "{summary}");
    m.unfreeze("dense_1").unwrap();
    let before = m.evaluate(&x, &y, 64).unwrap().get("loss").unwrap();
    m.fit(&x, &y, FitOptions { epochs: 5, batch_size: 16, ..quiet() }).unwrap();
    assert_ne!(base(&m), b0, "fine-tuning moves the base");
    let after = m.evaluate(&x, &y, 64).unwrap().get("loss").unwrap();
    assert!(after < before, "fine-tuning lowers the loss: {before} -> {after}");
    assert!(m.freeze("no_such_layer").unwrap_err().to_string().contains("no_such_layer"));
}

#[test]
fn the_cifar_resnet_builds_and_learns_a_little() {
    let mut m = zoo::cifar10_resnet(dev(), 19).unwrap();
    m.compile(Adam::new(1e-3), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    let x = Tensor::rand_uniform(dev(), &[8, 3, 32, 32], 0.0, 1.0, 20).unwrap();
    let y = Tensor::from_slice(dev(), &[0u32, 1, 2, 3, 4, 5, 6, 7], &[8]).unwrap();
    assert_eq!(m.predict(&x, 8).unwrap().shape(), &[8, 10]);
    let first = m.train_step(&x, &y).unwrap().0.item::<f32>().unwrap();
    let mut last = first;
    for _ in 0..15 {
        last = m.train_step(&x, &y).unwrap().0.item::<f32>().unwrap();
    }
    assert!(last < 0.7 * first, "8 images memorised: loss {first} -> {last}");
}

/// A user's layer: `y = scale * x`, one learned scalar.
struct Scale {
    name: String,
    scale: Option<Var>,
}

impl Layer for Scale {
    fn kind(&self) -> &'static str {
        "Scale"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> wgtrain::Result<Vec<usize>> {
        self.scale = Some(Var::parameter(Tensor::full(ctx.device, &[1], 0.5)?));
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Var, _: &mut Ctx) -> wgtrain::Result<Var> {
        Ok(x.mul(self.scale.as_ref().unwrap())?)
    }
    fn params(&self) -> Vec<Param> {
        self.scale.iter().map(|s| Param::new(format!("{}/scale", self.name), s.clone())).collect()
    }
    fn config(&self) -> serde_json::Value {
        serde_json::json!({})
    }
}

/// A user's loss: mean absolute error, by hand.
struct MyMae;

impl Loss for MyMae {
    fn name(&self) -> &str {
        "my_mae"
    }
    fn forward(&self, pred: &Var, target: &Tensor, _: Option<&Tensor>) -> wgtrain::Result<Var> {
        Ok(pred.sub(&Var::constant(target.clone()))?.abs()?.mean_all()?)
    }
}

/// A user's metric: the largest absolute error seen.
#[derive(Default)]
struct MaxError(f32);

impl Metric for MaxError {
    fn name(&self) -> String {
        "max_error".into()
    }
    fn update(&mut self, pred: &Tensor, target: &Tensor) -> wgtrain::Result<()> {
        let e = pred.sub(target)?.abs()?.to_vec::<f32>()?;
        self.0 = e.into_iter().fold(self.0, f32::max);
        Ok(())
    }
    fn result(&self) -> wgtrain::Result<f32> {
        Ok(self.0)
    }
    fn reset(&mut self) {
        self.0 = 0.0;
    }
}

/// A user's optimizer: plain gradient descent on the host.
struct HostDescent {
    lr: f32,
    steps: u64,
}

impl Optimizer for HostDescent {
    fn step(&mut self, params: &[Param]) -> wgtrain::Result<()> {
        for p in params {
            if let Some(g) = p.var.grad() {
                let (w, g) = (p.var.to_vec()?, g.to_vec::<f32>()?);
                let next: Vec<f32> = w.iter().zip(&g).map(|(w, g)| w - self.lr * g).collect();
                p.var.data().assign(&Tensor::from_slice(p.var.device(), &next, p.var.shape())?)?;
            }
        }
        self.steps += 1;
        Ok(())
    }
    fn learning_rate(&self) -> f32 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f32) -> wgtrain::Result<()> {
        self.lr = lr;
        Ok(())
    }
    fn state(&self) -> OptimizerState {
        OptimizerState {
            kind: "HostDescent".into(),
            step: self.steps,
            param_steps: vec![],
            hyper: serde_json::json!({ "lr": self.lr }),
            tensors: vec![],
        }
    }
    fn load_state(&mut self, s: &OptimizerState) -> wgtrain::Result<()> {
        self.steps = s.step;
        Ok(())
    }
}

/// A user's schedule: 1, then halving every epoch.
struct Halving;

impl LrSchedule for Halving {
    fn lr(&self, t: u64) -> f32 {
        0.5f32.powi(t as i32)
    }
}

#[test]
fn user_defined_layers_losses_metrics_optimizers_and_schedules_train() {
    // y = 3 x: the Scale layer must learn 3 from 0.5.
    let xs = data(21, 32);
    let ys: Vec<f32> = xs.iter().map(|v| 3.0 * v).collect();
    let net = Sequential::new(dev(), &[1]).add(Scale { name: String::new(), scale: None }).unwrap();
    let mut m = Model::new(net);
    m.compile(HostDescent { lr: 1.0, steps: 0 }, MyMae, vec![Box::new(MaxError::default())]).unwrap();
    let o = FitOptions {
        epochs: 12,
        batch_size: 8,
        callbacks: vec![Box::new(LearningRateScheduler::per_epoch(Halving))],
        ..quiet()
    };
    let h = m.fit(&tensor(&xs, &[32, 1]), &tensor(&ys, &[32, 1]), o).unwrap();
    let scale = m.params()[0].var.to_vec().unwrap()[0];
    assert!((scale - 3.0).abs() < 0.1, "learned scale {scale}");
    assert!(m.summary().contains("Scale"), "{}", m.summary());
    let (first, last) = (h.get("max_error")[0], *h.get("max_error").last().unwrap());
    assert!(last < 0.2 * first, "the user's metric is logged: {first} -> {last}");
    assert!((h.get("lr")[3] - 0.125).abs() < 1e-7, "the user's schedule: {:?}", h.get("lr"));
    assert_eq!(m.optimizer().unwrap().state().step, 48, "the user's optimizer took every step");
}
