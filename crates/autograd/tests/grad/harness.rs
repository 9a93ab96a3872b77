//! Shared device, seeded host data, and `check`: a gradcheck with the test's tolerances.

use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use wgtrain_autograd::{CheckInput, GradcheckOptions, GradcheckReport, Result, Var, gradcheck};
use wgtrain_tensor::{Device, Tensor};

/// The device every test in this binary shares: Vulkan (lavapipe in CI) unless
/// `WGTRAIN_ADAPTER` says otherwise.
pub fn dev() -> &'static Device {
    static DEV: OnceLock<Device> = OnceLock::new();
    DEV.get_or_init(|| {
        let d = Device::new().expect("a GPU adapter (see README: the test command installs lavapipe)");
        eprintln!("test adapter: {}", d.adapter());
        d
    })
}

/// `n` uniform values in [lo, hi).
pub fn data(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut r = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| r.random_range(lo..hi)).collect()
}

/// A gradcheck input of `shape` with uniform values in [lo, hi).
pub fn input(seed: u64, shape: &[usize], lo: f32, hi: f32) -> CheckInput {
    CheckInput::new(data(seed, shape.iter().product(), lo, hi), shape)
}

pub fn tensor(values: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(dev(), values, shape).unwrap()
}

pub fn labels(values: &[u32]) -> Tensor {
    Tensor::from_slice(dev(), values, &[values.len()]).unwrap()
}

/// The tolerances stated for the f32 GPU gradient against f64 central differences.
pub const TOL: GradcheckOptions = GradcheckOptions { eps: 1e-6, atol: 2e-4, rtol: 2e-3, seed: 7 };

/// Runs a gradcheck with [`TOL`] and fails the test with its error.
#[track_caller]
pub fn check(
    what: &str,
    inputs: &[CheckInput],
    gpu: impl Fn(&[Var]) -> Result<Var>,
    reference: impl Fn(&[Vec<f64>]) -> Vec<f64>,
) -> GradcheckReport {
    check_with(what, inputs, gpu, reference, &TOL)
}

#[track_caller]
pub fn check_with(
    what: &str,
    inputs: &[CheckInput],
    gpu: impl Fn(&[Var]) -> Result<Var>,
    reference: impl Fn(&[Vec<f64>]) -> Vec<f64>,
    o: &GradcheckOptions,
) -> GradcheckReport {
    match gradcheck(dev(), inputs, gpu, reference, o) {
        Ok(r) => r,
        Err(e) => panic!("{what}: {e}"),
    }
}
