//! Counter-based random tensors and dropout (Philox4x32-10 in `random.wgsl`): element i is a
//! pure function of (i, seed), so results do not depend on the adapter or on dispatch order.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, ElemKernel, KernelSpec, Launch, Shader};

/// Parameters of `random.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct RandomParams {
    /// Elements to generate.
    pub n: u32,
    /// Low 32 bits of the seed.
    pub seed_lo: u32,
    /// High 32 bits of the seed.
    pub seed_hi: u32,
    /// `random_fill`: 0 uniform in [a, b), 1 normal(mean a, std b).
    pub op: u32,
    /// uniform low / normal mean / dropout probability
    pub a: f32,
    /// uniform high / normal std
    pub b: f32,
    /// dropout: 1 / (1 - p)
    pub scale: f32,
    /// The stream position of element 0: element i draws counter `first + i`, so a slice of
    /// a larger tensor (a data-parallel shard of a batch) can draw exactly the slice's values.
    pub first: u32,
}

/// Distribution codes of `random_fill`: uniform samples.
pub const UNIFORM: u32 = 0;
/// Normal samples (Box-Muller).
pub const NORMAL: u32 = 1;

impl RandomParams {
    /// `n` uniform samples in `[low, high)`.
    pub fn uniform(n: usize, seed: u64, low: f32, high: f32) -> Self {
        Self::with(n, seed, UNIFORM, low, high, 0.0)
    }
    /// `n` normal samples with `mean` and standard deviation `std`.
    pub fn normal(n: usize, seed: u64, mean: f32, std: f32) -> Self {
        Self::with(n, seed, NORMAL, mean, std, 0.0)
    }
    /// Dropout with drop probability `p` in [0, 1), element i drawing counter `first + i`.
    pub fn dropout(n: usize, seed: u64, p: f32, first: u32) -> Self {
        RandomParams { first, ..Self::with(n, seed, 0, p, 0.0, 1.0 / (1.0 - p)) }
    }
    fn with(n: usize, seed: u64, op: u32, a: f32, b: f32, scale: f32) -> Self {
        RandomParams { n: n as u32, seed_lo: seed as u32, seed_hi: (seed >> 32) as u32, op, a, b, scale, first: 0 }
    }
}

/// Uniform or normal fill: (out).
pub static RANDOM_FILL: KernelSpec =
    KernelSpec { shader: Shader::Random, entry: "random_fill", bindings: &[Access::ReadWrite] };
/// Zeroes each element with probability `a` and scales the kept ones by `scale`, on f32 or f16
/// tensors (the same mask either way): (x, out).
pub static DROPOUT: ElemKernel =
    ElemKernel::new(Shader::Random, Shader::RandomF16, "dropout_apply", &[Access::Read, Access::ReadWrite]);

/// Launch of a random kernel over `p.n` elements.
pub fn launch(kernel: &'static KernelSpec, p: &RandomParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.n as usize, 256))
}
