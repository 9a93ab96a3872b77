//! Layer norm and batch norm (training mode) with their fused backward kernels; batch norm in
//! inference mode with its fused forward kernel.

use wgtrain_tensor::Tensor;

use crate::error::Result;
use crate::mode::is_grad_enabled;
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

    /// `(x - rm) / sqrt(rv + eps) * gamma + beta`: one fused pass forward (the inference path
    /// of every `evaluate` and `predict`; as four broadcast elementwise ops it was slower per
    /// image than training). Its gradient, needed only to fine-tune through a frozen batch norm,
    /// is composed from elementwise ops and channel sums.
    fn batch_norm_inference(
        &self,
        gamma: Option<&Var>,
        beta: Option<&Var>,
        running_mean: &Tensor,
        running_var: &Tensor,
        eps: f32,
    ) -> Result<Var> {
        let y =
            self.data().batch_norm_eval(gamma.map(Var::data), beta.map(Var::data), running_mean, running_var, eps)?;
        let mut inputs = vec![self];
        inputs.extend(gamma);
        inputs.extend(beta);
        if !is_grad_enabled() || !inputs.iter().any(|v| v.requires_grad()) {
            return Ok(Var::constant(y));
        }
        let has_gamma = gamma.is_some();
        // The statistics are constants here: copies, so a later in-place update cannot reach them.
        let mut saved = vec![self.data().clone(), running_mean.copy()?, running_var.add_scalar(eps)?.rsqrt()?];
        saved.extend(gamma.map(|g| g.data().clone()));
        Ok(record("batch_norm_inference", y, &inputs, saved, move |c| {
            let (x, mean, scale) = (&c.saved[0], &c.saved[1], &c.saved[2]);
            let mut channel = vec![1; x.rank()];
            channel[1] = x.shape()[1];
            let others: Vec<isize> = (0..x.rank() as isize).filter(|&a| a != 1).collect();
            let scale = scale.reshape(&channel)?;
            let mut out = Vec::with_capacity(c.needs.len());
            if c.needs[0] {
                let gain = match c.saved.get(3) {
                    Some(g) => scale.mul(&g.reshape(&channel)?)?,
                    None => scale.clone(),
                };
                out.push(Some(c.grad.mul(&gain)?));
            } else {
                out.push(None);
            }
            if has_gamma {
                let normalized = x.sub(&mean.reshape(&channel)?)?.mul(&scale)?;
                out.push(c.needs[1].then(|| c.grad.mul(&normalized)?.sum(&others, false)).transpose()?);
            }
            if c.needs.len() > out.len() {
                out.push(c.needs[out.len()].then(|| c.grad.sum(&others, false)).transpose()?);
            }
            Ok(out)
        }))
    }
}
