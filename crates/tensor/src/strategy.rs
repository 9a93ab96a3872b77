//! The execution strategy: how a device runs the ops that have more than one implementation
//! (matmul, convolutions, the streaming maps, reductions, pooling and optimizer updates).
//! Real GPUs take [`Strategy::Gpu`]; the software-adapter strategies are tuned for llvmpipe,
//! where every storage load with a per-lane address is a scalar loop
//! (`docs/lavapipe-journal.md`).

/// How a device runs its ops. [`crate::Device::strategy`] says which is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The GPU path: the workgroup-tiled GEMM core (`matmul.wgsl`, `gemm_core.wgsl`), implicit
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
}
