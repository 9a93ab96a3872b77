//! Layer norm and batch norm (training mode) with their fused backward kernels. Batch norm in
//! inference mode is an affine map of x, composed from elementwise ops.

use wgtrain_tensor::Tensor;

use crate::error::Result;
use crate::node::record;
use crate::var::Var;

/// Gradients of a normalization, in the order (x, gamma, beta) of the inputs that exist.
fn norm_grads(grads: wgtrain_tensor::NormGrads, needs: &[bool], has_gamma: bool) -> Vec<Option<Tensor>> {
    let mut out = vec![needs[0].then_some(grads.dx)];
    let mut i = 1;
    if has_gamma {
        out.push(needs[i].then_some(grads.dgamma));
        i += 1;
    }
    if needs.len() > i {
        out.push(needs[i].then_some(grads.dbeta));
    }
    out
}

impl Var {
    /// Layer norm over the trailing `normalized_shape` dimensions with optional affine gamma
    /// and beta (shape `normalized_shape`).
    pub fn layer_norm(
        &self,
        normalized_shape: &[usize],
        gamma: Option<&Var>,
        beta: Option<&Var>,
        eps: f32,
    ) -> Result<Var> {
        let out = self.data().layer_norm(normalized_shape, gamma.map(Var::data), beta.map(Var::data), eps)?;
        let mut inputs = vec![self];
        inputs.extend(gamma);
        inputs.extend(beta);
        let has_gamma = gamma.is_some();
        let mut saved = vec![self.data().clone(), out.mean, out.rstd];
        saved.extend(gamma.map(|g| g.data().clone()));
        Ok(record("layer_norm", out.y, &inputs, saved, move |c| {
            let (x, mean, rstd) = (&c.saved[0], &c.saved[1], &c.saved[2]);
            let grads = c.grad.layer_norm_backward(x, c.saved.get(3), mean, rstd)?;
            Ok(norm_grads(grads, c.needs, has_gamma))
        }))
    }

    /// Batch norm of x `[n, c]`, `[n, c, l]` or `[n, c, h, w]` over each channel. Training
    /// (`training = true`): normalizes with the batch statistics and updates the running ones
    /// in place (`r = (1 - momentum) r + momentum batch`, unbiased variance), as PyTorch.
    /// Inference: normalizes with the running statistics.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm(
        &self,
        gamma: Option<&Var>,
        beta: Option<&Var>,
        running_mean: &Tensor,
        running_var: &Tensor,
        training: bool,
        momentum: f32,
        eps: f32,
    ) -> Result<Var> {
        if !training {
            return self.batch_norm_inference(gamma, beta, running_mean, running_var, eps);
        }
        let (g, b) = (gamma.map(Var::data), beta.map(Var::data));
        let out = self.data().batch_norm_train(g, b, running_mean, running_var, momentum, eps)?;
        let mut inputs = vec![self];
        inputs.extend(gamma);
        inputs.extend(beta);
        let has_gamma = gamma.is_some();
        let mut saved = vec![self.data().clone(), out.mean, out.rstd];
        saved.extend(g.cloned());
        Ok(record("batch_norm", out.y, &inputs, saved, move |c| {
            let (x, mean, rstd) = (&c.saved[0], &c.saved[1], &c.saved[2]);
            let grads = c.grad.batch_norm_backward(x, c.saved.get(3), mean, rstd)?;
            Ok(norm_grads(grads, c.needs, has_gamma))
        }))
    }

    /// `(x - rm) / sqrt(rv + eps) * gamma + beta` as elementwise ops on `[1, c, 1, ...]` views.
    fn batch_norm_inference(
        &self,
        gamma: Option<&Var>,
        beta: Option<&Var>,
        running_mean: &Tensor,
        running_var: &Tensor,
        eps: f32,
    ) -> Result<Var> {
        let c = self.shape().get(1).copied().unwrap_or(0);
        let mut bshape = vec![1; self.rank()];
        if bshape.len() >= 2 {
            bshape[1] = c;
        }
        let channel = |t: &Tensor| -> Result<Tensor> { Ok(t.reshape(&bshape)?) };
        // The statistics are constants here: copies, so a later in-place update cannot reach them.
        let shift = Var::constant(channel(&running_mean.copy()?)?);
        let scale = Var::constant(channel(&running_var.add_scalar(eps)?.rsqrt()?)?);
        let mut y = self.sub(&shift)?.mul(&scale)?;
        if let Some(g) = gamma {
            y = y.mul(&g.reshape(&bshape)?)?;
        }
        if let Some(b) = beta {
            y = y.add(&b.reshape(&bshape)?)?;
        }
        Ok(y)
    }
}
