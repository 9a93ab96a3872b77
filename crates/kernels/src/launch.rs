//! What a launcher hands to the device layer: a [`Launch`] names a kernel (module, entry point,
//! binding access pattern), its override constants, its parameter bytes and its grid.
//!
//! Binding convention, shared by every kernel so bind-group layouts can be shared: binding 0 is
//! the kernel's parameter struct (a uniform, one slot of the per-submit parameter arena), and
//! bindings 1.. are buffers in the order of [`KernelSpec::bindings`]: storage buffers, or (for
//! the CPU-adapter GEMM) uniform windows into a storage tensor.

/// Highest tensor rank the kernels index (shapes and strides are packed as two `vec4<u32>`).
pub const MAX_RANK: usize = 6;

/// Bytes reserved for one kernel's parameters in the arena; every params struct fits.
pub const PARAMS_SLOT_BYTES: usize = 256;

/// How a kernel uses a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
    /// `var<uniform>`: a window of at most `max_uniform_buffer_binding_size` bytes.
    Uniform,
    /// `texture_storage_2d<rgba32float, read>`, read with `textureLoad`.
    Texture,
    /// `texture_storage_2d<rgba32uint, read>`: u32 data (indices) read with `textureLoad`.
    TextureU32,
}

impl Access {
    /// The texel format of a texture binding, `None` for buffers.
    pub fn texture_format(self) -> Option<wgpu::TextureFormat> {
        match self {
            Access::Texture => Some(wgpu::TextureFormat::Rgba32Float),
            Access::TextureU32 => Some(wgpu::TextureFormat::Rgba32Uint),
            _ => None,
        }
    }
}

/// A kernel: an entry point of a module and the access of each storage binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelSpec {
    /// The module that holds the entry point.
    pub shader: crate::Shader,
    /// The `@compute` entry point's name.
    pub entry: &'static str,
    /// Access of bindings 1.. in order (binding 0, the params uniform, is implicit).
    pub bindings: &'static [Access],
}

/// One entry point in the modules of both element types: the module on f32 tensors, and its
/// twin on f16 ones (the same WGSL text through an `elem_f16.wgsl` part: f32 arithmetic, one
/// rounding per result).
#[derive(Debug)]
pub struct ElemKernel {
    /// The entry point on f32 tensors.
    pub f32: KernelSpec,
    /// The entry point on f16 tensors (needs `SHADER_F16`).
    pub f16: KernelSpec,
}

impl ElemKernel {
    /// `entry` with `bindings` in module `f32` and in its f16 twin `f16`.
    pub const fn new(f32: crate::Shader, f16: crate::Shader, entry: &'static str, bindings: &'static [Access]) -> Self {
        ElemKernel {
            f32: KernelSpec { shader: f32, entry, bindings },
            f16: KernelSpec { shader: f16, entry, bindings },
        }
    }

    /// The entry point for f16 tensors when `f16`, else for f32 ones.
    pub fn of(&'static self, f16: bool) -> &'static KernelSpec {
        if f16 { &self.f16 } else { &self.f32 }
    }
}

/// One GEMM entry point (matmul, a convolution pass) in the modules of each
/// [`GemmPrecision`](crate::ops::matmul::GemmPrecision).
#[derive(Debug)]
pub struct GemmKernel {
    /// f32 operands and output.
    pub f32: KernelSpec,
    /// f16 operands and output.
    pub f16: KernelSpec,
    /// f16 operands, f32 output.
    pub f16_to_f32: KernelSpec,
}

impl GemmKernel {
    /// `entry` in the modules `[f32, f16, f16 -> f32]`, each binding (lhs, rhs, bias, out).
    pub const fn new(modules: [crate::Shader; 3], entry: &'static str) -> Self {
        const GEMM: &[Access] = &[Access::Read, Access::Read, Access::Read, Access::ReadWrite];
        GemmKernel {
            f32: KernelSpec { shader: modules[0], entry, bindings: GEMM },
            f16: KernelSpec { shader: modules[1], entry, bindings: GEMM },
            f16_to_f32: KernelSpec { shader: modules[2], entry, bindings: GEMM },
        }
    }

