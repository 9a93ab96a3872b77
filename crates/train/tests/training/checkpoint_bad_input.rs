//! The bad-input suite of checkpoints (issue 20, item 10): random bytes, every kind of
//! truncation, hostile manifests and folders that are not checkpoints. Each load must fail
//! with a checkpoint or I/O error naming the file, never panic, and leave the model exactly
//! as it was.

use rand::{Rng, SeedableRng};
use wgtrain::TrainError;
use wgtrain::prelude::*;

use super::callbacks::{model, weights};
use super::resume::{file_of, saved};
use crate::harness::scratch;

fn manifest(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("training.json")).unwrap()).unwrap()
}

/// `load` (folder) or `load_weights` (file) fails with a typed error mentioning `word`, and
/// the model is unchanged.
#[track_caller]
fn refused(load: impl FnOnce(&mut Model) -> wgtrain::Result<()>, word: &str) {
    let mut m = model(9);
    let before = (weights(&m), m.global_step(), m.epochs_done(), m.learning_rate());
    let err = load(&mut m).expect_err("a bad checkpoint was accepted");
    assert!(matches!(err, TrainError::Checkpoint { .. } | TrainError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains(word), "the error should mention {word:?}: {err}");
    assert_eq!((weights(&m), m.global_step(), m.epochs_done(), m.learning_rate()), before, "{err}");
}

#[test]
fn random_bytes_are_refused_as_weights_manifest_and_data_files() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20);
    let dir = scratch("ckpt-random");
    let lengths = [0usize, 1, 7, 8, 9, 64, 1000, 70_000];
    for (i, &n) in lengths.iter().enumerate() {
        let mut bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
        // Half the cases start with a plausible safetensors header length, to get past it.
        if i % 2 == 1 && n >= 8 {
            bytes[..8].copy_from_slice(&((n as u64).saturating_sub(8)).to_le_bytes());
        }
        let file = dir.join(format!("r{i}.safetensors"));
        std::fs::write(&file, &bytes).unwrap();
        refused(|m| m.load_weights(&file, true).map(|_| ()), &format!("r{i}.safetensors"));
        let folder = saved("ckpt-random-manifest");
        std::fs::write(folder.join("training.json"), &bytes).unwrap();
        refused(|m| m.load(&folder), "training.json");
        let folder = saved("ckpt-random-data");
        std::fs::write(file_of(&folder, "weights"), &bytes).unwrap();
        refused(|m| m.load(&folder), "weights-");
    }
}

#[test]
fn every_truncation_of_a_checkpoint_is_refused() {
    let dir = saved("ckpt-truncate");
    for role in ["weights", "optimizer"] {
        let path = file_of(&dir, role);
        let whole = std::fs::read(&path).unwrap();
        let mut cuts: Vec<usize> = (0..whole.len()).step_by(whole.len() / 12 + 1).collect();
        cuts.extend([1, 8, whole.len() - 1]);
        for cut in cuts {
            std::fs::write(&path, &whole[..cut]).unwrap();
            refused(|m| m.load(&dir), &format!("{role}-"));
        }
        std::fs::write(&path, &whole).unwrap();
    }
    let path = dir.join("training.json");
    let whole = std::fs::read(&path).unwrap();
    for cut in (0..whole.len()).step_by(whole.len() / 10 + 1) {
        std::fs::write(&path, &whole[..cut]).unwrap();
        refused(|m| m.load(&dir), "training.json");
    }
    std::fs::write(&path, &whole).unwrap();
    model(9).load(&dir).expect("the restored checkpoint loads again");
}

#[test]
fn hostile_or_foreign_manifests_are_refused() {
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 7] = [
        ("format", |m| m["format"] = "wgtrain-checkpoint-99".into()),
        ("not a weights data file name", |m| m["files"]["weights"]["name"] = "../../etc/passwd".into()),
        ("not a weights data file name", |m| m["files"]["weights"]["name"] = "/tmp/weights-1.safetensors".into()),
        ("not a weights data file name", |m| m["files"]["weights"]["name"] = "optimizer-1.safetensors".into()),
        ("bytes", |m| m["files"]["weights"]["bytes"] = u64::MAX.into()),
        ("crc32c", |m| m["files"]["weights"]["crc32c"] = "zero".into()),
        ("files", |m| m["files"] = serde_json::json!([])),
    ];
    for (word, edit) in cases {
        let dir = saved("ckpt-hostile");
        let mut meta = manifest(&dir);
        edit(&mut meta);
        std::fs::write(dir.join("training.json"), serde_json::to_vec(&meta).unwrap()).unwrap();
        refused(|m| m.load(&dir), word);
    }
}

#[test]
fn folders_that_are_not_checkpoints_are_refused() {
    let empty = scratch("ckpt-empty");
    refused(|m| m.load(&empty), "training.json");
    refused(|m| m.load(empty.join("absent")), "absent");
    let file = empty.join("plain.txt");
    std::fs::write(&file, "not a folder").unwrap();
    refused(|m| m.load(&file), "plain.txt");
    refused(|m| m.load_weights(&empty, true).map(|_| ()), "ckpt-empty");
}
