//! Launchers of `optim.wgsl`: fused in-place optimizer updates (PyTorch semantics), one dispatch
//! per parameter tensor. The hyper-parameter structs here are the public description of each
//! optimizer; [`OptimParams`] is what the shader and the twins read, with step-dependent scalars
//! (Adam's bias corrections, SGD's first step) computed on the host.
//!
//! Shape contract: param, grad and every state tensor are contiguous f32 of `n` elements from
//! element 0. Bindings: the guard (read: a loss scale's state, or a zero word), param
//! (read-write), grad (read), then the optimizer's state tensors; the texture form binds its
//! texture inputs first and the guard last.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, Constants, KernelSpec, Launch, Shader};

/// Parameters of `optim.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Default)]
pub struct OptimParams {
    /// Elements of the parameter (and of its gradient and state).
    pub n: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Adam and SGD: the step count (saturating), from which a guarded update recomputes
    /// Adam's bias corrections or SGD's first step once steps were skipped.
    pub t: u32,
    /// Padding to the WGSL struct's layout.
    pub _pad0: u32,
    /// Learning rate.
    pub lr: f32,
    /// Weight decay: L2 added to the gradient, or decoupled with [`FLAG_DECOUPLED`].
    pub weight_decay: f32,
    /// SGD and RMSprop momentum factor.
    pub momentum: f32,
    /// SGD: the gradient enters the momentum buffer scaled by `1 - dampening`.
    pub dampening: f32,
    /// Adam: decay of the first-moment average.
    pub beta1: f32,
    /// Adam: decay of the second-moment average.
    pub beta2: f32,
    /// Adam, RMSprop, Adagrad: added to the denominator.
    pub eps: f32,
    /// Adam: `lr / (1 - beta1^step)`.
    pub step_size: f32,
    /// Adam: `sqrt(1 - beta2^step)`.
    pub bc2_sqrt: f32,
    /// RMSprop: smoothing constant of the squared-gradient average.
    pub alpha: f32,
    /// Padding to the WGSL struct's size.
    pub _pad1: [u32; 2],
}

/// Flag bits of [`OptimParams::flags`] (`FLAG_*` in the shader).
pub const FLAG_NESTEROV: u32 = 1;
/// SGD: first step, the momentum buffer starts as the gradient.
pub const FLAG_FIRST: u32 = 2;
/// AdamW: `p -= lr * weight_decay * p` instead of L2 in the gradient.
pub const FLAG_DECOUPLED: u32 = 4;
/// RMSprop: divide by the centered variance (needs the grad_avg binding).
pub const FLAG_CENTERED: u32 = 8;
/// RMSprop: momentum > 0, the momentum buffer is bound and used.
pub const FLAG_MOMENTUM: u32 = 16;

/// SGD (PyTorch `torch.optim.SGD`): L2 `weight_decay` is added to the gradient; with momentum
/// the buffer is set to the gradient on `step == 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdParams {
    /// Learning rate.
    pub lr: f32,
    /// Momentum factor (0 = plain SGD).
    pub momentum: f32,
    /// Dampening of the gradient added to the momentum buffer.
    pub dampening: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// 1-based step number.
    pub step: u64,
}

/// Adam, or AdamW when `decoupled` (PyTorch `Adam` / `AdamW`; no amsgrad).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamParams {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first-moment (mean) average, typically 0.9.
    pub beta1: f32,
    /// Decay of the second-moment average, typically 0.999.
    pub beta2: f32,
    /// Added to the denominator for stability, typically 1e-8.
    pub eps: f32,
    /// Weight decay (L2, or decoupled when `decoupled`).
    pub weight_decay: f32,
    /// AdamW: `p -= lr * weight_decay * p` instead of adding `weight_decay * p` to the gradient.
    pub decoupled: bool,
    /// 1-based step number, for the bias corrections.
    pub step: u64,
}

/// RMSprop (PyTorch `torch.optim.RMSprop`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmspropParams {
    /// Learning rate.
    pub lr: f32,
    /// Smoothing constant of the squared-gradient average, typically 0.99.
    pub alpha: f32,
    /// Added to the denominator for stability.
    pub eps: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
    /// Momentum factor (0 = none).
    pub momentum: f32,
    /// Normalize by the variance estimate (mean of squares minus squared mean) instead.
    pub centered: bool,
}

