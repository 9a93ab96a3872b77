//! Resuming and loading all-or-nothing: callback state survives a resume, a failed load
//! changes nothing, a wrongly typed field is named, and a backup is checked before it is
//! trusted.

use wgtrain::prelude::*;

use super::callbacks::{CrashAt, data, logs, model, weights};
use crate::harness::scratch;

/// Raises the learning rate to 1e5 as `epoch` begins: the epoch diverges.
struct DivergeAt(usize);

impl Callback for DivergeAt {
    fn on_epoch_begin(&mut self, model: &mut Model, epoch: usize) -> wgtrain::Result<()> {
        if epoch == self.0 {
            model.set_learning_rate(1e5)?;
        }
        Ok(())
    }
}

fn epochs_in(checkpoint: &std::path::Path) -> u64 {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(checkpoint.join("training.json")).unwrap()).unwrap();
    meta["epochs_done"].as_u64().unwrap()
}

#[test]
fn a_resumed_run_whose_last_epoch_diverges_keeps_the_best_checkpoint() {
    let (x, y) = data();
    let root = scratch("resume-best");
    let (best, backup) = (root.join("best"), root.join("backup"));
    let callbacks = |last: Box<dyn Callback>| -> Vec<Box<dyn Callback>> {
        let best = best.display().to_string();
        vec![Box::new(ModelCheckpoint::new(&best).save_best_only(true)), Box::new(BackupAndRestore::new(&backup)), last]
    };
    let opts = |callbacks| {
        FitOptions { epochs: 3, batch_size: 16, verbose: false, callbacks, ..Default::default() }.validation(&x, &y)
    };
    // Two good epochs, then a crash in the third.
    let mut first = model(3);
    assert!(first.fit(&x, &y, opts(callbacks(Box::new(CrashAt(2))))).is_err());
    let saved_best = epochs_in(&best);
    assert!(saved_best >= 1, "a best checkpoint was written");
    // The resumed run's third epoch diverges: it must not replace the best checkpoint.
    let mut resumed = model(3);
    let h = resumed.fit(&x, &y, opts(callbacks(Box::new(DivergeAt(2))))).unwrap();
    assert_eq!(h.epochs, [2]);
    assert!(h.get("val_loss")[0] > 10.0, "the epoch diverged: {:?}", h.get("val_loss"));
    assert_eq!(epochs_in(&best), saved_best, "the diverged epoch replaced the best checkpoint");
}

#[test]
fn early_stopping_resumes_with_its_patience_and_best_weights() {
    let values = [1.0, 0.8, 0.9, 0.95, 0.7];
    let run = |es: &mut EarlyStopping, m: &mut Model, epochs: std::ops::Range<usize>| -> Option<usize> {
        for epoch in epochs {
            for p in m.params() {
                p.var.data().assign(&p.var.data().add_scalar(0.5).unwrap()).unwrap();
            }
            es.on_epoch_end(m, epoch, &logs("val_loss", values[epoch])).unwrap();
            if m.stop_training {
                return Some(epoch);
            }
        }
        None
    };
    let new = || EarlyStopping::new("val_loss").patience(2).restore_best_weights(true);
    let mut straight = model(1);
    let mut es = new();
    es.on_train_begin(&mut straight).unwrap();
    assert_eq!(run(&mut es, &mut straight, 0..5), Some(3));

    // Interrupted after epoch 2 (one epoch without improvement), resumed in a fresh callback.
    let mut m = model(1);
    let mut before = new();
    before.on_train_begin(&mut m).unwrap();
    assert_eq!(run(&mut before, &mut m, 0..3), None);
    let state = before.state().unwrap().unwrap();
    let mut after = new();
    after.on_train_begin(&mut m).unwrap();
    assert!(after.load_state(&state).unwrap());
    assert_eq!(run(&mut after, &mut m, 3..5), Some(3), "patience was reset by the resume");
    assert_eq!(weights(&m), weights(&straight), "the best weights were restored");
    // A state watching another value is not taken.
    let mut other = EarlyStopping::new("val_accuracy");
    other.on_train_begin(&mut m).unwrap();
    assert!(!other.load_state(&state).unwrap());
}

