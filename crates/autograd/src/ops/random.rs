//! Dropout. The mask is a function of (seed, element index), so backward recomputes it by
//! applying the same dropout to the gradient: no mask is stored.

use crate::error::Result;
use crate::node::record;
use crate::var::Var;

impl Var {
    /// Inverted dropout with probability `p`; `seed` must differ between steps. d/dx: the same
    /// mask and scale applied to dy.
    pub fn dropout(&self, p: f32, seed: u64) -> Result<Var> {
        self.dropout_at(p, seed, 0)
    }

    /// [`Var::dropout`] drawing the stream from position `first` (a shard of a batch: see
    /// `Tensor::dropout_at`).
    pub fn dropout_at(&self, p: f32, seed: u64, first: u64) -> Result<Var> {
        let y = self.data().dropout_at(p, seed, first)?;
        Ok(record("dropout", y, &[self], vec![], move |c| Ok(vec![Some(c.grad.dropout_at(p, seed, first)?)])))
    }
}