/// Adagrad (PyTorch `torch.optim.Adagrad` without lr decay). The accumulator should start at
/// the initial accumulator value (e.g. `Tensor::full(dev, shape, 0.0)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdagradParams {
    /// Learning rate.
    pub lr: f32,
    /// Added to the denominator for stability.
    pub eps: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
}

impl SgdParams {
    /// The shader's parameters for a tensor of `n` elements; sets [`FLAG_FIRST`] while `step <= 1`.
    pub fn kernel_params(&self, n: usize) -> OptimParams {
        let flags = if self.nesterov { FLAG_NESTEROV } else { 0 } | if self.step <= 1 { FLAG_FIRST } else { 0 };
        OptimParams {
            n: n as u32,
            flags,
            t: self.step.min(u32::MAX as u64) as u32,
            lr: self.lr,
            weight_decay: self.weight_decay,
            momentum: self.momentum,
            dampening: self.dampening,
            ..OptimParams::default()
        }
    }
}

impl AdamParams {
    /// Bias corrections in f64 from the step number, then rounded once.
    pub fn kernel_params(&self, n: usize) -> OptimParams {
        // Clamped, not truncated: beta^t is 0 in f64 long before 2^31 steps, and a wrapped
        // negative exponent would make the corrections NaN.
        let t = self.step.clamp(1, i32::MAX as u64) as i32;
        let bc1 = 1.0 - (self.beta1 as f64).powi(t);
        let bc2 = 1.0 - (self.beta2 as f64).powi(t);
        OptimParams {
            n: n as u32,
            flags: if self.decoupled { FLAG_DECOUPLED } else { 0 },
            t: self.step.min(u32::MAX as u64) as u32,
            lr: self.lr,
            weight_decay: self.weight_decay,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            step_size: (self.lr as f64 / bc1) as f32,
            bc2_sqrt: bc2.sqrt() as f32,
            ..OptimParams::default()
        }
    }
}

impl RmspropParams {
    /// The shader's parameters for a tensor of `n` elements.
    pub fn kernel_params(&self, n: usize) -> OptimParams {
        let flags = if self.centered { FLAG_CENTERED } else { 0 } | if self.momentum > 0.0 { FLAG_MOMENTUM } else { 0 };
        OptimParams {
            n: n as u32,
            flags,
            lr: self.lr,
            weight_decay: self.weight_decay,
            momentum: self.momentum,
            eps: self.eps,
            alpha: self.alpha,
            ..OptimParams::default()
        }
    }
}

impl AdagradParams {
    /// The shader's parameters for a tensor of `n` elements.
    pub fn kernel_params(&self, n: usize) -> OptimParams {
        OptimParams {
            n: n as u32,
            lr: self.lr,
            weight_decay: self.weight_decay,
            eps: self.eps,
            ..OptimParams::default()
        }
    }
}

use Access::{Read, ReadWrite, Texture};

// Every kernel's first binding is its guard: a loss scale's state (`loss_scale.wgsl`), or a
// zero word when the update is unguarded.

/// The layout of every entry point that stores an f16 copy: guard, param, grad, the three
/// state slots of the widest update (RMSprop's), and the copy at binding 7. Updates with less
/// state bind placeholders there.
const WITH_F16_COPY: &[Access] = &[Read, ReadWrite, Read, ReadWrite, ReadWrite, ReadWrite, ReadWrite];

/// One optimizer update in both of its modules: on its own (`plain`, bindings as listed), and
/// also storing the new parameter's f16 copy in the same dispatch (`f16_copy`, mixed precision:
/// the full layout, `WITH_F16_COPY`; needs `SHADER_F16`).
#[derive(Debug)]
pub struct OptimKernel {
    /// The update alone.
    pub plain: KernelSpec,
    /// The update and the f16 copy of the parameter.
    pub f16_copy: KernelSpec,
}

impl OptimKernel {
    const fn new(entry: &'static str, bindings: &'static [Access]) -> Self {
        OptimKernel {
            plain: KernelSpec { shader: Shader::Optim, entry, bindings },
            f16_copy: KernelSpec { shader: Shader::OptimF16Copy, entry, bindings: WITH_F16_COPY },
        }
    }

