//! Image batch augmentation (`augment.wgsl`): random crop of the zero-padded image, random
//! flips and per-channel normalization, in one pass.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of `augment_images` (the WGSL `AugmentParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct AugmentParams {
    pub n: u32,
    pub c: u32,
    pub h: u32,
    pub w: u32,
    /// Zero padding on each side before the random crop (0: no crop).
    pub pad: u32,
    pub seed: u32,
    /// Bit 0: random horizontal flip; bit 1: random vertical flip.
    pub flips: u32,
    pub total: u32,
}

/// Bindings (x, stats `[2, c]`: means then 1 / std, y).
pub static AUGMENT_IMAGES: KernelSpec = KernelSpec {
    shader: Shader::Augment,
    entry: "augment_images",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite],
};

pub fn launch(p: &AugmentParams) -> Launch {
    Launch::new(&AUGMENT_IMAGES, p, grid_1d(p.total as usize, 256))
}

/// The hash the kernel draws from (PCG's output permutation of an LCG step).
pub fn pcg(v: u32) -> u32 {
    let s = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let w = ((s >> ((s >> 28) + 4)) ^ s).wrapping_mul(277_803_737);
    (w >> 22) ^ w
}

/// The k-th random word of sample `i` for `seed`.
pub fn draw(seed: u32, i: u32, k: u32) -> u32 {
    pcg(pcg(seed ^ pcg(i)).wrapping_add(k))
}