    /// The entry point of `precision`.
    pub fn of(&'static self, precision: crate::ops::matmul::GemmPrecision) -> &'static KernelSpec {
        use crate::ops::matmul::GemmPrecision;
        match precision {
            GemmPrecision::F32 => &self.f32,
            GemmPrecision::F16 => &self.f16,
            GemmPrecision::F16ToF32 => &self.f16_to_f32,
        }
    }

    /// Every variant (for validation).
    pub fn all(&'static self) -> [&'static KernelSpec; 3] {
        [&self.f32, &self.f16, &self.f16_to_f32]
    }
}

impl KernelSpec {
    /// The pipeline label, `file:entry`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.shader.name(), self.entry)
    }
}

/// Override constants of a pipeline, sorted by name so equal sets compare equal (they are part
/// of the pipeline-cache key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Constants(Vec<(&'static str, u32)>);

impl Constants {
    /// A set of constants from `(name, value)` pairs in any order.
    pub fn new(pairs: &[(&'static str, u32)]) -> Self {
        let mut v = pairs.to_vec();
        v.sort_unstable_by_key(|p| p.0);
        Constants(v)
    }
    /// The pairs, sorted by name.
    pub fn pairs(&self) -> &[(&'static str, u32)] {
        &self.0
    }
    /// Whether no constant is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One dispatch, minus its buffers.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The kernel to run.
    pub kernel: &'static KernelSpec,
    /// Pipeline override constants; part of the pipeline-cache key.
    pub constants: Constants,
    /// The kernel's parameter struct as bytes (at most [`PARAMS_SLOT_BYTES`]).
    pub params: Vec<u8>,
    /// Workgroup counts along x, y, z.
    pub workgroups: [u32; 3],
}

impl Launch {
    /// A launch of `kernel` with `params` (a `#[repr(C)]` struct laid out like the WGSL one, at most
    /// [`PARAMS_SLOT_BYTES`]) over `workgroups`, with no override constants.
    pub fn new<P: bytemuck::Pod>(kernel: &'static KernelSpec, params: &P, workgroups: [u32; 3]) -> Self {
        let params = bytemuck::bytes_of(params).to_vec();
        debug_assert!(params.len() <= PARAMS_SLOT_BYTES, "{} params too large", kernel.label());
        Launch { kernel, constants: Constants::default(), params, workgroups }
    }
    /// Sets the override constants.
    pub fn with_constants(mut self, constants: Constants) -> Self {
        self.constants = constants;
        self
    }
}

/// Most workgroups a dispatch may have along one dimension (WebGPU's default limit; every
/// backend allows at least this).
pub const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// A grid of `ceil(n / per_group)` workgroups laid out over x and y, because one dimension holds
/// only 65,535. Shaders recover the linear group as `wid.x + wid.y * nwg.x`.
pub fn grid_1d(n: usize, per_group: u32) -> [u32; 3] {
    let groups = n.div_ceil(per_group as usize).max(1) as u64;
    if groups <= MAX_GROUPS_PER_DIM as u64 {
        [groups as u32, 1, 1]
    } else {
        let y = groups.div_ceil(MAX_GROUPS_PER_DIM as u64);
        let x = groups.div_ceil(y);
        [x as u32, y as u32, 1]
    }
}

/// A rank-≤6 list of extents or strides, padded and packed as WGSL `array<vec4<u32>, 2>`
/// (uniform arrays need a 16-byte stride).
pub fn pack_dims(v: &[usize]) -> [u32; 8] {
    debug_assert!(v.len() <= MAX_RANK);
    let mut out = [0u32; 8];
    for (o, &x) in out.iter_mut().zip(v) {
        *o = x as u32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_every_element_within_the_dimension_limit() {
        for n in [1usize, 255, 256, 257, 65_535 * 256, 65_535 * 256 + 1, 40_000_000] {
            let g = grid_1d(n, 256);
            assert!(g[0] <= MAX_GROUPS_PER_DIM && g[1] <= MAX_GROUPS_PER_DIM, "{n}: {g:?}");
            assert!(g[0] as usize * g[1] as usize * 256 >= n, "{n}: {g:?}");
        }
    }

    #[test]
    fn constants_are_order_independent() {
        assert_eq!(Constants::new(&[("A", 1), ("B", 2)]), Constants::new(&[("B", 2), ("A", 1)]));
    }
}
