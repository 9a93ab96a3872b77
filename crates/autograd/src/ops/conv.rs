//! 2-D convolution and transposed convolution (NCHW). Each is the adjoint of the other in its
//! input, so their backward passes are each other's kernels plus the weight-gradient GEMM.

use wgtrain_tensor::{Conv2dOptions, Tensor};

use super::matmul::{activation_grad, apply_activation, split_activation};
use crate::error::Result;
use crate::node::record;
use crate::var::Var;

fn dims4(t: &Tensor) -> [usize; 4] {
    let s = t.shape();
    [s[0], s[1], s[2], s[3]]
}

/// The bias gradient: `dz [n, c, h, w]` summed over n, h and w. Two passes over adjacent axes
/// (pixels, then images) instead of one over axes (0, 2, 3), which would first copy dz into
/// channel-major order.
fn channel_sum(dz: &Tensor) -> Result<Tensor> {
    let [n, c, h, w] = dims4(dz);
    Ok(dz.reshape(&[n, c, h * w])?.sum(&[2], false)?.sum(&[0], false)?)
}

impl Var {
    /// `act(conv2d(x, w) + b)`: x `[n, c, h, w]`, w `[oc, c / groups, kh, kw]`, b `[oc]`. ReLU
    /// and leaky ReLU are fused; other activations run after the convolution.
    pub fn conv2d(&self, w: &Var, b: Option<&Var>, o: &Conv2dOptions) -> Result<Var> {
        let (fused, after) = split_activation(o.activation, o.alpha);
        let opts = Conv2dOptions { activation: Some(fused), ..*o };
        let y = self.data().conv2d(w.data(), b.map(Var::data), &opts)?;
        let mut inputs = vec![self, w];
        inputs.extend(b);
        let saved = vec![self.data().clone(), w.data().clone(), y.clone()];
        let geometry = Conv2dOptions { activation: None, ..*o };
        let alpha = o.alpha;
        let z = record("conv2d", y, &inputs, saved, move |c| {
            let (x, w, y) = (&c.saved[0], &c.saved[1], &c.saved[2]);
            let dz = activation_grad(fused, alpha, y, c.grad)?;
            let dx = c.needs(0).then(|| dz.conv2d_grad_input(w, dims4(x), &geometry)).transpose()?;
            let dw = c.needs(1).then(|| dz.conv2d_grad_weight(x, dims4(w), &geometry)).transpose()?;
            let mut grads = vec![dx, dw];
            if c.needs.len() == 3 {
                grads.push(c.needs(2).then(|| channel_sum(&dz)).transpose()?);
            }
            Ok(grads)
        });
        apply_activation(z, after, o.alpha)
    }

    /// Transposed convolution: x `[n, c_in, h, w]`, w `[c_in, c_out / groups, kh, kw]`, b
    /// `[c_out]` (the gradient of `conv2d` w.r.t. its input, as a layer).
    pub fn conv_transpose2d(
        &self,
        w: &Var,
        b: Option<&Var>,
        o: &Conv2dOptions,
        output_padding: [usize; 2],
    ) -> Result<Var> {
        let (fused, after) = split_activation(o.activation, o.alpha);
        let opts = Conv2dOptions { activation: Some(fused), ..*o };
        let y = self.data().conv_transpose2d(w.data(), b.map(Var::data), &opts, output_padding)?;
        let mut inputs = vec![self, w];
        inputs.extend(b);
        let saved = vec![self.data().clone(), w.data().clone(), y.clone()];
        let geometry = Conv2dOptions { activation: None, ..*o };
        let alpha = o.alpha;
        let z = record("conv_transpose2d", y, &inputs, saved, move |c| {
            let (x, w, y) = (&c.saved[0], &c.saved[1], &c.saved[2]);
            let dz = activation_grad(fused, alpha, y, c.grad)?;
            // y = conv2d_grad_input(x; w), so dx = conv2d(dz; w) and dw is the weight gradient
            // of a convolution whose input is dz and whose output gradient is x.
            let dx = c.needs(0).then(|| dz.conv2d(w, None, &geometry)).transpose()?;
            let dw = c.needs(1).then(|| x.conv2d_grad_weight(&dz, dims4(w), &geometry)).transpose()?;
            let mut grads = vec![dx, dw];
            if c.needs.len() == 3 {
                grads.push(c.needs(2).then(|| channel_sum(&dz)).transpose()?);
            }
            Ok(grads)
        });
        apply_activation(z, after, o.alpha)
    }
}
