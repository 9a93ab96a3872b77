//! The device the tests share and small host helpers.

use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use wgtrain::tensor::{Device, Tensor};

pub fn dev() -> &'static Device {
    static DEV: OnceLock<Device> = OnceLock::new();
    DEV.get_or_init(|| Device::new().expect("a GPU adapter (see README: the test command installs lavapipe)"))
}

pub fn data(seed: u64, n: usize) -> Vec<f32> {
    let mut r = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| r.random_range(-1.0..1.0)).collect()
}

pub fn tensor(values: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(dev(), values, shape).unwrap()
}

#[track_caller]
pub fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "[{i}] got {g}, want {w}");
    }
}

/// A unique scratch folder under the system temp dir.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("wgtrain-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}
