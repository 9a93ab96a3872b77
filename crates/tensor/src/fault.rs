//! The device's fault record: how kernels report bad input without a host read-back per op.
//!
//! Indices live on the device, so the host cannot check a label or an embedding id without
//! waiting for the GPU. Instead, ops that take user-given indices run `check_indices`
//! (`fault.wgsl`) before their kernel, and `fit` with `check_numerics` runs `check_finite` over
//! gradients and weights; both write into one small buffer per device (layout in
//! `wgtrain_kernels::ops::fault`). Every host read-back ([`Device::read`](crate::Device), which
//! `to_vec` and `item` funnel into) copies that record in the same submission as the data it
//! reads, clears it, and returns the fault as an error: so a fault recorded at step k is reported
//! by the next read-back of anything, once. The first index fault of a batch wins.

use std::sync::atomic::{AtomicBool, Ordering};

use wgtrain_kernels::ops::fault::{
    self as kf, CheckParams, FaultOp, FiniteParams, RECORD_LIMIT, RECORD_NONFINITE, RECORD_OP, RECORD_POSITION,
    RECORD_SIGNED, RECORD_VALUE, RECORD_WORDS,
};

use crate::dtype::DType;
use crate::error::{IndexKind, Result, TensorError};
use crate::tensor::Tensor;

/// Bytes of the record.
pub(crate) const RECORD_BYTES: u64 = (RECORD_WORDS * 4) as u64;

/// The record buffer, and whether a check may have written it since the last read-back (so a
/// read-back of a program that never checks anything copies nothing extra).
pub(crate) struct FaultRecord {
    pub(crate) buffer: wgpu::Buffer,
    armed: AtomicBool,
}

impl FaultRecord {
    pub(crate) fn new(device: &wgpu::Device) -> FaultRecord {
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgtrain fault record"),
            size: RECORD_BYTES,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            // Zeroed at creation: no fault.
            mapped_at_creation: false,
        });
        FaultRecord { buffer, armed: AtomicBool::new(false) }
    }

    /// Notes that a check is about to be recorded.
    fn arm(&self) {
        self.armed.store(true, Ordering::Release);
    }

    /// Whether the next read-back must copy the record (and disarms it: a check recorded after
    /// this call arms it again for the read-back after).
    pub(crate) fn take_armed(&self) -> bool {
        self.armed.swap(false, Ordering::AcqRel)
    }
}

/// The error a record's words describe, if any. An index fault is reported before a non-finite
/// flag (bad indices are the likelier cause of both).
pub(crate) fn decode(words: &[u32]) -> Option<TensorError> {
    if let Some(op) = FaultOp::from_code(words[RECORD_OP]) {
        let bits = words[RECORD_VALUE];
        let value = if words[RECORD_SIGNED] != 0 { bits as i32 as i64 } else { bits as i64 };
        let what = if op.takes_labels() { IndexKind::Label } else { IndexKind::Index };
        return Some(TensorError::IndexOutOfRange {
            op: op.name(),
            what,
            value,
            position: words[RECORD_POSITION] as u64,
            limit: words[RECORD_LIMIT] as u64,
        });
    }
    match words[RECORD_NONFINITE] {
        0 => None,
        flag => Some(TensorError::NonFinite { tag: !flag }),
    }
}

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
    /// [`TensorError::NonFinite`] carrying the smallest tag flagged since the last read-back.
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
