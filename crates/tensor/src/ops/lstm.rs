//! The fused LSTM cell: a recurrent step's elementwise part in one kernel each way (see
//! `wgtrain_kernels::ops::lstm`), so a step of an LSTM costs its two matmuls and one cell
//! dispatch rather than about ten small ones (thirty with the backward).

use wgtrain_kernels::ops::lstm;

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
            gates.device().dispatch(&lstm::forward(n, u), &[g.binding(), c.binding(), out.binding()])?;
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
            gates.device().dispatch(&lstm::backward(n, u), &b)?;
        }
        Ok(out)
    }
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
