//! Weight checkpoints: round trip, strict and non-strict loading, corrupt files.

use wgtrain::TrainError;
use wgtrain::layers::*;
use wgtrain::models::{Model, Sequential};
use wgtrain::tensor::{DType, Tensor};

use crate::harness::{dev, scratch};

fn mlp(seed: u64, head: usize) -> Model {
    let net = Sequential::new(dev(), &[6]).seed(seed).add(Dense::new(5).relu()).unwrap().add(BatchNorm::new()).unwrap();
    Model::new(net.add(Dense::new(head)).unwrap())
}

#[test]
fn saved_weights_reload_to_identical_predictions() {
    let dir = scratch("weights");
    let x = Tensor::rand_uniform(dev(), &[4, 6], -1.0, 1.0, 3).unwrap();
    let mut a = mlp(1, 3);
    a.save_weights(dir.join("w.safetensors")).unwrap();
    let mut b = mlp(2, 3);
    assert_ne!(a.predict(&x, 4).unwrap().to_vec::<f32>().unwrap(), b.predict(&x, 4).unwrap().to_vec::<f32>().unwrap());
    let report = b.load_weights(dir.join("w.safetensors"), true).unwrap();
    assert_eq!(report.loaded.len(), 8); // 2 kernels, 2 biases, gamma, beta, 2 running statistics
    assert_eq!(a.predict(&x, 4).unwrap().to_vec::<f32>().unwrap(), b.predict(&x, 4).unwrap().to_vec::<f32>().unwrap());
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("w.safetensors")]);
}

#[test]
fn mismatched_weights_are_refused_strictly_and_skipped_otherwise() {
    let dir = scratch("mismatch");
    let path = dir.join("w.safetensors");
    mlp(1, 3).save_weights(&path).unwrap();
    let mut other = mlp(2, 7);
    let before = other.params()[4].var.to_vec().unwrap();
    let err = other.load_weights(&path, true).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("dense_2/kernel")
            && msg.contains("[5, 3]")
            && msg.contains("[5, 7]")
            && msg.contains("w.safetensors"),
        "{msg}"
    );
    // Strict failure changes nothing.
    assert_eq!(other.params()[4].var.to_vec().unwrap(), before);
    let report = other.load_weights(&path, false).unwrap();
    assert_eq!(report.loaded.len(), 6);
    assert_eq!(report.skipped.len(), 2, "{report:?}");
}

#[test]
fn corrupt_and_missing_files_give_clear_errors() {
    let dir = scratch("corrupt");
    let path = dir.join("w.safetensors");
    let mut m = mlp(1, 3);
    m.save_weights(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = m.load_weights(&path, true).unwrap_err();
    assert!(matches!(err, TrainError::Checkpoint { .. }), "{err}");
    assert!(err.to_string().contains("truncated or corrupt"), "{err}");
    let err = m.load_weights(dir.join("absent.safetensors"), true).unwrap_err();
    assert!(matches!(err, TrainError::Io { .. }) && err.to_string().contains("absent.safetensors"), "{err}");
    let _ = DType::F32;
}
