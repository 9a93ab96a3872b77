//! Fused optimizer steps (PyTorch semantics), one dispatch per parameter tensor, updating the
//! parameter and its state in place. Every tensor must be contiguous f32 at offset 0 with the
//! parameter's shape (state tensors are created by the caller, e.g. `Tensor::zeros`, and owned
//! by the optimizer); the gradient must not share the parameter's storage.
//!
//! Guard: each step takes an optional [`LossScale`]. With one, the update reads the scale's
//! device state and skips itself when this step's gradients were not finite (see
//! `loss_scale.rs`), with no host round-trip; without one it runs unguarded.
//!
//! Multi-tensor form: keep every parameter (and gradient, and state) as a view of one flat
//! tensor, and step the flat tensors: one dispatch for the whole model (the views at non-zero
//! offsets are rejected on their own, the flat tensors are not).

use wgtrain_kernels::KernelSpec;
use wgtrain_kernels::ops::optim::{self, OptimParams};

pub use wgtrain_kernels::ops::optim::{AdagradParams, AdamParams, RmspropParams, SgdParams};

use super::loss_scale::LossScale;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::plan::{Streaming, TexturedForm};
use crate::tensor::Tensor;

/// The guard binding of an update: the loss scale's state, or the device's zero word.
fn guard_binding<'a>(param: &'a Tensor, guard: Option<&'a LossScale>) -> Result<(&'a wgpu::Buffer, u64)> {
    match guard {
        Some(scale) => {
            param.same_device("optimizer step", scale.state())?;
            Ok(scale.state().binding())
        }
        None => Ok((param.device().zero_word(), 16)),
    }
}

/// Checks `t` (named `what`) against the parameter: device, dtype, shape, dense layout.
fn check(op: &'static str, param: &Tensor, what: &str, t: &Tensor) -> Result<()> {
    param.same_device(op, t)?;
    t.expect_dtype(op, DType::F32)?;
    if t.shape != param.shape {
        let why = format!("{what} must have the parameter's shape");
        return Err(TensorError::Incompatible { op, lhs: param.shape.clone(), rhs: t.shape.clone(), why });
    }
    if !t.is_contiguous() || t.offset != 0 {
        let why = format!("{what} must be contiguous at offset 0 (it is updated in place): {t:?}");
        return Err(TensorError::Argument { op, why });
    }
    if what != "param" && t.shares_storage(param) {
        return Err(TensorError::Argument { op, why: format!("{what} shares the parameter's storage") });
    }
    Ok(())
}

/// Validates param, grad and the state tensors the kernel uses.
fn validate(op: &'static str, param: &Tensor, grad: &Tensor, state: &[(&str, &Tensor)]) -> Result<()> {
    check(op, param, "param", param)?;
    check(op, param, "grad", grad)?;
    state.iter().try_for_each(|(what, t)| check(op, param, what, t))
}

/// Records `kernel` over `tensors` (param, grad, state...) after the guard, unless the
/// parameter is empty.
fn record(kernel: &'static KernelSpec, p: &OptimParams, tensors: &[&Tensor], guard: Option<&LossScale>) -> Result<()> {
    if tensors[0].is_empty() {
        return Ok(());
    }
    let mut bindings = vec![guard_binding(tensors[0], guard)?];
    bindings.extend(tensors.iter().map(|t| t.binding()));
    // The parameter and the state tensors are written in place (the gradient, index 1, is not).
    tensors.iter().enumerate().filter(|&(i, _)| i != 1).for_each(|(_, t)| t.mark_modified());
    tensors[0].device().dispatch(&optim::launch(kernel, p, guard.is_some()), &bindings)
}

/// Validates every operand, then records `kernel` over (param, grad, state...).
fn step(
    op: &'static str,
    kernel: &'static KernelSpec,
    p: &OptimParams,
    param: &Tensor,
    grad: &Tensor,
    state: &[(&str, &Tensor)],
    guard: Option<&LossScale>,
) -> Result<()> {
    validate(op, param, grad, state)?;
    let mut tensors = vec![param, grad];
    tensors.extend(state.iter().map(|(_, t)| *t));
    record(kernel, p, &tensors, guard)
}

