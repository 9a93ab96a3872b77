//! The fused LSTM cell as a differentiable op: one kernel forward, one backward.

use crate::error::Result;
use crate::node::record;
use crate::var::Var;

impl Var {
    /// One LSTM step (see `Tensor::lstm_cell`): gate pre-activations `gates` `[n, 4u]` and the
    /// previous cell state `c_prev` `[n, u]` to `[n, 2u]`, h then c. The backward is the fused
    /// `Tensor::lstm_cell_grad`, from the inputs and the output saved.
    pub fn lstm_cell(gates: &Var, c_prev: &Var) -> Result<Var> {
        let hc = wgtrain_tensor::Tensor::lstm_cell(gates.data(), c_prev.data())?;
        let saved = vec![gates.data().clone(), c_prev.data().clone(), hc.clone()];
        let four_u = gates.shape()[1];
        Ok(record("lstm_cell", hc, &[gates, c_prev], saved, move |c| {
            let both = wgtrain_tensor::Tensor::lstm_cell_grad(&c.saved[0], &c.saved[1], &c.saved[2], c.grad)?;
            let d_gates = c.needs(0).then(|| both.slice(1, 0, four_u, 1)?.contiguous()).transpose()?;
            let d_prev = c.needs(1).then(|| both.slice(1, four_u, four_u + four_u / 4, 1)?.contiguous()).transpose()?;
            Ok(vec![d_gates, d_prev])
        }))
    }
}
