//! The fused recurrent cells as differentiable ops: one kernel forward, one backward each.

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

    /// One GRU step (see `Tensor::gru_cell`): the input's projection `xp` and the state's `hp`
    /// (`[n, 3u]`) and the previous state `h_prev` `[n, u]` to the new state `[n, u]`. The
    /// backward is the fused `Tensor::gru_cell_grad`.
    pub fn gru_cell(xp: &Var, hp: &Var, h_prev: &Var) -> Result<Var> {
        let h = wgtrain_tensor::Tensor::gru_cell(xp.data(), hp.data(), h_prev.data())?;
        let saved = vec![xp.data().clone(), hp.data().clone(), h_prev.data().clone()];
        let u = h_prev.shape()[1];
        Ok(record("gru_cell", h, &[xp, hp, h_prev], saved, move |c| {
            let all = wgtrain_tensor::Tensor::gru_cell_grad(&c.saved[0], &c.saved[1], &c.saved[2], c.grad)?;
            let part = |i: usize, from: usize, to: usize| -> Result<Option<wgtrain_tensor::Tensor>> {
                Ok(c.needs(i).then(|| all.slice(1, from * u, to * u, 1)?.contiguous()).transpose()?)
            };
            Ok(vec![part(0, 0, 3)?, part(1, 3, 6)?, part(2, 6, 7)?])
        }))
    }
}
