//! The execution strategy: how a device runs the ops that have more than one implementation
//! (matmul, convolutions, the streaming maps, reductions, pooling and optimizer updates).
//! Real GPUs take [`Strategy::Gpu`]; the software-adapter strategies are tuned for llvmpipe,
//! where every storage load with a per-lane address is a scalar loop
//! (`docs/lavapipe-journal.md`).
//!
//! A device owns one [`Execution`]: the strategy in force and the state its forms keep (only
//! the software-adapter wing keeps any: `cpu/state.rs`). Which strategies an adapter can run is
//! decided here, by one rule ([`Strategy::unfit`]), for device creation and
//! [`crate::Device::set_strategy`] alike.

use std::sync::atomic::{AtomicU8, Ordering};

use wgtrain_kernels::cpu::gemm_texture::TEXTURE_WIDTH;
use wgtrain_kernels::cpu::gemm_uniform::{UNIFORM_BINDINGS, WINDOW_FLOATS};

use crate::cpu::state::WingState;

/// How a device runs its ops. [`crate::Device::strategy`] says which is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The GPU path: the workgroup-tiled GEMM core (`matmul.wgsl`, `gemm_tiled.wgsl`), implicit
    /// GEMM convolutions, and kernels that read storage buffers directly.
    Gpu,
    /// Software adapters without large textures: GEMMs on packed panels read through uniform
    /// windows (`gemm_uniform.wgsl`).
    CpuWindows,
    /// Software adapters' default: matmul reads whole operands from read-only textures
    /// (`gemm_texture.wgsl`), convolutions read shifted copies or packs through textures, and
    /// the streaming kernels read linear textures; the uniform windows take what textures
    /// cannot (misaligned strides).
    CpuTextures,
}

impl Strategy {
    /// Every strategy, indexed by `strategy as usize` (how the device stores its choice).
    pub const ALL: [Strategy; 3] = [Strategy::Gpu, Strategy::CpuWindows, Strategy::CpuTextures];

    /// Whether this strategy runs the software-adapter kernels.
    pub fn is_cpu(self) -> bool {
        self != Strategy::Gpu
    }

    /// The name `WGTRAIN_STRATEGY` takes and reports print: `gpu`, `cpu-windows`,
    /// `cpu-textures`.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Gpu => "gpu",
            Strategy::CpuWindows => "cpu-windows",
            Strategy::CpuTextures => "cpu-textures",
        }
    }

    /// A strategy by its name, or by the older `WGTRAIN_GEMM` names (`tiled`, `uniform`,
    /// `texture`), which stay as aliases.
    pub fn parse(name: &str) -> Option<Strategy> {
        match name.trim().to_lowercase().as_str() {
            "gpu" | "tiled" => Some(Strategy::Gpu),
            "cpu-windows" | "uniform" => Some(Strategy::CpuWindows),
            "cpu-textures" | "texture" => Some(Strategy::CpuTextures),
            _ => None,
        }
    }

    /// The strategy the environment forces: `WGTRAIN_STRATEGY`, else `WGTRAIN_GEMM`.
    pub(crate) fn from_env() -> Option<Strategy> {
        ["WGTRAIN_STRATEGY", "WGTRAIN_GEMM"]
            .iter()
            .find_map(|k| std::env::var(k).ok().and_then(|v| Strategy::parse(&v)))
    }

    /// The strategy a new device on an adapter with `limits` takes: the one the environment
    /// forces if the adapter can run it, else software adapters (`cpu`) their textures (or
    /// windows), GPUs theirs.
    pub(crate) fn choose(limits: &wgpu::Limits, cpu: bool) -> Strategy {
        let fits = |s: &Strategy| s.unfit(limits).is_none();
        let preferred: &[Strategy] =
            if cpu { &[Strategy::CpuTextures, Strategy::CpuWindows, Strategy::Gpu] } else { &[Strategy::Gpu] };
        Strategy::from_env().filter(fits).or_else(|| preferred.iter().copied().find(fits)).unwrap_or(Strategy::Gpu)
    }

    /// Why an adapter with `limits` cannot run this strategy, or `None` when it can: the
    /// software-adapter strategies need 15 uniform buffers of 64 KiB per stage (the windows,
    /// which also take what textures cannot), and `CpuTextures` textures 4096 texels wide.
    pub(crate) fn unfit(self, limits: &wgpu::Limits) -> Option<String> {
        if self == Strategy::CpuTextures && limits.max_texture_dimension_2d < TEXTURE_WIDTH {
            let height = limits.max_texture_dimension_2d;
            return Some(format!(
                "the texture GEMM needs textures {TEXTURE_WIDTH} texels wide (max_texture_dimension_2d is {height})"
            ));
        }
        let windows_fit = limits.max_uniform_buffers_per_shader_stage >= UNIFORM_BINDINGS
            && limits.max_uniform_buffer_binding_size >= WINDOW_FLOATS * 4;
        if self.is_cpu() && !windows_fit {
            let bytes = WINDOW_FLOATS * 4;
            return Some(format!(
                "the uniform GEMM needs {UNIFORM_BINDINGS} uniform buffers of {bytes} bytes per stage"
            ));
        }
        None
    }
}

/// The strategy object a device owns: which strategy runs, and the software-adapter wing's
/// state (untouched under [`Strategy::Gpu`]).
pub(crate) struct Execution {
    /// A [`Strategy`] as `strategy as u8`.
    strategy: AtomicU8,
    pub(crate) wing: WingState,
}

impl Execution {
    pub(crate) fn new(strategy: Strategy) -> Execution {
        Execution { strategy: (strategy as u8).into(), wing: WingState::default() }
    }
    pub(crate) fn strategy(&self) -> Strategy {
        Strategy::ALL[self.strategy.load(Ordering::Relaxed) as usize]
    }
    pub(crate) fn set_strategy(&self, s: Strategy) {
        self.strategy.store(s as u8, Ordering::Relaxed);
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_old_names_are_aliases() {
        for s in Strategy::ALL {
            assert_eq!(Strategy::parse(s.name()), Some(s));
            assert_eq!(Strategy::ALL[s as usize], s);
        }
        assert_eq!(Strategy::parse("tiled"), Some(Strategy::Gpu));
        assert_eq!(Strategy::parse("Texture"), Some(Strategy::CpuTextures));
        assert_eq!(Strategy::parse("uniform"), Some(Strategy::CpuWindows));
        assert_eq!(Strategy::parse("fast"), None);
    }

    #[test]
    fn an_adapter_without_wide_textures_or_enough_uniforms_is_refused_by_name() {
        let mut limits = wgpu::Limits::default();
        assert_eq!(Strategy::Gpu.unfit(&limits), None);
        limits.max_texture_dimension_2d = 2048;
        assert!(Strategy::CpuTextures.unfit(&limits).unwrap().contains("max_texture_dimension_2d is 2048"));
        limits.max_uniform_buffers_per_shader_stage = 12;
        assert!(Strategy::CpuWindows.unfit(&limits).unwrap().contains("uniform buffers"));
        assert_eq!(Strategy::choose(&limits, true), Strategy::Gpu, "a software adapter that fits neither wing");
    }
}
