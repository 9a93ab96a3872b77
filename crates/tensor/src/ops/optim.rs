//! Fused optimizer steps (PyTorch semantics), one dispatch per parameter tensor, updating the
//! parameter and its state in place. Every tensor must be contiguous f32 at offset 0 with the
//! parameter's shape (state tensors are created by the caller, e.g. `Tensor::zeros`, and owned
//! by the optimizer); the gradient must not share the parameter's storage.
//!
//! Each step takes an [`UpdateOptions`]: what the update reads and writes beside the parameter and
//! its state.
//! - A guard: with a [`LossScale`], the update reads the scale's device state and skips itself
//!   when this step's gradients were not finite (see `loss_scale.rs`), with no host
//!   round-trip; without one it runs unguarded.
//! - An f16 copy of the parameter (mixed precision: the weights layers compute with), which
//!   the update rewrites from the new parameter in the same dispatch, rounded as
//!   [`Tensor::cast`] rounds. A skipped update leaves it as it was, like the parameter.
//!
//! Multi-tensor form: keep every parameter (and gradient, and state) as a view of one flat
//! tensor, and step the flat tensors: one dispatch for the whole model (the views at non-zero
//! offsets are rejected on their own, the flat tensors are not).

use wgtrain_kernels::ops::optim::{self, OptimKernel, OptimParams};

pub use wgtrain_kernels::ops::optim::{AdagradParams, AdamParams, RmspropParams, SgdParams};

use super::loss_scale::LossScale;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::plan::{Streaming, TexturedForm};
use crate::tensor::Tensor;

/// What an optimizer step reads and writes besides the parameter, its gradient and its state.
/// `UpdateOptions::default()` is a plain step.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpdateOptions<'a> {
    /// A loss scale whose non-finite step skips the update (module docs).
    pub guard: Option<&'a LossScale>,
    /// An f16 tensor of the parameter's shape (contiguous, offset 0) that the update rewrites
    /// with the new parameter, rounded to f16.
    pub f16_copy: Option<&'a Tensor>,
}

impl<'a> UpdateOptions<'a> {
    /// A step guarded by `scale`.
    pub fn guarded(scale: &'a LossScale) -> Self {
        UpdateOptions { guard: Some(scale), f16_copy: None }
    }
    /// This step, also rewriting `copy` from the new parameter.
    pub fn with_f16_copy(self, copy: &'a Tensor) -> Self {
        UpdateOptions { f16_copy: Some(copy), ..self }
    }
}

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