    /// The entry point that also stores the f16 copy when `f16_copy`, else the plain one.
    pub fn of(&'static self, f16_copy: bool) -> &'static KernelSpec {
        if f16_copy { &self.f16_copy } else { &self.plain }
    }

    /// Both variants (for validation).
    pub fn all(&'static self) -> [&'static KernelSpec; 2] {
        [&self.plain, &self.f16_copy]
    }
}

/// SGD without momentum: (guard, param, grad).
pub static SGD_PLAIN: OptimKernel = OptimKernel::new("sgd_plain", &[Read, ReadWrite, Read]);
/// SGD with momentum: (guard, param, grad, momentum buffer).
pub static SGD_MOMENTUM: OptimKernel = OptimKernel::new("sgd_momentum", &[Read, ReadWrite, Read, ReadWrite]);
/// Adam / AdamW: (guard, param, grad, exp_avg, exp_avg_sq).
pub static ADAM: OptimKernel = OptimKernel::new("adam_update", &[Read, ReadWrite, Read, ReadWrite, ReadWrite]);
/// Bindings: guard, param, grad, square_avg, momentum buffer, grad_avg (unused ones get a
/// placeholder).
pub static RMSPROP: OptimKernel =
    OptimKernel::new("rmsprop_update", &[Read, ReadWrite, Read, ReadWrite, ReadWrite, ReadWrite]);
/// Adagrad: (guard, param, grad, squared-gradient sum).
pub static ADAGRAD: OptimKernel = OptimKernel::new("adagrad_update", &[Read, ReadWrite, Read, ReadWrite]);

/// `ADAM` four elements an invocation (vec4 bindings), for lengths divisible by 4.
pub static ADAM4: OptimKernel = OptimKernel::new("adam_update4", &[Read, ReadWrite, Read, ReadWrite, ReadWrite]);

/// `ADAM4` reading param, grad and the moments from linear textures (CPU adapters): (param,
/// grad, exp_avg, exp_avg_sq textures; param, exp_avg, exp_avg_sq outputs; the guard last,
/// since texture inputs come first).
pub static ADAM_TEXTURE: KernelSpec = KernelSpec {
    shader: Shader::OptimTexture,
    entry: "adam_update_texture",
    bindings: &[Texture, Texture, Texture, Texture, ReadWrite, ReadWrite, ReadWrite, Read],
};

/// The pipeline constant that turns the guard on (see `optim.wgsl`).
fn guard_constants(guarded: bool) -> Constants {
    Constants::new(&[("GUARDED", guarded as u32)])
}

/// Launch of [`ADAM_TEXTURE`], when `p.n` is a multiple of 4 (its stores are whole vec4s, so
/// a tail would write past a parameter that is a view of a longer buffer).
pub fn launch_adam_texture(p: &OptimParams, guarded: bool) -> Option<Launch> {
    p.n.is_multiple_of(4)
        .then(|| Launch::new(&ADAM_TEXTURE, p, grid_1d(p.n as usize / 4, 256)).with_constants(guard_constants(guarded)))
}

/// Launch of an optimizer kernel over `p.n` elements, `guarded` by a loss scale or not, storing
/// the parameter's f16 copy or not: its vec4 variant when there is one and `p.n` is a multiple
/// of 4 (same results; a quarter of the memory accesses).
pub fn launch(kernel: &'static OptimKernel, p: &OptimParams, guarded: bool, f16_copy: bool) -> Launch {
    let launch = if p.n.is_multiple_of(4) && std::ptr::eq(kernel, &ADAM) {
        Launch::new(ADAM4.of(f16_copy), p, grid_1d(p.n as usize / 4, 256))
    } else {
        Launch::new(kernel.of(f16_copy), p, grid_1d(p.n as usize, 256))
    };
    launch.with_constants(guard_constants(guarded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_bias_corrections_stay_finite_past_two_to_the_31_steps() {
        for step in [1, 1 << 31, u64::MAX] {
            let hp =
                AdamParams { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled: false, step };
            let p = hp.kernel_params(4);
            assert!(p.step_size.is_finite() && p.bc2_sqrt.is_finite() && p.bc2_sqrt > 0.0, "step {step}: {p:?}");
        }
    }
}
