//! Cutting batches out of whole data sets on the device, of any size.
//!
//! A data set a kernel can bind whole is batched as views (in order) or gathered by a kernel
//! (shuffled). One larger than a storage binding (128 MiB on lavapipe and WebGPU's default:
//! all of MNIST or CIFAR-10 as f32) cannot be bound at all, so its batches are copied out row
//! by row with buffer copies (`Tensor::take_rows`), which have no binding limit; an in-order
//! batch is one copy.

use wgtrain_tensor::{DType, Tensor};

use crate::error::Result;

/// Rows `start..end` of `t` as a batch: a view when a kernel can bind `t`, else a copy.
pub(crate) fn rows(t: &Tensor, start: usize, end: usize) -> Result<Tensor> {
    if t.fits_one_binding() {
        return Ok(t.slice(0, start, end, 1)?);
    }
    let ids: Vec<u32> = (start as u32..end as u32).collect();
    Ok(contiguous_rows(t)?.take_rows(&ids)?)
}

/// A tensor `[n, ...]` prepared once per epoch for gathering rows by index.
pub(crate) enum RowTable {
    /// As an f32 table `[n, d]` for the embedding kernel (integer labels travel through f32,
    /// exact below 2^24), so no batch re-casts it.
    Kernel { table: Tensor, item_shape: Vec<usize>, dtype: DType },
    /// Too large to bind: rows are copied out of it.
    Copies(Tensor),
}

impl RowTable {
    pub(crate) fn new(t: &Tensor) -> Result<Self> {
        if !t.fits_one_binding() {
            return Ok(RowTable::Copies(contiguous_rows(t)?));
        }
        let n = t.shape()[0];
        let d = t.len().checked_div(n).unwrap_or(0);
        let f = if t.dtype() == DType::F32 { t.clone() } else { t.cast(DType::F32)? };
        Ok(RowTable::Kernel { table: f.reshape(&[n, d])?, item_shape: t.shape()[1..].to_vec(), dtype: t.dtype() })
    }

    /// Rows `ids` as a new `[ids.len(), ...]` tensor of the original dtype. `device_ids` holds
    /// the same indices on the device, for the kernel.
    pub(crate) fn gather(&self, ids: &[u32], device_ids: &Tensor) -> Result<Tensor> {
        match self {
            RowTable::Kernel { table, item_shape, dtype } => {
                let mut shape = vec![ids.len()];
                shape.extend(item_shape);
                let rows = Tensor::embedding(device_ids, table)?.reshape(&shape)?;
                Ok(if *dtype == DType::F32 { rows } else { rows.cast(*dtype)? })
            }
            RowTable::Copies(t) => Ok(t.take_rows(ids)?),
        }
    }
}

/// `t` itself when it is contiguous (its rows can be copied); a strided view too large to
/// bind cannot be made contiguous by a kernel either, so it is an error.
fn contiguous_rows(t: &Tensor) -> Result<Tensor> {
    if t.is_contiguous() {
        return Ok(t.clone());
    }
    let why = format!(
        "a strided view {:?} larger than one storage binding ({} bytes) cannot be batched: pass a contiguous tensor",
        t.shape(),
        t.device().max_binding_bytes()
    );
    Err(crate::error::TrainError::config("batching", why))
}
