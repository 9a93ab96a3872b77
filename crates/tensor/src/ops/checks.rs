//! The device-side checks that report through the fault record (`fault.rs`): indices against
//! their range before the ops that take them, and finiteness for `fit`'s `check_numerics`.

use wgtrain_kernels::ops::fault::{self as kf, CheckParams, FaultOp, FiniteParams};

use crate::dtype::DType;
use crate::error::Result;
use crate::fault::RECORD_BYTES;
use crate::tensor::Tensor;

/// The bits of `ignore` as a label of `dtype`, or `None` when no label of that dtype can equal
/// it (e.g. -100 for u32 labels), so nothing is skipped.
pub(crate) fn ignore_bits(ignore: Option<i64>, dtype: DType) -> Option<u32> {
    let v = ignore?;
    match dtype {
        DType::I32 => i32::try_from(v).ok().map(|v| v as u32),
        _ => u32::try_from(v).ok(),
    }
}

impl Tensor {
    /// Records a device-side check of this index tensor (u32 or i32) against `0..limit` for
    /// `op`, skipping the value `ignore` (bits); the next read-back reports the first bad value.
    pub(crate) fn check_indices(&self, op: FaultOp, limit: usize, ignore: Option<u32>) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let ids = self.dense()?;
        let p = CheckParams::new(op, ids.len(), limit, ignore, ids.dtype() == DType::I32);
        let dev = self.device();
        let record = &dev.inner.faults;
        record.arm();
        dev.dispatch(&kf::check_indices(&p), &[ids.binding(), (&record.buffer, RECORD_BYTES)])
    }

    /// Flags this f32 tensor on the device when any element is NaN or infinite, naming it by
    /// `tag`: the next read-back (of any tensor on the device) then fails with
    /// [`TensorError::NonFinite`](crate::TensorError::NonFinite) carrying the smallest tag flagged since the last read-back.
    /// Nothing waits: this is how `fit`'s `check_numerics` watches every parameter each step.
    ///
    /// ```no_run
    /// # use wgtrain_tensor::{Device, Tensor, TensorError};
    /// # fn main() -> wgtrain_tensor::Result<()> {
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32, f32::NAN], &[2])?;
    /// x.check_finite(7)?;
    /// assert!(matches!(x.sum_all()?.item::<f32>(), Err(TensorError::NonFinite { tag: 7 })));
    /// # Ok(()) }
    /// ```
    pub fn check_finite(&self, tag: u32) -> Result<()> {
        self.expect_dtype("check_finite", DType::F32)?;
        if self.is_empty() {
            return Ok(());
        }
        let x = self.dense()?;
        let p = FiniteParams { n: x.len() as u32, tag, _pad: [0; 2] };
        let dev = self.device();
        let record = &dev.inner.faults;
        record.arm();
        dev.dispatch(&kf::check_finite(&p), &[x.binding(), (&record.buffer, RECORD_BYTES)])
    }
}
