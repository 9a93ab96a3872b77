//! Shared device, seeded host data and the parity assertion (`atol + rtol |ref|`, reporting the
//! first mismatches with their indices).

use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use wgtrain_tensor::{Device, Strategy};

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

/// One device per GEMM path (matmul and convolutions), each forced whatever the adapter's
/// default, so the tests cover the tiled core, the uniform windows and the texture GEMM on one
/// adapter.
pub fn gemm_devs() -> [(&'static Device, Strategy); 3] {
    const PATHS: [Strategy; 3] = [Strategy::Gpu, Strategy::CpuWindows, Strategy::CpuTextures];
    static DEVS: OnceLock<[Device; 3]> = OnceLock::new();
    let devs = DEVS.get_or_init(|| {
        PATHS.map(|p| {
            let d = Device::new().expect("a GPU adapter");
            d.set_strategy(p).expect("the adapter supports this GEMM path");
            d
        })
    });
    [0, 1, 2].map(|i| (&devs[i], PATHS[i]))
}

pub fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// `n` uniform values in [lo, hi).
pub fn data(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut r = rng(seed);
    (0..n).map(|_| r.random_range(lo..hi)).collect()
}

/// Asserts |got - want| <= atol + rtol |want| elementwise (NaNs must match), printing up to
/// ten mismatches.
#[track_caller]
pub fn assert_close(got: &[f32], want: &[f32], atol: f32, rtol: f32, ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: length");
    let mut bad = Vec::new();
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= atol + rtol * w.abs()
        };
        if !ok {
            bad.push(format!("  [{i}] got {g:e}, want {w:e}, diff {:e}", (g - w).abs()));
        }
    }
    if !bad.is_empty() {
        let n = bad.len();
        bad.truncate(10);
        panic!("{ctx}: {n} of {} elements differ (atol {atol:e}, rtol {rtol:e}):\n{}", want.len(), bad.join("\n"));
    }
}

/// Tolerance of a reduction of length k in f32 against an f64 reference: 1e-4 sqrt(k).
pub fn gemm_tol(k: usize) -> f32 {
    1e-4 * (k as f32).sqrt()
}
