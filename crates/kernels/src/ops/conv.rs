//! 2-D convolution, NCHW, as three implicit GEMMs (`conv2d.wgsl`): forward, grad input (also
//! conv_transpose2d's forward) and grad weight (split over K when the output is too small to
//! keep the adapter busy, then summed in a fixed order: no float atomics, repeatable bits).
//!
//! Shape contract: x `[batch, in_c, in_h, in_w]`, w `[out_c, in_c / groups, k_h, k_w]`,
//! y `[batch, out_c, out_h, out_w]` with `out = (in + 2 pad - dil (k - 1) - 1) / stride + 1`;
//! all contiguous.

use bytemuck::{Pod, Zeroable};

use super::matmul::GemmPrecision;
use super::tiles::GemmTiles;
use crate::launch::grid_1d;
use crate::{Access, GemmKernel, KernelSpec, Launch, Shader};

/// Which pass of a convolution a call computes (the strategies' forms take it as one value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvPass {
    /// y from x and w (A packed from w, B from x, in the CPU forms).
    Forward,
    /// dx from dy and w (A packed from w, B from dy).
    GradInput,
    /// dw from dy and x (A packed from dy, B from x).
    GradWeight,
}

/// Parameters of `conv2d.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct ConvParams {
    /// Images in the batch.
    pub batch: u32,
    /// Input channels (all groups).
    pub in_c: u32,
    /// Input height.
    pub in_h: u32,
    /// Input width.
    pub in_w: u32,
    /// Output channels (all groups).
    pub out_c: u32,
    /// Output height.
    pub out_h: u32,
    /// Output width.
    pub out_w: u32,
    /// Channel groups; `in_c` and `out_c` are multiples of it.
    pub groups: u32,
    /// Kernel height.
    pub k_h: u32,
    /// Kernel width.
    pub k_w: u32,
    /// Vertical stride.
    pub stride_h: u32,
    /// Horizontal stride.
    pub stride_w: u32,
    /// Zero padding above and below.
    pub pad_h: u32,
    /// Zero padding left and right.
    pub pad_w: u32,
    /// Vertical dilation.
    pub dil_h: u32,
    /// Horizontal dilation.
    pub dil_w: u32,
    /// 1 when the epilogue adds a per-output-channel bias, else 0.
    pub has_bias: u32,
    /// Epilogue activation (a `UnaryOp` code) of the forward and grad-input passes.
    pub act: u32,
    /// Scalar argument of the epilogue activation (e.g. the leaky-ReLU slope).
    pub alpha: f32,
    /// Grad weight: number of K splits.
    pub splits: u32,
    /// Grad weight: K elements per split (for the sum pass, the length of one split's output).
    pub k_split: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: [u32; 3],
}

/// Geometry of a convolution, in the user's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    /// Stride `[h, w]`; default `[1, 1]`.
    pub stride: [usize; 2],
    /// Zero padding `[h, w]` on each side; default `[0, 0]`.
    pub padding: [usize; 2],
    /// Dilation `[h, w]`; default `[1, 1]`.
    pub dilation: [usize; 2],
    /// Channel groups; default 1.
    pub groups: usize,
}

impl Default for ConvGeometry {
    fn default() -> Self {
        ConvGeometry { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 }
    }
}

/// Output extent of one spatial dimension, or `None` when the kernel does not fit.
pub fn out_extent(input: usize, kernel: usize, stride: usize, pad: usize, dil: usize) -> Option<usize> {
    let span = dil * (kernel - 1) + 1;
    (input + 2 * pad).checked_sub(span).map(|v| v / stride + 1)
}

#[cfg(test)]
impl ConvParams {
    /// The params of x convolved with w under `g`, the output extent derived (the geometry
    /// must fit: tests only).
    pub(crate) fn with_output_extent(x: [usize; 4], w: [usize; 4], g: &ConvGeometry) -> ConvParams {
        let oh = out_extent(x[2], w[2], g.stride[0], g.padding[0], g.dilation[0]).expect("the kernel fits");
        let ow = out_extent(x[3], w[3], g.stride[1], g.padding[1], g.dilation[1]).expect("the kernel fits");
        ConvParams::new(x, w, [oh, ow], g)
    }
}

