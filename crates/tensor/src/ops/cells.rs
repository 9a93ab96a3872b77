//! The fused recurrent cells: a step's elementwise part in one kernel each way (see
//! `wgtrain_kernels::ops::cells`), so a step of an LSTM or a GRU costs its two matmuls and one
//! cell dispatch rather than about ten small ones (thirty with the backward).

use wgtrain_kernels::ops::cells;

use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

impl Tensor {
    /// One LSTM step from the gate pre-activations `gates` `[n, 4u]` (input, forget, candidate,
    /// output, each a block of `u` columns, as Keras orders them) and the previous cell state
    /// `c_prev` `[n, u]`: `[n, 2u]` holding h = sigmoid(o) tanh(c) in columns `0..u` and
    /// c = sigmoid(f) c_prev + sigmoid(i) tanh(g) in `u..2u`. f32.
    pub fn lstm_cell(gates: &Tensor, c_prev: &Tensor) -> Result<Tensor> {
        let (n, u) = cell_shape("lstm_cell", gates, c_prev)?;
        let out = Tensor::empty(gates.device(), &[n, 2 * u], DType::F32)?;
        if n * u > 0 {
            let (g, c) = (gates.dense()?, c_prev.dense()?);
            gates.device().dispatch(&cells::lstm(n, u), &[g.binding(), c.binding(), out.binding()])?;
        }
        Ok(out)
    }

    /// The backward of [`lstm_cell`](Self::lstm_cell): from its inputs, its output `hc` and that
    /// output's gradient `dhc` (`[n, 2u]`), `[n, 5u]` holding the gradient of `gates` in columns
    /// `0..4u` and of `c_prev` in `4u..5u`.
    pub fn lstm_cell_grad(gates: &Tensor, c_prev: &Tensor, hc: &Tensor, dhc: &Tensor) -> Result<Tensor> {
        let op = "lstm_cell_grad";
        let (n, u) = cell_shape(op, gates, c_prev)?;
        for (t, what) in [(hc, "the cell's output"), (dhc, "its gradient")] {
            t.expect_dtype(op, DType::F32)?;
            gates.same_device(op, t)?;
            if t.shape() != [n, 2 * u] {
                let expected = format!("{what} of shape [{n}, {}]", 2 * u);
                return Err(TensorError::Shape { op, expected, got: t.shape().to_vec() });
            }
        }
        let out = Tensor::empty(gates.device(), &[n, 5 * u], DType::F32)?;
        if n * u > 0 {
            let (g, c, h, d) = (gates.dense()?, c_prev.dense()?, hc.dense()?, dhc.dense()?);
            let b = [g.binding(), c.binding(), h.binding(), d.binding(), out.binding()];
            gates.device().dispatch(&cells::lstm_grad(n, u), &b)?;
        }
        Ok(out)
    }
}

impl Tensor {
    /// One GRU step (Keras' `reset_after`): from the input's projection `xp` and the previous
    /// state's projection `hp` (both `[n, 3u]`: update, reset and candidate blocks; `hp` with
    /// its own bias) and the previous state `h_prev` `[n, u]`, the new state `[n, u]`:
    /// z = sigmoid(xz + hz), r = sigmoid(xr + hr), g = tanh(xc + r hc), h = g + z (h_prev - g).
    pub fn gru_cell(xp: &Tensor, hp: &Tensor, h_prev: &Tensor) -> Result<Tensor> {
        let (n, u) = gru_shape("gru_cell", xp, hp, h_prev)?;
        let out = Tensor::empty(xp.device(), &[n, u], DType::F32)?;
        if n * u > 0 {
            let (x, h, prev) = (xp.dense()?, hp.dense()?, h_prev.dense()?);
            xp.device().dispatch(&cells::gru(n, u), &[x.binding(), h.binding(), prev.binding(), out.binding()])?;
        }
        Ok(out)
    }

    /// The backward of [`gru_cell`](Self::gru_cell) given the new state's gradient `dh`
    /// `[n, u]`: `[n, 7u]` holding the gradient of `xp` (columns `0..3u`), of `hp`
    /// (`3u..6u`) and of `h_prev` (`6u..7u`).
    pub fn gru_cell_grad(xp: &Tensor, hp: &Tensor, h_prev: &Tensor, dh: &Tensor) -> Result<Tensor> {
        let op = "gru_cell_grad";
        let (n, u) = gru_shape(op, xp, hp, h_prev)?;
        dh.expect_dtype(op, DType::F32)?;
        xp.same_device(op, dh)?;
        if dh.shape() != [n, u] {
            return Err(TensorError::Shape {
                op,
                expected: format!("a gradient of shape [{n}, {u}]"),
                got: dh.shape().to_vec(),
            });
        }
        let out = Tensor::empty(xp.device(), &[n, 7 * u], DType::F32)?;
        if n * u > 0 {
            let (x, h, prev, d) = (xp.dense()?, hp.dense()?, h_prev.dense()?, dh.dense()?);
            let b = [x.binding(), h.binding(), prev.binding(), d.binding(), out.binding()];
            xp.device().dispatch(&cells::gru_grad(n, u), &b)?;
        }
        Ok(out)
    }
}

/// `(n, u)` of f32 projections `[n, 3u]` and a state `[n, u]` on one device.
fn gru_shape(op: &'static str, xp: &Tensor, hp: &Tensor, h_prev: &Tensor) -> Result<(usize, usize)> {
    for t in [xp, hp, h_prev] {
        t.expect_dtype(op, DType::F32)?;
        xp.same_device(op, t)?;
    }
    let &[n, three_u] = xp.shape() else {
        return Err(TensorError::Shape { op, expected: "projections [n, 3 units]".into(), got: xp.shape().to_vec() });
    };
    if three_u % 3 != 0 || hp.shape() != xp.shape() {
        let expected = format!("projections [n, 3 units] of one shape (the input's is {:?})", xp.shape());
        return Err(TensorError::Shape { op, expected, got: hp.shape().to_vec() });
    }
    let u = three_u / 3;
    if h_prev.shape() != [n, u] {
        return Err(TensorError::Shape {
            op,
            expected: format!("a state of shape [{n}, {u}]"),
            got: h_prev.shape().to_vec(),
        });
    }
    Ok((n, u))
}

/// `(n, u)` of f32 gates `[n, 4u]` and a cell state `[n, u]` on one device.
fn cell_shape(op: &'static str, gates: &Tensor, c_prev: &Tensor) -> Result<(usize, usize)> {
    gates.expect_dtype(op, DType::F32)?;
    c_prev.expect_dtype(op, DType::F32)?;
    gates.same_device(op, c_prev)?;
    let &[n, four_u] = gates.shape() else {
        return Err(TensorError::Shape { op, expected: "gates [n, 4 units]".into(), got: gates.shape().to_vec() });
    };
    if four_u % 4 != 0 {
        let expected = "gates [n, 4 units] (a multiple of 4 columns)".into();
        return Err(TensorError::Shape { op, expected, got: gates.shape().to_vec() });
    }
    let u = four_u / 4;
    if c_prev.shape() != [n, u] {
        let expected = format!("a cell state of shape [{n}, {u}]");
        return Err(TensorError::Shape { op, expected, got: c_prev.shape().to_vec() });
    }
    Ok((n, u))
}
