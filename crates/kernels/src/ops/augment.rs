//! Image batch augmentation (`augment.wgsl`) in one pass: random crop of the zero-padded image,
//! flips, rotation / zoom / translation, colour jitter, Gaussian noise, per-channel
//! normalization and cutout. The optional stages are pipeline constants (see the shader).

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, Constants, ElemKernel, Launch, Shader};

/// Parameters of `augment_images` (the WGSL `AugmentParams`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Default)]
pub struct AugmentParams {
    /// Images in the batch.
    pub n: u32,
    /// Channels per image.
    pub c: u32,
    /// Image height.
    pub h: u32,
    /// Image width.
    pub w: u32,
    /// Zero padding on each side before the random crop (0: no crop).
    pub pad: u32,
    /// Seed of every draw (with the sample index and the draw number).
    pub seed: u32,
    /// Bit 0: random horizontal flip; bit 1: random vertical flip.
    pub flips: u32,
    /// Number of output elements.
    pub total: u32,
    /// Largest rotation in radians; zoom and translation (fractions of the size): each drawn
    /// uniformly in `[-v, v]`.
    pub rotation: f32,
    /// See `rotation`.
    pub zoom: f32,
    /// See `rotation`.
    pub translate: f32,
    /// Colour jitter strengths: factors drawn in `[1 - v, 1 + v]`.
    pub brightness: f32,
    /// See `brightness`.
    pub contrast: f32,
    /// See `brightness`.
    pub saturation: f32,
    /// Standard deviation of the additive Gaussian noise.
    pub noise_std: f32,
    /// Side of the cutout square in pixels (0: none).
    pub cutout: u32,
}

impl AugmentParams {
    /// Whether the bilinear affine stage runs (any rotation, zoom or translation).
    pub fn affine(&self) -> bool {
        self.rotation != 0.0 || self.zoom != 0.0 || self.translate != 0.0
    }

    /// Whether the colour jitter stage runs.
    pub fn color(&self) -> bool {
        self.brightness != 0.0 || self.contrast != 0.0 || self.saturation != 0.0
    }
}

/// Bindings (x, stats `[2, c]`: means then 1 / std, the source images' channel means `[n, c]`
/// (read only by the colour stage), y).
pub static AUGMENT_IMAGES: ElemKernel = ElemKernel::new(
    Shader::Augment,
    Shader::AugmentF16,
    "augment_images",
    &[Access::Read, Access::Read, Access::Read, Access::ReadWrite],
);

/// The stages `p` turns on, as the shader's pipeline constants.
pub fn constants(p: &AugmentParams) -> Constants {
    Constants::new(&[
        ("AFFINE", p.affine() as u32),
        ("COLOR", p.color() as u32),
        ("NOISE", (p.noise_std != 0.0) as u32),
        ("CUTOUT", (p.cutout != 0) as u32),
    ])
}

/// The augmentation of `p.total` elements (f16 images when `f16`): an invocation per output
/// element.
pub fn launch(p: &AugmentParams, f16: bool) -> Launch {
    Launch::new(AUGMENT_IMAGES.of(f16), p, grid_1d(p.total as usize, 256)).with_constants(constants(p))
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

/// A uniform draw in `[0, 1)` from a word's top 24 bits.
pub fn unit(v: u32) -> f32 {
    (v >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// The k-th uniform draw of sample `i` in `[-r, r)`.
pub fn sym(seed: u32, i: u32, k: u32, r: f32) -> f32 {
    (2.0 * unit(draw(seed, i, k)) - 1.0) * r
}