/// A saved, trained, Adam-compiled model and its checkpoint folder.
pub fn saved(name: &str) -> std::path::PathBuf {
    let (x, y) = data();
    let dir = scratch(name);
    let mut a = model(5);
    a.fit(&x, &y, FitOptions { epochs: 1, batch_size: 32, verbose: false, ..Default::default() }).unwrap();
    a.save(&dir).unwrap();
    dir
}

fn edit_manifest(dir: &std::path::Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("training.json");
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut meta);
    std::fs::write(&path, serde_json::to_vec(&meta).unwrap()).unwrap();
}

pub fn file_of(dir: &std::path::Path, role: &str) -> std::path::PathBuf {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("training.json")).unwrap()).unwrap();
    dir.join(meta["files"][role]["name"].as_str().unwrap())
}

/// Loads `dir` into a fresh model, expecting an error that mentions every one of `words`, and
/// checks the model was left exactly as it was.
#[track_caller]
fn refused(dir: &std::path::Path, mut m: Model, words: &[&str]) {
    let before = (weights(&m), m.global_step(), m.epochs_done(), m.learning_rate());
    let err = m.load(dir).unwrap_err().to_string();
    for w in words {
        assert!(err.contains(w), "the error should mention {w:?}: {err}");
    }
    assert_eq!(
        (weights(&m), m.global_step(), m.epochs_done(), m.learning_rate()),
        before,
        "a failed load changed the model"
    );
}

#[test]
fn a_failed_load_changes_nothing() {
    let dir = saved("load-optimizer");
    // Another kind of optimizer.
    let mut sgd = model(9);
    sgd.compile(Sgd::new(0.1), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    refused(&dir, sgd, &["Adam", "SGD"]);
    // A truncated optimizer file, then a missing one.
    let opt = file_of(&dir, "optimizer");
    let bytes = std::fs::read(&opt).unwrap();
    std::fs::write(&opt, &bytes[..bytes.len() / 2]).unwrap();
    refused(&dir, model(9), &["optimizer-", "truncated"]);
    std::fs::remove_file(&opt).unwrap();
    refused(&dir, model(9), &["optimizer-"]);
}

#[test]
fn wrongly_typed_training_fields_are_refused_by_name() {
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 5] = [
        ("optimizer.step", |m| m["optimizer"]["step"] = "4".into()),
        ("optimizer.lr", |m| m["optimizer"]["lr"] = "x".into()),
        ("optimizer.lr", |m| m["optimizer"]["lr"] = (-1.0).into()),
        ("epochs_done", |m| m["epochs_done"] = (-2).into()),
        ("global_step", |m| m["global_step"] = serde_json::Value::Null),
    ];
    for (field, edit) in cases {
        let dir = saved("load-fields");
        edit_manifest(&dir, edit);
        refused(&dir, model(9), &[field, "training.json"]);
    }
    // A changed byte in the weights is caught by the checksum.
    let dir = saved("load-crc");
    let w = file_of(&dir, "weights");
    let mut bytes = std::fs::read(&w).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&w, bytes).unwrap();
    refused(&dir, model(9), &["checksum"]);
}

#[test]
fn a_backup_from_a_longer_run_is_refused_and_kept() {
    let (x, y) = data();
    let dir = scratch("backup-long");
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    // A complete 3-epoch backup, as if its run was killed just before deleting it.
    let mut a = model(4);
    let o = FitOptions { epochs: 3, batch_size: 32, verbose: false, ..Default::default() };
    a.fit(&x, &y, o).unwrap();
    a.save(&dir).unwrap();
    let opts = |epochs| FitOptions {
        epochs,
        batch_size: 32,
        verbose: false,
        callbacks: vec![Box::new(BackupAndRestore::new(&dir))],
        ..Default::default()
    };
    let err = model(4).fit(&x, &y, opts(2)).unwrap_err().to_string();
    assert!(err.contains("epoch 3") && err.contains("2 epochs"), "{err}");
    assert!(dir.join("training.json").exists(), "the backup was deleted");
    // Asked for exactly its epochs: nothing to run, and the backup (not written by this run) stays.
    let h = model(4).fit(&x, &y, opts(3)).unwrap();
    assert!(h.epochs.is_empty());
    assert!(dir.join("training.json").exists(), "a backup this run did not write was deleted");
    // A run that writes it removes it when complete, and leaves the user's file alone.
    std::fs::remove_file(dir.join("training.json")).unwrap();
    model(4).fit(&x, &y, opts(1)).unwrap();
    assert!(!dir.join("training.json").exists());
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
}
