//! The bad-input suite of `fit`, `evaluate` and `predict` (issue 20, item 10): malformed data
//! and options give an error naming the call and what is wrong, before anything trains, and
//! leave the weights as they were. Degenerate-but-valid calls (no epochs, no samples to
//! predict) give the empty result Keras gives.

use wgtrain::prelude::*;

use crate::harness::dev;

fn model() -> Model {
    let net = Sequential::new(dev(), &[4]).seed(1).add(Dense::new(3)).unwrap();
    let mut m = Model::new(net).with_seed(1);
    m.compile(Sgd::new(0.1), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    m
}

fn x(n: usize) -> Tensor {
    Tensor::rand_uniform(dev(), &[n, 4], -1.0, 1.0, 3).unwrap()
}

fn labels(n: usize) -> Tensor {
    let y: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
    Tensor::from_slice(dev(), &y, &[n]).unwrap()
}

fn quiet() -> FitOptions {
    FitOptions { epochs: 1, batch_size: 4, verbose: false, ..Default::default() }
}

fn weights(m: &Model) -> Vec<Vec<f32>> {
    m.params().iter().map(|p| p.var.to_vec().unwrap()).collect()
}

/// `fit` fails with an error mentioning every one of `words`, and the weights are unchanged.
#[track_caller]
fn fit_refused(x: &Tensor, y: &Tensor, o: FitOptions, words: &[&str]) {
    let mut m = model();
    let before = weights(&m);
    let err = m.fit(x, y, o).expect_err("fit should refuse this");
    let msg = err.to_string();
    for w in words {
        assert!(msg.contains(w), "the error should mention {w:?}: {msg}");
    }
    assert_eq!(weights(&m), before, "a refused fit changed the weights");
}

#[test]
fn fit_refuses_mismatched_or_malformed_data() {
    fit_refused(&x(8), &labels(7), quiet(), &["fit", "8"]);
    fit_refused(&Tensor::rand_uniform(dev(), &[8, 5], 0.0, 1.0, 0).unwrap(), &labels(8), quiet(), &["fit", "[8, 5]"]);
    fit_refused(&x(8).reshape(&[8, 2, 2]).unwrap(), &labels(8), quiet(), &["fit"]);
    fit_refused(&Tensor::zeros(dev(), &[8, 4], DType::U32).unwrap(), &labels(8), quiet(), &[]);
    fit_refused(&x(0), &labels(0), quiet(), &["fit", "no training samples"]);
    // Float targets for a sparse (integer-label) loss, and labels of the wrong rank.
    fit_refused(&x(8), &Tensor::zeros(dev(), &[8], DType::F32).unwrap(), quiet(), &[]);
    fit_refused(&x(8), &Tensor::zeros(dev(), &[8, 3], DType::U32).unwrap(), quiet(), &[]);
}

#[test]
fn fit_refuses_nonsense_options() {
    let (x, y) = (x(8), labels(8));
    fit_refused(&x, &y, FitOptions { batch_size: 0, ..quiet() }, &["batch_size"]);
    for split in [1.0, -0.1, f32::NAN] {
        fit_refused(&x, &y, FitOptions { validation_split: split, ..quiet() }, &["validation_split"]);
    }
    fit_refused(&x, &y, FitOptions { log_every: 0, ..quiet() }, &["log_every"]);
    fit_refused(&x, &y, FitOptions { initial_epoch: 3, epochs: 2, ..quiet() }, &["initial_epoch"]);
    let bad_val = quiet().validation(&Tensor::zeros(dev(), &[4, 7], DType::F32).unwrap(), &labels(4));
    fit_refused(&x, &y, bad_val, &["[4, 7]"]);
    let short_val = quiet().validation(&Tensor::zeros(dev(), &[4, 4], DType::F32).unwrap(), &labels(3));
    fit_refused(&x, &y, short_val, &[]);
}

#[test]
fn an_uncompiled_model_says_to_compile() {
    let net = Sequential::new(dev(), &[4]).add(Dense::new(3)).unwrap();
    let mut m = Model::new(net);
    for err in [m.fit(&x(4), &labels(4), quiet()).err(), m.evaluate(&x(4), &labels(4), 2).err()] {
        let msg = err.expect("refused").to_string();
        assert!(msg.contains("compile"), "{msg}");
    }
}

#[test]
fn zero_epochs_train_nothing_as_in_keras() {
    let mut m = model();
    let before = weights(&m);
    let history = m.fit(&x(8), &labels(8), FitOptions { epochs: 0, ..quiet() }).unwrap();
    assert!(history.get("loss").is_empty());
    assert_eq!(weights(&m), before);
}

#[test]
fn evaluate_and_predict_refuse_malformed_calls() {
    let mut m = model();
    for (r, words) in [
        (m.evaluate(&x(8), &labels(8), 0).err(), &["batch_size"][..]),
        (m.evaluate(&x(8), &labels(5), 4).err(), &["evaluate"][..]),
        (m.evaluate(&Tensor::zeros(dev(), &[8, 3], DType::F32).unwrap(), &labels(8), 4).err(), &["[8, 3]"][..]),
        (m.predict(&x(8), 0).err(), &["batch_size"][..]),
        (m.predict(&Tensor::zeros(dev(), &[8], DType::F32).unwrap(), 4).err(), &["predict", "[8]"][..]),
    ] {
        let msg = r.expect("refused").to_string();
        for w in words {
            assert!(msg.contains(w), "the error should mention {w:?}: {msg}");
        }
    }
    // No samples: predict gives no rows (as Keras and PyTorch); evaluate has nothing to average.
    assert_eq!(m.predict(&x(0), 4).unwrap().shape(), [0, 3]);
    let err = m.evaluate(&x(0), &labels(0), 4).expect_err("nothing to evaluate").to_string();
    assert!(err.contains("evaluate"), "{err}");
}

#[test]
fn a_loader_of_the_wrong_sample_shape_is_refused() {
    let data = InMemory::new(vec![0.0; 10 * 5], &[5], vec![wgtrain::data::Label::Class(0); 10]).unwrap();
    let loader = DataLoader::new(data, 4).unwrap();
    let mut m = model();
    let err = m.fit_loader(&loader, None, quiet()).expect_err("refused").to_string();
    assert!(err.contains("[5]"), "{err}");
}

#[test]
fn validation_targets_unlike_the_training_targets_are_refused_before_training() {
    let val = quiet().validation(&x(4), &Tensor::zeros(dev(), &[4], DType::F32).unwrap());
    fit_refused(&x(8), &labels(8), val, &["validation_data", "U32"]);
}

#[test]
fn degenerate_metric_schedule_and_loader_settings_do_not_panic_or_hang() {
    use wgtrain::optim::{LrSchedule, global_norm};
    assert!(ConfusionMatrix::new(0).matrix().unwrap().is_empty());
    // A period that would wrap to 0 (an endless loop) and a decay count past i32.
    let cosine = CosineAnnealing { max: 1.0, min: 0.0, period: 2, t_mult: 1 << 63 };
    assert!(cosine.lr(u64::MAX - 1).is_finite() && cosine.lr(5).is_finite());
    let step = StepDecay { initial: 1.0, every: 1, factor: 0.5 };
    assert_eq!(step.lr(1 << 40), 0.0);
    // Absurd worker and prefetch counts are capped at what the batches can use.
    let loader =
        DataLoader::new(InMemory::new(vec![0.0; 6], &[2], vec![wgtrain::data::Label::Class(0); 3]).unwrap(), 2)
            .unwrap()
            .workers(usize::MAX)
            .prefetch(usize::MAX);
    assert_eq!(loader.iter(0).filter(|b| b.is_ok()).count(), 2);
    // A rank-0 parameter's gradient counts in the global norm.
    let p = Param::new("scale", Var::parameter(Tensor::from_slice(dev(), &[3.0f32], &[]).unwrap()));
    p.var.mul_scalar(4.0).unwrap().backward().unwrap();
    let norm = global_norm(&[p]).unwrap().expect("a gradient").item::<f32>().unwrap();
    assert_eq!(norm, 4.0);
}
