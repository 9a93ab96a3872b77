//! Dropout. The mask is a function of (seed, element index), so backward recomputes it by
//! applying the same dropout to the gradient: no mask is stored.

use crate::error::Result;
use crate::node::record;
use crate::var::Var;

impl Var {
    /// Inverted dropout with probability `p`; `seed` must differ between steps. d/dx: the same
    /// mask and scale applied to dy.
    pub fn dropout(&self, p: f32, seed: u64) -> Result<Var> {
        let y = self.data().dropout(p, seed)?;
        Ok(record("dropout", y, &[self], vec![], move |c| Ok(vec![Some(c.grad.dropout(p, seed)?)])))
    }
}
