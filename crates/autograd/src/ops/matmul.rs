//! Matmul and the fused dense layer `act(x @ w + b)`. Backward is two more matmuls reading
//! transposed operands through their strides (no transpose is copied).

use wgtrain_tensor::{MatmulOptions, Tensor, UnaryOp};

use super::sum_to;
use crate::error::{AutogradError, Result};
use crate::node::record;
use crate::var::Var;

/// Activations whose derivative can be read off the output (`f'(x) = f'(y)` as a mask), so a
/// fused layer needs to keep only its output.
fn derivative_from_output(act: UnaryOp, alpha: f32) -> bool {
    act == UnaryOp::Identity || act == UnaryOp::Relu || (act == UnaryOp::LeakyRelu && alpha > 0.0)
}

/// `dy * act'(z)` from the output `y = act(z)`, for activations that allow it.
pub(crate) fn activation_grad(act: UnaryOp, alpha: f32, y: &Tensor, dy: &Tensor) -> Result<Tensor> {
    if act == UnaryOp::Identity { Ok(dy.clone()) } else { Ok(y.unary_grad(act, dy, alpha)?) }
}

/// Applies `act` after a fused op that could not fuse it.
pub(crate) fn apply_activation(z: Var, act: UnaryOp, alpha: f32) -> Result<Var> {
    if act == UnaryOp::Identity { Ok(z) } else { z.unary(act, alpha, 0.0) }
}

/// The activation a fused layer runs in its epilogue, and the one left to run after it.
pub(crate) fn split_activation(act: Option<UnaryOp>, alpha: f32) -> (UnaryOp, UnaryOp) {
    let act = act.unwrap_or(UnaryOp::Identity);
    if derivative_from_output(act, alpha) { (act, UnaryOp::Identity) } else { (UnaryOp::Identity, act) }
}

impl Var {
    /// `self @ rhs` for `[..., m, k] @ [..., k, n]` with broadcast batch dimensions.
    pub fn matmul(&self, rhs: &Var) -> Result<Var> {
        let y = self.data().matmul(rhs.data())?;
        let saved = vec![self.data().clone(), rhs.data().clone()];
        Ok(record("matmul", y, &[self, rhs], saved, |c| {
            let (a, b, dy) = (&c.saved[0], &c.saved[1], c.grad);
            // dA = dY B^T, dB = A^T dY, each summed over the batch dimensions it broadcast along.
            let da = c.needs(0).then(|| sum_to(&dy.matmul(&b.transpose(-1, -2)?)?, a.shape())).transpose()?;
            let db = c.needs(1).then(|| sum_to(&a.transpose(-1, -2)?.matmul(dy)?, b.shape())).transpose()?;
            Ok(vec![da, db])
        }))
    }

    /// A dense layer in one kernel: `act(x @ w + b)` for x `[..., k]`, w `[k, n]` (Keras'
    /// kernel layout), b `[n]`. ReLU and leaky ReLU are fused (their derivative is read off the
    /// output); any other activation runs as its own op after the fused matmul + bias.
    pub fn linear(&self, w: &Var, b: Option<&Var>, act: Option<UnaryOp>, alpha: f32) -> Result<Var> {
        let op = "linear";
        if w.rank() != 2 || self.rank() < 1 {
            let why = format!("input {:?} must be [..., k] and weight {:?} [k, n]", self.shape(), w.shape());
            return Err(AutogradError::Argument { op, why });
        }
        let (k, n) = (w.shape()[0], w.shape()[1]);
        let lead: Vec<usize> = self.shape()[..self.rank() - 1].to_vec();
        let rows = lead.iter().product::<usize>();
        let x2 = self.data().reshape(&[rows, self.shape()[self.rank() - 1]])?;
        let (fused, after) = split_activation(act, alpha);
        let opts = MatmulOptions { bias: b.map(Var::data), activation: Some(fused), alpha, ..Default::default() };
        let y2 = x2.matmul_with(w.data(), opts)?;
        let mut out_shape = lead;
        out_shape.push(n);
        let y = y2.reshape(&out_shape)?;
        let mut inputs = vec![self, w];
        inputs.extend(b);
        let saved = vec![x2, w.data().clone(), y2];
        let x_shape = self.shape().to_vec();
        let z = record(op, y, &inputs, saved, move |c| {
            let (x2, w, y2) = (&c.saved[0], &c.saved[1], &c.saved[2]);
            let dz = activation_grad(fused, alpha, y2, &c.grad.reshape(&[rows, n])?)?;
            let dx = c.needs(0).then(|| Ok::<_, AutogradError>(dz.matmul(&w.transpose(0, 1)?)?.reshape(&x_shape)?));
            let dw = c.needs(1).then(|| Ok::<_, AutogradError>(x2.transpose(0, 1)?.matmul(&dz)?));
            let mut grads = vec![dx.transpose()?, dw.transpose()?];
            if c.needs.len() == 3 {
                grads.push(c.needs(2).then(|| dz.sum(&[0], false)).transpose()?);
            }
            debug_assert_eq!(k, w.shape()[0]);
            Ok(grads)
        });
        apply_activation(z, after, alpha)
    }
}
