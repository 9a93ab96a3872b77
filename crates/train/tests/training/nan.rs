//! Non-finite values are not swallowed: a NaN in the data gives a NaN logged loss,
//! `TerminateOnNan` stops at it and says why, `ModelCheckpoint` never saves such an epoch,
//! and optimizers refuse NaN or out-of-range hyper-parameters (also from a schedule mid-run).

use wgtrain::prelude::*;

use super::callbacks::{data, logs, model, weights};
use crate::harness::{dev, scratch};

/// The callbacks test's data with one NaN feature in sample 40 (the second batch of 32).
fn data_with_a_nan() -> (Tensor, Tensor) {
    let (x, y) = data();
    let mut host = x.to_vec::<f32>().unwrap();
    host[40 * 3 + 1] = f32::NAN;
    (Tensor::from_slice(dev(), &host, &[96, 3]).unwrap(), y)
}

fn options(epochs: usize) -> FitOptions {
    FitOptions { epochs, batch_size: 32, shuffle: false, verbose: false, log_every: 1, ..Default::default() }
}

#[test]
fn one_nan_in_the_data_gives_a_nan_logged_loss() {
    let (x, y) = data_with_a_nan();
    let mut m = model(11);
    let h = m.fit(&x, &y, options(2)).unwrap();
    let loss = h.get("loss");
    assert_eq!(loss.len(), 2);
    assert!(loss.iter().all(|l| l.is_nan()), "logged losses {loss:?}: the NaN sample's loss is NaN");
    assert!(h.stop_reason.is_none(), "no callback stopped the run");
    // The evaluation of that data is NaN too; of clean data, finite (NaN weights excepted).
    assert!(m.evaluate(&x, &y, 32).unwrap().get("loss").unwrap().is_nan());
}

#[test]
fn terminate_on_nan_stops_at_the_first_non_finite_read_back_and_says_so() {
    let (x, y) = data_with_a_nan();
    let mut m = model(12);
    let mut o = options(5);
    o.callbacks.push(Box::new(TerminateOnNan::new()));
    let h = m.fit(&x, &y, o).unwrap();
    assert_eq!(h.epochs, vec![0], "stopped in the first epoch");
    assert_eq!(m.global_step(), 2, "the read-back after batch 2 (the NaN sample's) stops it");
    match &h.stop_reason {
        Some(StopReason::NonFiniteLoss { name, value, epoch: 0, batch: Some(1) }) => {
            assert!(name == "loss" && value.is_nan(), "{name} {value}");
        }
        other => panic!("stop reason {other:?}"),
    }
    let said = h.stop_reason.unwrap().to_string();
    assert_eq!(said, "loss is NaN at epoch 1, batch 2");

    // A val_loss that turns non-finite at an epoch's end stops the run too.
    let mut cb = TerminateOnNan::new();
    let mut m = model(13);
    cb.on_train_begin(&mut m).unwrap();
    cb.on_epoch_end(&mut m, 0, &logs("val_loss", 0.5)).unwrap();
    assert!(!m.stop_training);
    cb.on_epoch_end(&mut m, 1, &logs("val_loss", f32::INFINITY)).unwrap();
    assert!(m.stop_training);
    assert_eq!(
        cb.reason,
        Some(StopReason::NonFiniteLoss { name: "val_loss".into(), value: f32::INFINITY, epoch: 1, batch: None })
    );
}

#[test]
fn model_checkpoint_never_saves_a_non_finite_epoch() {
    let dir = scratch("nan-ckpt");
    let mut m = model(14);
    let path = dir.join("best-{epoch}");
    let mut ck = ModelCheckpoint::new(&path.display().to_string()).monitor("val_accuracy").save_best_only(true);
    ck.on_train_begin(&mut m).unwrap();
    // A NaN model can have a fine-looking accuracy: the NaN loss beside it vetoes the save.
    let mut nan_loss = logs("val_accuracy", 0.3);
    nan_loss.set("loss", f32::NAN);
    ck.on_epoch_end(&mut m, 0, &nan_loss).unwrap();
    // A NaN monitored value is never the best, and does not block a later real improvement.
    ck.on_epoch_end(&mut m, 1, &logs("val_accuracy", f32::NAN)).unwrap();
    assert!(ck.saved.is_empty(), "saved {:?}", ck.saved);
    ck.on_epoch_end(&mut m, 2, &logs("val_accuracy", 0.2)).unwrap();
    assert_eq!(ck.saved, vec![dir.join("best-3")]);
    // Every-epoch saving skips a non-finite epoch as well.
    let mut every = ModelCheckpoint::new(&dir.join("e-{epoch}").display().to_string());
    every.on_train_begin(&mut m).unwrap();
    every.on_epoch_end(&mut m, 0, &logs("val_loss", f32::NAN)).unwrap();
    assert!(every.saved.is_empty());
}

