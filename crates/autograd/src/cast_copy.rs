//! A leaf's copy in another dtype, kept with the leaf so that casting it again costs nothing
//! while its data is unchanged.
//!
//! Under mixed precision each layer casts its f32 master weights to f16 for its compute, every
//! forward pass. With the copy kept here, a pass that finds the weights unchanged (evaluation,
//! prediction, a second forward) casts nothing, and an optimizer that rewrites the copy in the
//! dispatch that updates the master (`wgtrain_tensor::UpdateOptions::f16_copy`) says so with
//! [`Var::copy_rewritten`], so a training step casts no weight at all.
//!
//! Validity goes by the data's version ([`Tensor::version`]): the copy records the version it
//! matches. Any in-place write to the data (an update, `assign`, a checkpoint load) bumps it, so
//! the next cast makes a fresh copy, unless the writer rewrote the copy too and said so. A
//! graph that saved the copy and outlives a rewrite fails its version check in backward, as
//! for any tensor written in place.

use wgtrain_tensor::{DType, Tensor};

use crate::error::Result;
use crate::var::{Var, lock};

/// A leaf's data in another dtype, as of one version of the data.
pub(crate) struct CastCopy {
    tensor: Tensor,
    of_version: u64,
}

impl Var {
    /// The leaf's data cast to `dtype`: the kept copy while it matches the data, else a fresh
    /// cast, which is kept. Values made by ops are cast afresh (they are not written in place).
    pub(crate) fn cast_data(&self, dtype: DType) -> Result<Tensor> {
        if !self.is_leaf() {
            return Ok(self.data().cast(dtype)?);
        }
        if let Some(copy) = self.current_copy(dtype) {
            return Ok(copy);
        }
        let tensor = self.data().cast(dtype)?;
        *lock(&self.meta().cast_copy) = Some(CastCopy { tensor: tensor.clone(), of_version: self.data().version() });
        Ok(tensor)
    }

    /// The copy in `dtype` that [`Var::cast`] keeps of this leaf, if there is one and it still
    /// matches the data. An in-place update that also rewrites it from the new data (an
    /// optimizer step storing the f16 copy) calls [`Var::copy_rewritten`] once it is recorded.
    pub fn current_copy(&self, dtype: DType) -> Option<Tensor> {
        let copy = lock(&self.meta().cast_copy);
        copy.as_ref()
            .filter(|c| c.tensor.dtype() == dtype && c.of_version == self.data().version())
            .map(|c| c.tensor.clone())
    }

    /// Says that the kept copy was rewritten from the data as it is now (after the in-place
    /// update that wrote both), so the next cast reuses it.
    pub fn copy_rewritten(&self) {
        if let Some(c) = lock(&self.meta().cast_copy).as_mut() {
            c.of_version = self.data().version();
        }
    }
}