/// One SGD step; `momentum_buf` is required when `hp.momentum != 0` (and ignored otherwise).
/// `guard`: a loss scale whose non-finite step skips the update (module docs).
pub fn sgd_step(
    param: &Tensor,
    grad: &Tensor,
    momentum_buf: Option<&Tensor>,
    hp: &SgdParams,
    guard: Option<&LossScale>,
) -> Result<()> {
    let op = "sgd_step";
    let p = hp.kernel_params(param.len());
    if hp.momentum == 0.0 {
        return step(op, &optim::SGD_PLAIN, &p, param, grad, &[], guard);
    }
    let Some(buf) = momentum_buf else {
        return Err(TensorError::Argument { op, why: format!("momentum {} needs a momentum buffer", hp.momentum) });
    };
    step(op, &optim::SGD_MOMENTUM, &p, param, grad, &[("momentum_buf", buf)], guard)
}

/// One Adam (or AdamW, `hp.decoupled`) step on the first and second moments `m` and `v`.
/// `guard`: a loss scale whose non-finite step skips the update; the bias corrections then
/// count only the steps taken (module docs).
pub fn adam_step(
    param: &Tensor,
    grad: &Tensor,
    m: &Tensor,
    v: &Tensor,
    hp: &AdamParams,
    guard: Option<&LossScale>,
) -> Result<()> {
    let p = hp.kernel_params(param.len());
    validate("adam_step", param, grad, &[("m", m), ("v", v)])?;
    if param.is_empty() {
        return Ok(());
    }
    [param, m, v].iter().for_each(|t| t.mark_modified());
    let guard_at = guard_binding(param, guard)?;
    let textured = optim::launch_adam_texture(&p, guard.is_some()).map(|launch| {
        move || TexturedForm {
            launch,
            inputs: vec![param, grad, m, v],
            outputs: vec![param.binding(), m.binding(), v.binding(), guard_at],
        }
    });
    let bindings = [guard_at, param.binding(), grad.binding(), m.binding(), v.binding()];
    let gpu = (optim::launch(&optim::ADAM, &p, guard.is_some()), &bindings[..]);
    param.device().run_streaming(Streaming { gpu, textured, texture_inputs: 4, elements: param.len() })
}

/// One RMSprop step. `momentum_buf` is required when `hp.momentum > 0`, `grad_avg` when
/// `hp.centered`; each is ignored otherwise.
pub fn rmsprop_step<'a>(
    param: &Tensor,
    grad: &Tensor,
    square_avg: &Tensor,
    momentum_buf: Option<&'a Tensor>,
    grad_avg: Option<&'a Tensor>,
    hp: &RmspropParams,
    guard: Option<&LossScale>,
) -> Result<()> {
    let op = "rmsprop_step";
    let need = |t: Option<&'a Tensor>, used: bool, what: &str| -> Result<Option<&'a Tensor>> {
        match (t, used) {
            (Some(t), true) => Ok(Some(t)),
            (None, true) => Err(TensorError::Argument { op, why: format!("{what} is required by {hp:?}") }),
            (_, false) => Ok(None),
        }
    };
    let buf = need(momentum_buf, hp.momentum > 0.0, "momentum_buf")?;
    let avg = need(grad_avg, hp.centered, "grad_avg")?;
    let mut state = vec![("square_avg", square_avg)];
    state.extend(buf.map(|t| ("momentum_buf", t)));
    state.extend(avg.map(|t| ("grad_avg", t)));
    validate(op, param, grad, &state)?;
    // The kernel binds all five tensors; an unused one gets a one-element placeholder it never
    // touches.
    let placeholder = Tensor::empty(param.device(), &[1], DType::F32)?;
    let tensors = [param, grad, square_avg, buf.unwrap_or(&placeholder), avg.unwrap_or(&placeholder)];
    record(&optim::RMSPROP, &hp.kernel_params(param.len()), &tensors, guard)
}

/// One Adagrad step on the accumulator `sum` (start it at the initial accumulator value).
pub fn adagrad_step(
    param: &Tensor,
    grad: &Tensor,
    sum: &Tensor,
    hp: &AdagradParams,
    guard: Option<&LossScale>,
) -> Result<()> {
    let p = hp.kernel_params(param.len());
    step("adagrad_step", &optim::ADAGRAD, &p, param, grad, &[("sum", sum)], guard)
}