/// A schedule that turns NaN at step 3.
struct NanAtStep3;

impl LrSchedule for NanAtStep3 {
    fn lr(&self, t: u64) -> f32 {
        if t >= 3 { f32::NAN } else { 0.01 }
    }
}

#[test]
fn optimizers_refuse_non_finite_and_out_of_range_hyperparameters() {
    let bad: Vec<(Box<dyn Optimizer>, &str)> = vec![
        (Box::new(Adam::new(f32::NAN)), "Adam: learning rate must be a finite number >= 0, got NaN"),
        (Box::new(Sgd::new(-0.1)), "SGD: learning rate must be a finite number >= 0, got -0.1"),
        (Box::new(Adam::new(0.01).betas(0.9, 1.0)), "Adam: beta2 must be in [0, 1), got 1"),
        (Box::new(AdamW::new(0.01, -1.0)), "AdamW: weight decay must be a finite number >= 0, got -1"),
        (Box::new(Adam::new(0.01).eps(0.0)), "Adam: eps must be a finite number > 0, got 0"),
        (Box::new(Sgd::new(0.1).momentum(f32::NAN)), "SGD: momentum must be a finite number >= 0, got NaN"),
        (Box::new(Rmsprop::new(0.1).alpha(1.5)), "RMSprop: alpha must be in [0, 1], got 1.5"),
        (Box::new(Adagrad::new(f32::INFINITY)), "Adagrad: learning rate must be a finite number >= 0, got inf"),
        (Box::new(Sgd::new(0.1).clip(GradClip::Value(-1.0))), "SGD: clip value must be a finite number > 0, got -1"),
    ];
    for (opt, says) in bad {
        let mut m = model(15);
        let before = weights(&m);
        // `compile` refuses it and keeps the model's earlier compilation (Adam at 0.01).
        let e = m.compile(opt, SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap_err().to_string();
        assert_eq!(e, says);
        assert_eq!(m.learning_rate(), Some(0.01));
        assert_eq!(weights(&m), before, "{says}: nothing was updated");
    }
    // In a custom loop, `step` refuses before touching the parameters.
    let mut m = model(16);
    let before = weights(&m);
    let mut opt = Adam::new(f32::NAN);
    let e = opt.step(&m.params()).unwrap_err().to_string();
    assert!(e.contains("Adam") && e.contains("NaN"), "{e}");
    assert_eq!(weights(&m), before);
    // set_learning_rate refuses and keeps the old rate.
    let e = m.set_learning_rate(f32::NAN).unwrap_err().to_string();
    assert!(e.contains("learning rate") && e.contains("NaN"), "{e}");
    assert_eq!(m.learning_rate(), Some(0.01));
    assert!(m.set_learning_rate(-1e-3).is_err() && m.set_learning_rate(0.0).is_ok());
}

#[test]
fn a_schedule_that_turns_nan_stops_fit_with_an_error() {
    let (x, y) = data();
    let mut m = model(17);
    let mut o = options(3);
    o.callbacks.push(Box::new(LearningRateScheduler::per_step(NanAtStep3)));
    let e = m.fit(&x, &y, o).unwrap_err().to_string();
    assert!(e.contains("learning rate") && e.contains("NaN"), "{e}");
    assert_eq!(m.global_step(), 3, "three steps ran, the fourth was refused");
    assert!(weights(&m).iter().flatten().all(|v| v.is_finite()));
}
