//! Callbacks and checkpoints: early stopping, best-only checkpoints, LR schedules on plateaus,
//! save/load, and resuming an interrupted fit.

use wgtrain::prelude::*;

use crate::harness::{dev, scratch};

pub fn model(seed: u64) -> Model {
    let net = Sequential::new(dev(), &[3])
        .seed(seed)
        .add(Dense::new(8).relu())
        .and_then(|s| s.add(Dropout::new(0.2)))
        .and_then(|s| s.add(Dense::new(2)))
        .unwrap();
    let mut m = Model::new(net).with_seed(seed);
    m.compile(
        Adam::new(0.01),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    )
    .unwrap();
    m
}

pub fn data() -> (Tensor, Tensor) {
    let x = Tensor::rand_uniform(dev(), &[96, 3], -1.0, 1.0, 21).unwrap();
    let y = x.sum(&[1], false).unwrap().gt_scalar(0.0).unwrap().cast(DType::U32).unwrap();
    (x, y)
}

pub fn logs(name: &str, v: f32) -> Logs {
    let mut l = Logs::new();
    l.set(name, v);
    l
}

pub fn weights(m: &Model) -> Vec<Vec<f32>> {
    m.params().iter().map(|p| p.var.to_vec().unwrap()).collect()
}

#[test]
fn early_stopping_stops_after_patience_and_restores_the_best_weights() {
    let mut m = model(1);
    let mut es = EarlyStopping::new("val_loss").patience(2).restore_best_weights(true);
    es.on_train_begin(&mut m).unwrap();
    let mut best = Vec::new();
    for (epoch, v) in [1.0, 0.8, 0.9, 0.85, 0.7].into_iter().enumerate() {
        // Stand-in for training: each epoch changes the weights.
        for p in m.params() {
            p.var.data().assign(&p.var.data().add_scalar(0.5).unwrap()).unwrap();
        }
        if epoch == 1 {
            best = weights(&m);
        }
        es.on_epoch_end(&mut m, epoch, &logs("val_loss", v)).unwrap();
        if m.stop_training {
            break;
        }
    }
    assert_eq!(es.stopped_epoch, Some(3), "no improvement at epochs 2 and 3");
    assert_eq!(es.best_epoch, Some(1));
    assert_eq!(weights(&m), best);
    // An unknown monitor is an error naming what is there.
    let mut bad = EarlyStopping::new("val_acc");
    bad.on_train_begin(&mut m).unwrap();
    let err = bad.on_epoch_end(&mut m, 0, &logs("loss", 1.0)).unwrap_err().to_string();
    assert!(err.contains("val_acc") && err.contains("loss"), "{err}");

    // In fit: a monitor that never improves stops after patience + 1 epochs.
    let (x, y) = data();
    let mut m = model(2);
    let mut o = FitOptions { epochs: 20, batch_size: 32, verbose: false, ..Default::default() };
    o.callbacks.push(Box::new(EarlyStopping::new("loss").mode(wgtrain::callbacks::Mode::Max).patience(1)));
    let h = m.fit(&x, &y, o).unwrap();
    assert!(h.epochs.len() <= 3, "stopped after {} epochs", h.epochs.len());
}

#[test]
fn model_checkpoint_writes_only_on_improvement() {
    let dir = scratch("ckpt");
    let mut m = model(3);
    let template = dir.join("e{epoch}-{val_loss}.safetensors").display().to_string();
    let mut ck = ModelCheckpoint::new(&template).save_best_only(true).weights_only(true);
    ck.on_train_begin(&mut m).unwrap();
    for (epoch, v) in [0.9, 0.7, 0.8, 0.6].into_iter().enumerate() {
        ck.on_epoch_end(&mut m, epoch, &logs("val_loss", v)).unwrap();
    }
    let names: Vec<String> = ck.saved.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["e1-0.9000.safetensors", "e2-0.7000.safetensors", "e4-0.6000.safetensors"]);
    assert!(ck.saved.iter().all(|p| p.is_file()));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
}

#[test]
fn reduce_lr_on_plateau_and_schedules_change_the_learning_rate() {
    let mut m = model(4);
    let mut r = ReduceLrOnPlateau::new("val_loss").patience(2).factor(0.5).min_lr(0.002);
    r.on_train_begin(&mut m).unwrap();
    let mut lrs = Vec::new();
    for (epoch, v) in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0].into_iter().enumerate() {
        r.on_epoch_end(&mut m, epoch, &logs("val_loss", v)).unwrap();
        lrs.push(m.learning_rate().unwrap());
    }
    assert_eq!(lrs, [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025]);
    let mut s = LearningRateScheduler::per_epoch(StepDecay { initial: 0.1, every: 2, factor: 0.1 });
    s.on_epoch_begin(&mut m, 3).unwrap();
    assert!((m.learning_rate().unwrap() - 0.01).abs() < 1e-7);
}

#[test]
fn a_saved_model_loads_to_identical_predictions() {
    let dir = scratch("save");
    let (x, y) = data();
    let mut a = model(5);
    a.fit(&x, &y, FitOptions { epochs: 2, batch_size: 32, verbose: false, ..Default::default() }).unwrap();
    a.save(&dir).unwrap();
    let mut b = model(6);
    b.load(&dir).unwrap();
    assert_eq!(
        a.predict(&x, 32).unwrap().to_vec::<f32>().unwrap(),
        b.predict(&x, 32).unwrap().to_vec::<f32>().unwrap()
    );
    assert_eq!((b.epochs_done(), b.global_step()), (2, 6));
    // A corrupt training.json is a clear error naming the file.
    std::fs::write(dir.join("training.json"), b"{ not json").unwrap();
    let err = b.load(&dir).unwrap_err().to_string();
    assert!(err.contains("training.json") && err.contains("JSON"), "{err}");
}

/// Fails as `epoch` begins, as a crash during it would.
pub struct CrashAt(pub usize);

impl Callback for CrashAt {
    fn on_epoch_begin(&mut self, _: &mut Model, epoch: usize) -> wgtrain::Result<()> {
        if epoch == self.0 { Err(TrainError::config("test", "simulated crash")) } else { Ok(()) }
    }
}

#[test]
fn an_interrupted_fit_resumes_to_the_same_weights() {
    let (x, y) = data();
    let opts = || FitOptions { epochs: 4, batch_size: 16, verbose: false, ..Default::default() };
    let mut straight = model(7);
    straight.fit(&x, &y, opts()).unwrap();

    let dir = scratch("backup");
    let mut first = model(7);
    let mut o = opts();
    o.callbacks.push(Box::new(BackupAndRestore::new(&dir)));
    o.callbacks.push(Box::new(CrashAt(2)));
    assert!(first.fit(&x, &y, o).is_err());
    // A new process: the same model from the same seed, resumed from the backup.
    let mut resumed = model(7);
    let mut o = opts();
    o.callbacks.push(Box::new(BackupAndRestore::new(&dir)));
    let h = resumed.fit(&x, &y, o).unwrap();
    assert_eq!(h.epochs, [2, 3], "resumed after the two epochs of the backup");
    assert_eq!(weights(&resumed), weights(&straight));
    assert!(!dir.exists(), "the backup is removed once fit completes");
}