/// Checks `t` (named `what`) against the parameter: device, dtype (f32; f16 for the copy),
/// shape, dense layout.
fn check(op: &'static str, param: &Tensor, what: &str, t: &Tensor) -> Result<()> {
    param.same_device(op, t)?;
    if what == F16_COPY && t.dtype() != DType::F16 {
        return Err(TensorError::Argument { op, why: format!("{what} must be f16, got {:?}", t.dtype()) });
    }
    t.expect_dtype(op, if what == F16_COPY { DType::F16 } else { DType::F32 })?;
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

/// The name the f16 copy goes by in errors (and the one operand checked as f16).
const F16_COPY: &str = "f16_copy";

/// Validates param, grad, the state tensors the kernel uses and the update's f16 copy.
fn validate(
    op: &'static str,
    param: &Tensor,
    grad: &Tensor,
    state: &[(&str, &Tensor)],
    up: &UpdateOptions,
) -> Result<()> {
    check(op, param, "param", param)?;
    check(op, param, "grad", grad)?;
    state.iter().try_for_each(|(what, t)| check(op, param, what, t))?;
    up.f16_copy.map_or(Ok(()), |c| check(op, param, F16_COPY, c))
}

/// The slots an update with an f16 copy binds between the gradient and the copy (the widest
/// update's state, RMSprop's).
const STATE_SLOTS: usize = 3;

/// Records `kernel` over `tensors` (param, grad, state...) after the guard, unless the
/// parameter is empty. With an f16 copy, the state is padded to [`STATE_SLOTS`] with a
/// placeholder and the copy bound last.
fn record(kernel: &'static OptimKernel, p: &OptimParams, tensors: &[&Tensor], up: &UpdateOptions) -> Result<()> {
    let param = tensors[0];
    if param.is_empty() {
        return Ok(());
    }
    // The parameter, the state tensors and the copy are written in place (the gradient, index
    // 1, is not).
    tensors.iter().enumerate().filter(|&(i, _)| i != 1).for_each(|(_, t)| t.mark_modified());
    let mut bindings = vec![guard_binding(param, up.guard)?];
    bindings.extend(tensors.iter().map(|t| t.binding()));
    let unused = up.f16_copy.map(|_| placeholder(param)).transpose()?;
    if let (Some(copy), Some(unused)) = (up.f16_copy, &unused) {
        copy.mark_modified();
        // The guard, param and grad, then the state slots.
        bindings.resize(3 + STATE_SLOTS, unused.binding());
        bindings.push(copy.binding());
    }
    param.device().dispatch(&optim::launch(kernel, p, up.guard.is_some(), up.f16_copy.is_some()), &bindings)
}

/// A one-element f32 tensor bound where a kernel's layout has a slot its update never touches.
fn placeholder(param: &Tensor) -> Result<Tensor> {
    Tensor::empty(param.device(), &[1], DType::F32)
}

/// Validates every operand, then records `kernel` over (param, grad, state...).
fn step(
    op: &'static str,
    kernel: &'static OptimKernel,
    p: &OptimParams,
    param: &Tensor,
    grad: &Tensor,
    state: &[(&str, &Tensor)],
    up: UpdateOptions,
) -> Result<()> {
    validate(op, param, grad, state, &up)?;
    let mut tensors = vec![param, grad];
    tensors.extend(state.iter().map(|(_, t)| *t));
    record(kernel, p, &tensors, &up)
}

/// One SGD step; `momentum_buf` is required when `hp.momentum != 0` (and ignored otherwise).
/// `up`: its guard and f16 copy (module docs).
pub fn sgd_step(
    param: &Tensor,
    grad: &Tensor,
    momentum_buf: Option<&Tensor>,
    hp: &SgdParams,
    up: UpdateOptions,
) -> Result<()> {
    let op = "sgd_step";
    let p = hp.kernel_params(param.len());
    if hp.momentum == 0.0 {
        return step(op, &optim::SGD_PLAIN, &p, param, grad, &[], up);
    }
    let Some(buf) = momentum_buf else {
        return Err(TensorError::Argument { op, why: format!("momentum {} needs a momentum buffer", hp.momentum) });
    };
    step(op, &optim::SGD_MOMENTUM, &p, param, grad, &[("momentum_buf", buf)], up)
}

/// One Adam (or AdamW, `hp.decoupled`) step on the first and second moments `m` and `v`.
/// `up`: its guard (a skipped step's bias corrections count only the steps taken) and f16
/// copy (module docs).
pub fn adam_step(
    param: &Tensor,
    grad: &Tensor,
    m: &Tensor,
    v: &Tensor,
    hp: &AdamParams,
    up: UpdateOptions,
) -> Result<()> {
    let p = hp.kernel_params(param.len());
    let state = [("m", m), ("v", v)];
    if up.f16_copy.is_some() {
        // The texture form stores no copy: the storage form serves every strategy here.
        return step("adam_step", &optim::ADAM, &p, param, grad, &state, up);
    }
    validate("adam_step", param, grad, &state, &up)?;
    if param.is_empty() {
        return Ok(());
    }
    [param, m, v].iter().for_each(|t| t.mark_modified());
    let guard_at = guard_binding(param, up.guard)?;
    let textured = optim::launch_adam_texture(&p, up.guard.is_some()).map(|launch| {
        move || TexturedForm {
            launch,
            inputs: vec![param, grad, m, v],
            outputs: vec![param.binding(), m.binding(), v.binding(), guard_at],
        }
    });
    let bindings = [guard_at, param.binding(), grad.binding(), m.binding(), v.binding()];
    let gpu = (optim::launch(&optim::ADAM, &p, up.guard.is_some(), false), &bindings[..]);
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
    up: UpdateOptions,
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
    validate(op, param, grad, &state, &up)?;
    // The kernel binds all five tensors; an unused one gets a one-element placeholder it never
    // touches.
    let placeholder = placeholder(param)?;
    let tensors = [param, grad, square_avg, buf.unwrap_or(&placeholder), avg.unwrap_or(&placeholder)];
    record(&optim::RMSPROP, &hp.kernel_params(param.len()), &tensors, &up)
}

/// One Adagrad step on the accumulator `sum` (start it at the initial accumulator value).
pub fn adagrad_step(param: &Tensor, grad: &Tensor, sum: &Tensor, hp: &AdagradParams, up: UpdateOptions) -> Result<()> {
    let p = hp.kernel_params(param.len());
    step("adagrad_step", &optim::ADAGRAD, &p, param, grad, &[("sum", sum)], up)
}