impl ConvParams {
    /// Params for x `[batch, in_c, in_h, in_w]` and w `[out_c, in_c / groups, k_h, k_w]` with
    /// output extents `out_hw` (already checked by the caller).
    pub fn new(x: [usize; 4], w: [usize; 4], out_hw: [usize; 2], g: &ConvGeometry) -> Self {
        ConvParams {
            batch: x[0] as u32,
            in_c: x[1] as u32,
            in_h: x[2] as u32,
            in_w: x[3] as u32,
            out_c: w[0] as u32,
            out_h: out_hw[0] as u32,
            out_w: out_hw[1] as u32,
            groups: g.groups as u32,
            k_h: w[2] as u32,
            k_w: w[3] as u32,
            stride_h: g.stride[0] as u32,
            stride_w: g.stride[1] as u32,
            pad_h: g.padding[0] as u32,
            pad_w: g.padding[1] as u32,
            dil_h: g.dilation[0] as u32,
            dil_w: g.dilation[1] as u32,
            has_bias: 0,
            act: super::map::UnaryOp::Identity as u32,
            alpha: 0.0,
            splits: 1,
            k_split: 0,
            _pad: [0; 3],
        }
    }
    fn icg(&self) -> u32 {
        self.in_c / self.groups
    }
    fn ocg(&self) -> u32 {
        self.out_c / self.groups
    }
    /// Elements of the weight tensor.
    pub fn weight_len(&self) -> usize {
        (self.out_c * self.icg() * self.k_h * self.k_w) as usize
    }
}

/// The modules of the three precisions.
const MODULES: [Shader; 3] = [Shader::Conv2d, Shader::Conv2dF16, Shader::Conv2dF16F32];

/// Forward in each precision: (x, w, bias, y). See [`forward`].
pub static FORWARD: GemmKernel = GemmKernel::new(MODULES, "conv2d_forward");
/// Grad input, and conv_transpose2d forward: (dy, w, bias, dx). See [`grad_input`].
pub static GRAD_INPUT: GemmKernel = GemmKernel::new(MODULES, "conv2d_grad_input");
/// Grad weight into split-K partials: (dy, x, unused, partials). See [`grad_weight`].
pub static GRAD_WEIGHT: GemmKernel = GemmKernel::new(MODULES, "conv2d_grad_weight");
/// Fixed-order sum of the f32 grad-weight partials: (partials, unused, unused, dw). See
/// [`splitk_sum`].
pub static SPLITK_SUM: KernelSpec = KernelSpec {
    shader: Shader::Conv2d,
    entry: "conv2d_splitk_sum",
    bindings: &[Access::Read, Access::Read, Access::Read, Access::ReadWrite],
};

/// Forward in `precision`: bindings (x, w, bias, y).
pub fn forward(p: &ConvParams, t: GemmTiles, precision: GemmPrecision) -> Launch {
    let cols = p.batch * p.out_h * p.out_w;
    let grid = [cols.div_ceil(t.bn()), p.ocg().div_ceil(t.bm()), p.groups];
    Launch::new(FORWARD.of(precision), p, grid).with_constants(t.constants())
}

/// Grad input (and conv_transpose2d forward) in `precision`: bindings (dy, w, bias, dx).
pub fn grad_input(p: &ConvParams, t: GemmTiles, precision: GemmPrecision) -> Launch {
    let cols = p.batch * p.in_h * p.in_w;
    let grid = [cols.div_ceil(t.bn()), p.icg().div_ceil(t.bm()), p.groups];
    Launch::new(GRAD_INPUT.of(precision), p, grid).with_constants(t.constants())
}

/// How many K splits the grad-weight pass uses so that about `target_groups` workgroups run.
pub fn grad_weight_splits(p: &ConvParams, t: GemmTiles, target_groups: u32) -> u32 {
    let tiles = (p.icg() * p.k_h * p.k_w).div_ceil(t.bn()) * p.ocg().div_ceil(t.bm()) * p.groups;
    let k = p.batch * p.out_h * p.out_w;
    // Keep each split at least 16 slices deep so the partial sums stay worth their traffic.
    let max_splits = (k / (t.bk * 16)).max(1);
    (target_groups / tiles.max(1)).clamp(1, max_splits).min(65_535 / p.groups.max(1))
}

/// Grad weight into `splits` partial copies of dw, in `precision`: bindings (dy, x, unused,
/// partials). Sets `p.splits` and `p.k_split`. The split-K sum is f32 only: partials that are
/// summed must be stored f32.
pub fn grad_weight(p: &mut ConvParams, t: GemmTiles, splits: u32, precision: GemmPrecision) -> Launch {
    let k = p.batch * p.out_h * p.out_w;
    p.splits = splits.max(1);
    p.k_split = k.div_ceil(p.splits);
    let cols = p.icg() * p.k_h * p.k_w;
    let grid = [cols.div_ceil(t.bn()), p.ocg().div_ceil(t.bm()), p.groups * p.splits];
    Launch::new(GRAD_WEIGHT.of(precision), p, grid).with_constants(t.constants())
}

/// Sum of the f32 split partials into an f32 dw: bindings (partials, unused, unused, dw).
pub fn splitk_sum(p: &ConvParams, t: GemmTiles) -> Launch {
    let mut q = *p;
    q.k_split = p.weight_len() as u32;
    Launch::new(&SPLITK_SUM, &q, grid_1d(q.k_split as usize, 256)).with_constants(t.constants())
}
