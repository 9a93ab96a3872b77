//! `LossScaleOptimizer`: a forced overflow skips the step (weights and optimizer state
//! bit-identical), halves the scale and training goes on; `fit` trains through it as well as
//! without; the scale and its counters survive a checkpoint, and an f32 optimizer resumes from
//! a mixed run's checkpoint.

use wgtrain::prelude::*;

use crate::harness::dev;

fn bits(t: &Var) -> Vec<u32> {
    t.data().to_vec::<f32>().unwrap().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn a_forced_overflow_skips_the_step_halves_the_scale_and_training_goes_on() {
    let w = Var::parameter(Tensor::rand_normal(dev(), &[3, 1], 0.0, 0.5, 1).unwrap());
    let b = Var::parameter(Tensor::zeros(dev(), &[1], DType::F32).unwrap());
    let params = vec![Param::new("w", w.clone()), Param::new("b", b.clone())];
    let mut opt = LossScaleOptimizer::with_scale(Adam::new(0.05), dev(), 1024.0, 5).unwrap();
    let x = Tensor::rand_uniform(dev(), &[64, 3], -1.0, 1.0, 2).unwrap();
    let truth = Tensor::from_slice(dev(), &[1.0f32, -2.0, 0.5], &[3, 1]).unwrap();
    let y = Var::constant(x.matmul(&truth).unwrap());
    // An input whose products overflow f32 once scaled: the overflow step.
    let mut huge = x.to_vec::<f32>().unwrap();
    huge[0] = 3e38;
    let huge = Tensor::from_slice(dev(), &huge, &[64, 3]).unwrap();
    let loss_at = |x: &Tensor| x_loss(x, &w, &b, &y);
    let step = |opt: &mut LossScaleOptimizer, x: &Tensor| {
        opt.scale(&loss_at(x)).unwrap().backward().unwrap();
        opt.step(&params).unwrap();
        params.iter().for_each(|p| p.var.zero_grad());
    };
    for _ in 0..3 {
        step(&mut opt, &x);
    }
    let s = opt.scale_state().unwrap();
    assert_eq!((s.scale, s.good_steps, s.skipped), (1024.0, 3, 0));
    let (w_before, b_before) = (bits(&w), bits(&b));
    let state_before = state_bits(&opt);
    step(&mut opt, &huge);
    assert_eq!((bits(&w), bits(&b)), (w_before, b_before), "the overflow step left the weights bit-identical");
    let state_after = state_bits(&opt);
    assert_eq!(state_after, state_before, "and Adam's moments");
    let s = opt.scale_state().unwrap();
    assert_eq!((s.scale, s.good_steps, s.skipped), (512.0, 0, 1), "the scale halved and the skip is counted");
    let first = loss_at(&x).data().item::<f32>().unwrap();
    for _ in 0..60 {
        step(&mut opt, &x);
    }
    let last = loss_at(&x).data().item::<f32>().unwrap();
    assert!(last < 0.05 * first, "training went on: loss {first} -> {last}");
    let s = opt.scale_state().unwrap();
    assert_eq!(s.skipped, 1);
    assert!(s.scale > 512.0, "finite steps doubled the scale again: {}", s.scale);
}

/// The bits of every state tensor of `opt` (Adam's moments).
fn state_bits(opt: &LossScaleOptimizer) -> Vec<Vec<u32>> {
    let tensors = opt.state().tensors;
    tensors.iter().map(|(_, t)| t.to_vec::<f32>().unwrap().iter().map(|v| v.to_bits()).collect()).collect()
}

fn x_loss(x: &Tensor, w: &Var, b: &Var, y: &Var) -> Var {
    Var::constant(x.clone()).matmul(w).unwrap().add(b).unwrap().sub(y).unwrap().square().unwrap().mean_all().unwrap()
}

fn mlp(seed: u64) -> Sequential {
    Sequential::new(dev(), &[4]).seed(seed).add(Dense::new(16).relu()).and_then(|s| s.add(Dense::new(3))).unwrap()
}

/// Three classes by which of the first three features is largest.
fn data(n: usize, seed: u64) -> (Tensor, Tensor) {
    let x = Tensor::rand_uniform(dev(), &[n, 4], -1.0, 1.0, seed).unwrap();
    let v = x.to_vec::<f32>().unwrap();
    let y: Vec<u32> = v.chunks(4).map(|r| (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap() as u32).collect();
    (x, Tensor::from_slice(dev(), &y, &[n]).unwrap())
}

fn fit_accuracy(opt: Box<dyn Optimizer>) -> (f32, Model) {
    let (x, y) = data(600, 11);
    let (vx, vy) = data(300, 12);
    let mut model = Model::new(mlp(13)).with_seed(14);
    let metrics: Vec<Box<dyn Metric>> = vec![Box::new(SparseCategoricalAccuracy::new())];
    model.compile(opt, SparseCategoricalCrossEntropy::from_logits(), metrics).unwrap();
    model.fit(&x, &y, FitOptions { epochs: 30, batch_size: 50, verbose: false, ..Default::default() }).unwrap();
    let acc = model.evaluate(&vx, &vy, 300).unwrap().get("accuracy").unwrap();
    (acc, model)
}

#[test]
fn fit_with_a_loss_scale_learns_as_well_and_its_checkpoint_keeps_the_scale() {
    let (plain, _) = fit_accuracy(Box::new(Adam::new(0.01)));
    let scaled = LossScaleOptimizer::with_scale(Adam::new(0.01), dev(), 4096.0, 50).unwrap();
    let (acc, mut model) = fit_accuracy(Box::new(scaled));
    assert!(acc >= 0.9 && (acc - plain).abs() <= 0.03, "scaled {acc} vs plain {plain}");
    let dir = std::env::temp_dir().join(format!("wgtrain-loss-scale-{}", std::process::id()));
    model.save(&dir).unwrap();

    // A mixed-precision model resumes with the saved scale and counters.
    let mut resumed = Model::new(mlp(13));
    let fresh = LossScaleOptimizer::with_scale(Adam::new(0.01), dev(), 2.0, 7).unwrap();
    let metrics: Vec<Box<dyn Metric>> = vec![Box::new(SparseCategoricalAccuracy::new())];
    resumed.compile(fresh, SparseCategoricalCrossEntropy::from_logits(), metrics).unwrap();
    resumed.load(&dir).unwrap();
    let saved = model.optimizer().unwrap().state().hyper["loss_scale"].clone();
    let loaded = resumed.optimizer().unwrap().state().hyper["loss_scale"].clone();
    assert_eq!(loaded, saved, "scale, counters and growth interval restored");
    assert_eq!(saved["growth_interval"], 50);
    // 30 epochs of 12 steps: 360 finite steps at interval 50 doubled the scale 7 times.
    assert_eq!(saved["scale"], 4096.0 * 128.0, "{saved}");

    // And an f32 model resumes from the same checkpoint.
    let mut plain_model = Model::new(mlp(13));
    let metrics: Vec<Box<dyn Metric>> = vec![Box::new(SparseCategoricalAccuracy::new())];
    plain_model.compile(Adam::new(0.01), SparseCategoricalCrossEntropy::from_logits(), metrics).unwrap();
    plain_model.load(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_optimizer_without_a_guarded_step_is_refused_under_a_loss_scale() {
    struct Custom;
    impl Optimizer for Custom {
        fn step(&mut self, _: &[Param]) -> wgtrain::Result<()> {
            Ok(())
        }
        fn learning_rate(&self) -> f32 {
            0.1
        }
        fn set_learning_rate(&mut self, _: f32) -> wgtrain::Result<()> {
            Ok(())
        }
        fn state(&self) -> wgtrain::optim::OptimizerState {
            wgtrain::optim::OptimizerState {
                kind: "Custom".into(),
                step: 0,
                param_steps: vec![],
                hyper: serde_json::json!({}),
                tensors: vec![],
            }
        }
        fn load_state(&mut self, _: &wgtrain::optim::OptimizerState) -> wgtrain::Result<()> {
            Ok(())
        }
    }
    let w = Var::parameter(Tensor::ones(dev(), &[2], DType::F32).unwrap());
    let params = vec![Param::new("w", w.clone())];
    let mut opt = LossScaleOptimizer::new(Custom, dev()).unwrap();
    opt.scale(&w.sum_all().unwrap()).unwrap().backward().unwrap();
    let e = opt.step(&params).unwrap_err();
    assert!(e.to_string().contains("cannot skip a step on the device"), "{e}");
}

#[test]
fn check_numerics_tolerates_an_overflow_the_loss_scale_skipped() {
    // Under mixed precision, a scale past f16's range makes every gradient of the f16 logits
    // overflow: `check_numerics` must not stop `fit` on gradients the guard skipped, while the
    // weights stay finite.
    if !dev().has_f16() {
        return;
    }
    let scaled = LossScaleOptimizer::with_scale(Adam::new(0.01), dev(), 1e10, 50).unwrap();
    let (x, y) = data(200, 41);
    let mut model = Model::new(mlp(42)).with_seed(43);
    model.set_policy(Policy::mixed_float16()).unwrap();
    model.compile(scaled, SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    let o = FitOptions { epochs: 2, batch_size: 50, verbose: false, check_numerics: true, ..Default::default() };
    model.fit(&x, &y, o).unwrap();
    let s = model.optimizer().unwrap().loss_scale().unwrap().read().unwrap();
    assert!(s.skipped == 8 && s.scale == 1e10 / 256.0, "all 8 overflowing steps were skipped: {s:?}");
    assert!(model.params().iter().all(|p| p.var.to_vec().unwrap().iter().all(|v| v.is_finite())));
}
