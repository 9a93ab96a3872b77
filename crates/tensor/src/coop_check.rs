//! The check a device with cooperative matrices runs before the planner may pick
//! `matmul_coop.wgsl` (see `coop.rs`): one product on the cooperative kernel and on the tiled
//! GEMM, compared.

use wgtrain_kernels::ops::map::UnaryOp;
use wgtrain_kernels::ops::matmul::{self, GemmPrecision, MatmulParams};

use crate::coop::CoopStatus;
use crate::device::Device;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// The status of a device whose adapter has everything the kernel needs: verified, or rejected.
pub(crate) fn verify(dev: &Device) -> CoopStatus {
    match compare(dev) {
        Ok(Ok(max_error)) => CoopStatus::Verified { max_error },
        Ok(Err(why)) => CoopStatus::Rejected(why),
        Err(e) => CoopStatus::Rejected(e.to_string()),
    }
}

/// The extents of the check: none a multiple of the 32-wide block or the 16-deep slice.
const BATCH: usize = 2;
const M: usize = 45;
const K: usize = 37;
const N: usize = 51;

/// Runs the check's product on both kernels in both output precisions: `Ok(Ok(max error))`,
/// `Ok(Err(how they differ))`, or a device error.
fn compare(dev: &Device) -> Result<std::result::Result<f32, String>> {
    let values = |len: usize, seed: usize| -> Vec<f32> {
        (0..len).map(|i| (((i * 7919 + seed * 104_729) % 2001) as f32 - 1000.0) / 1000.0).collect()
    };
    let a = Tensor::from_slice(dev, &values(BATCH * M * K, 1), &[BATCH, M, K])?.cast(DType::F16)?;
    // B is read transposed: stored [batch, n, k], read as [batch, k, n] through its strides.
    let bt = Tensor::from_slice(dev, &values(BATCH * N * K, 2), &[BATCH, N, K])?.cast(DType::F16)?;
    let bias = Tensor::from_slice(dev, &values(N, 3), &[N])?.cast(DType::F16)?;
    let p = MatmulParams {
        m: M as u32,
        n: N as u32,
        k: K as u32,
        batch: BATCH as u32,
        a_off: 0,
        a_rs: K as u32,
        a_cs: 1,
        a_bs: (M * K) as u32,
        b_off: 0,
        b_rs: 1,
        b_cs: K as u32,
        b_bs: (N * K) as u32,
        bias_off: 0,
        has_bias: 1,
        act: UnaryOp::LeakyRelu as u32,
        alpha: 0.1,
    };
    let mut worst = 0.0f32;
    for (precision, dtype, tolerance) in
        [(GemmPrecision::F16ToF32, DType::F32, 2e-3), (GemmPrecision::F16, DType::F16, 2e-2)]
    {
        let run = |coop: bool| -> Result<Vec<f32>> {
            let out = Tensor::empty(dev, &[BATCH, M, N], dtype)?;
            let launch = match coop {
                true => matmul::launch_coop(&p, precision).expect("f16 operands"),
                false => matmul::launch(&p, dev.gemm_tiles(), precision),
            };
            dev.dispatch(&launch, &[a.binding(), bt.binding(), bias.binding(), out.binding()])?;
            out.cast(DType::F32)?.to_vec::<f32>()
        };
        let (want, got) = (run(false)?, run(true)?);
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            let error = (w - g).abs();
            if error.is_nan() || error > tolerance * (1.0 + w.abs()) {
                return Ok(Err(format!("{precision:?} element {i}: {g}, the tiled GEMM {w}")));
            }
            worst = worst.max(error);
        }
    }
    Ok(Ok(worst))
}
