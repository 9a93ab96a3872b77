//! The device's fault record: how kernels report bad input without a host read-back per op.
//!
//! Indices live on the device, so the host cannot check a label or an embedding id without
//! waiting for the GPU. Instead, ops that take user-given indices run `check_indices`
//! (`fault.wgsl`, recorded by `ops/checks.rs`) before their kernel, and `fit` with `check_numerics` runs `check_finite` over
//! gradients and weights; both write into one small buffer per device (layout in
//! `wgtrain_kernels::ops::fault`). Every host read-back ([`Device::read`](crate::Device), which
//! `to_vec` and `item` funnel into) copies that record in the same submission as the data it
//! reads, clears it, and returns the fault as an error: so a fault recorded at step k is reported
//! by the next read-back of anything, once. The first index fault of a batch wins.

use std::sync::atomic::{AtomicBool, Ordering};

use wgtrain_kernels::ops::fault::{
    FaultOp, RECORD_LIMIT, RECORD_NONFINITE, RECORD_OP, RECORD_POSITION, RECORD_SIGNED, RECORD_VALUE, RECORD_WORDS,
};

use crate::error::{IndexKind, TensorError};

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
    pub(crate) fn arm(&self) {
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
