//! Stride-1 convolution passes on the texture GEMM with no im2col written
//! (`conv_shift.wgsl`): the pass's source (x forward, dy for grad input) is laid out
//! channel-major on a padded pixel grid, so tap (c, i, j) of grid pixel q is the element
//! `base(c, i, j) + q`, four consecutive pixels are four consecutive elements, and four copies
//! shifted by 0-3 elements put every tap's run of four in one aligned texel. The GEMM computes
//! every pixel of the grid and stores only the output's ([`PixelGrid`]). Grad weight, whose k
//! runs over pixels, reads the same copies of x with the taps as its columns (each column's
//! texel found once per invocation) against dy laid on the grid (zero off the output).
//!
//! Why: on lavapipe the im2col packs cost as much as the GEMM reading them (a CNN step's packs
//! about 80 ms against its GEMMs' 85), at about 5 ns an element, because each element is a
//! gathered texel component and a bounds check. The copies write 4x the source instead of
//! (taps)x, and the GEMM's B load stays one texel per four columns, its address one
//! multiply-add per k step. The price is the grid's non-output pixels, computed and dropped:
//! 12 % for a 30 x 30 output of a 32 x 32 grid, 25 % for 13 x 13 of 15 x 15, so a pass takes
//! this path only when at least [`MIN_OUTPUT_SHARE`] of the grid is output.

use bytemuck::{Pod, Zeroable};

use super::gemm_texture::{NO_PANELS, TapShift, TextureOperand};
use super::output_layout::PixelGrid;
use crate::launch::grid_1d;
use crate::ops::conv::ConvParams;
use crate::ops::conv::ConvPass;
use crate::{Access, Constants, KernelSpec, Launch, Shader};

/// Parameters of `conv_shift.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct ConvShiftParams {
    /// Texels per copy.
    pub texels: u32,
    /// Channels of the source (all groups).
    pub channels: u32,
    /// Images in this chunk.
    pub images: u32,
    /// Element offset of the chunk's first image in the source.
    pub off: u32,
    /// Elements per source image.
    pub src_image: u32,
    /// Source height.
    pub src_h: u32,
    /// Source width.
    pub src_w: u32,
    /// Grid rows above the source.
    pub top_h: u32,
    /// Grid columns left of the source.
    pub top_w: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: [u32; 3],
}

/// `conv_shift`: (source texture, copies).
pub static SHIFT: KernelSpec =
    KernelSpec { shader: Shader::ConvShift, entry: "conv_shift", bindings: &[Access::Texture, Access::ReadWrite] };

/// The least share of the padded grid's pixels that must be output pixels for a pass to skip
/// its pack: below it the dropped pixels cost the GEMM more than the pack did (measured on
/// lavapipe: see docs/lavapipe-journal.md, "Stride-1 convolutions read shifted copies").
pub const MIN_OUTPUT_SHARE: f64 = 0.6;

/// Forward and grad input keep their packs below this depth (taps per group) when their packed
/// C would be stored as whole vec4 (see `geometry`).
pub const SHALLOW_DEPTH: u32 = 64;

/// One operand written by `conv_shift.wgsl`: run `launch` (the source's buffer as a linear
/// texture, a buffer of `elements` floats), then copy the buffer into a texture as `operand`.
#[derive(Debug, Clone)]
pub struct Copies {
    /// The dispatch.
    pub launch: Launch,
    /// Floats it fills.
    pub elements: u64,
    /// The operand as the GEMM reads it.
    pub operand: TextureOperand,
}

/// A pass over an image chunk without an im2col pack: B as shifted copies of x or dy, and for
/// grad weight A too (dy on the grid); the GEMM's columns or depth become the grid's pixels.
#[derive(Debug, Clone)]
pub struct ShiftedPass {
    /// Grad weight's A (dy on the grid, k-contiguous); the other passes keep the weights' pack.
    pub a: Option<Copies>,
    /// B: the four shifted copies.
    pub b: Copies,
    /// Forward and grad input: C's columns are the grid's pixels, stored where they are output.
    pub grid: Option<PixelGrid>,
    /// The GEMM's columns (forward, grad input) or depth (grad weight): every grid pixel of
    /// every image, the depth rounded to a texel.
    pub pixels: u32,
}

/// A pass's source and grid: the source's channels and extent, where it sits on the grid, the
/// grid and the output.
struct Geometry {
    channels: u32,
    src: [u32; 2],
    top: [u32; 2],
    grid: PixelGrid,
    /// Tap offsets: forward walks the taps forwards, grad input (a convolution of dy with the
    /// flipped kernel) backwards from the far corner.
    flipped: bool,
}

fn geometry(p: &ConvParams, pass: ConvPass) -> Option<Geometry> {
    if p.stride_h != 1 || p.stride_w != 1 {
        return None;
    }
    // The dilated kernel's extent past its first tap.
    let reach = [(p.k_h - 1) * p.dil_h, (p.k_w - 1) * p.dil_w];
    let forward = Geometry {
        channels: p.in_c,
        src: [p.in_h, p.in_w],
        top: [p.pad_h, p.pad_w],
        grid: PixelGrid { h: p.out_h + reach[0], w: p.out_w + reach[1], out_h: p.out_h, out_w: p.out_w },
        flipped: false,
    };
    let g = match pass {
        // Grad weight correlates dy with the same taps of x over the forward grid.
        ConvPass::Forward | ConvPass::GradWeight => forward,
        // dx[h, w] gathers dy[h + pad - i dil, w + pad - j dil]: dy sits `reach - pad` into the
        // grid (a padding larger than the kernel would crop it: those keep the pack).
        ConvPass::GradInput if reach[0] >= p.pad_h && reach[1] >= p.pad_w => Geometry {
            channels: p.out_c,
            src: [p.out_h, p.out_w],
            top: [reach[0] - p.pad_h, reach[1] - p.pad_w],
            grid: PixelGrid { h: p.in_h + reach[0], w: p.in_w + reach[1], out_h: p.in_h, out_w: p.in_w },
            flipped: true,
        },
        ConvPass::GradInput => return None,
    };
    let share = (g.grid.out_h * g.grid.out_w) as f64 / (g.grid.h * g.grid.w) as f64;
    // A shallow product whose packed C would be stored as whole vec4 is bound by those stores;
    // on the grid each output is a scalar store, which costs more than its cheap pack (the
    // CNN's first layer forward: K = 27, 8.7 + 3 ms packed against 9-13 + 1.5 on the grid).
    let group_taps = g.channels / p.groups * p.k_h * p.k_w;
    let store_bound =
        pass != ConvPass::GradWeight && (g.grid.out_h * g.grid.out_w).is_multiple_of(4) && group_taps < SHALLOW_DEPTH;
    (share >= MIN_OUTPUT_SHARE && !store_bound).then_some(g)
}

/// Whether `pass` of `p` reads shifted copies instead of an im2col pack.
pub fn takes_shifted(p: &ConvParams, pass: ConvPass) -> bool {
    geometry(p, pass).is_some()
}

/// The `conv_shift` dispatch writing `copies` (1 or 4) copies, each `texels` long, of `g`'s
/// source on its grid, `s` elements per channel.
fn copies_launch(g: &Geometry, first: u32, count: u32, s: u32, texels: u32, copies: u32) -> Launch {
    let src_image = g.channels * g.src[0] * g.src[1];
    let params = ConvShiftParams {
        texels,
        channels: g.channels,
        images: count,
        off: first * src_image,
        src_image,
        src_h: g.src[0],
        src_w: g.src[1],
        top_h: g.top[0],
        top_w: g.top[1],
        _pad: [0; 3],
    };
    let constants = Constants::new(&[("S", s), ("PLANE", g.grid.h * g.grid.w), ("WP", g.grid.w), ("COPIES", copies)]);
    Launch::new(&SHIFT, &params, grid_1d(texels as usize, 64)).with_constants(constants)
}

/// `pass` over images `first .. first + count` without packs, or `None` where the pass keeps
/// them (see [`takes_shifted`]).
pub fn shifted_pass(p: &ConvParams, pass: ConvPass, first: u32, count: u32) -> Option<ShiftedPass> {
    let g = geometry(p, pass)?;
    let PixelGrid { h, w, .. } = g.grid;
    let pixels = count.checked_mul(h * w)?;
    // Each channel's run, rounded to a texel so that channel c starts at an aligned c * s.
    let s = pixels.checked_next_multiple_of(4)?;
    let (row, col) = (p.dil_h * w, p.dil_w);
    let reach = (p.k_h - 1) * row + (p.k_w - 1) * col;
    // The furthest texel the GEMM reads: the last channel's last tap from the last pixel (the
    // last column, clamped, or the last k step), within (channels s + reach) / 4; one texel
    // more for the shift. A chunk too large for u32 offsets keeps the pack, whose own limits
    // then shrink the chunk.
    let copy = g.channels.checked_mul(s)?.checked_add(reach)? / 4 + 2;
    copy.checked_mul(4)?;
    let taps = p.k_h * p.k_w;
    let group_channels = g.channels / p.groups;
    let shift = if g.flipped {
        TapShift { origin: reach, row: row.wrapping_neg(), col: col.wrapping_neg(), ..TapShift::default() }
    } else {
        TapShift { origin: 0, row, col, ..TapShift::default() }
    };
    // Taps run along k (forward, grad input) or along the columns (grad weight); either way
    // a group has `group_channels x taps` of them.
    let shift = TapShift { depth: group_channels * taps, taps, kw: p.k_w, copy, chan: s, ..shift };
    let grad_weight = pass == ConvPass::GradWeight;
    let operand = |texels, k_contiguous, major, group| TextureOperand {
        first: 0,
        texels,
        k_contiguous,
        major,
        batch: if p.groups > 1 { group * s / 4 } else { 0 },
        panel: 0,
        panel_shift: NO_PANELS,
        shift: None,
    };
    let b = Copies {
        launch: copies_launch(&g, first, count, s, copy, 4),
        elements: 16 * copy as u64,
        operand: TextureOperand { shift: Some(shift), ..operand(4 * copy, grad_weight, 0, group_channels) },
    };
    let dy_texels = if grad_weight { p.out_c.checked_mul(s)? / 4 } else { 0 };
    let a = grad_weight.then(|| {
        // dy on the grid at its top-left, zero elsewhere: row oc of A, k-contiguous.
        let dy = Geometry { channels: p.out_c, src: [p.out_h, p.out_w], top: [0, 0], grid: g.grid, flipped: false };
        let texels = dy_texels;
        Copies {
            launch: copies_launch(&dy, first, count, s, texels, 1),
            elements: 4 * texels as u64,
            operand: operand(texels, true, s / 4, p.out_c / p.groups),
        }
    });
    let grid = (!grad_weight).then_some(g.grid);
    Some(ShiftedPass { a, b, grid, pixels: if grad_weight { s } else { pixels } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::ConvGeometry;

    fn params(x: [usize; 4], w: [usize; 4], g: &ConvGeometry) -> ConvParams {
        ConvParams::with_output_extent(x, w, g)
    }

    #[test]
    fn stride_one_passes_with_enough_output_pixels_take_shifted_copies() {
        let none = ConvGeometry::default();
        // The CNN's first two layers: 30 x 30 of 32 x 32, 13 x 13 of 15 x 15 (grad input:
        // 15 x 15 of 17 x 17); its third, 4 x 4 of 6 x 6, keeps the packs. The first layer's
        // forward and grad input (K = 27 and 288, 900 output pixels an image) are bound by
        // C's vec4 stores where K is shallow: forward keeps its pack.
        for (x, w, passes) in [
            ([64, 3, 32, 32], [32, 3, 3, 3], [false, true, true]),
            ([64, 32, 15, 15], [64, 32, 3, 3], [true; 3]),
            ([64, 64, 6, 6], [64, 64, 3, 3], [false; 3]),
        ] {
            let p = params(x, w, &none);
            assert_eq!(takes_shifted(&p, ConvPass::Forward), passes[0], "{x:?}");
            assert_eq!(takes_shifted(&p, ConvPass::GradInput), passes[1], "{x:?}");
            assert_eq!(takes_shifted(&p, ConvPass::GradWeight), passes[2], "{x:?}");
        }
        let strided = ConvGeometry { stride: [2, 1], ..none };
        assert!(!takes_shifted(&params([1, 1, 32, 32], [1, 1, 3, 3], &strided), ConvPass::Forward));
        // Grad input with a padding beyond the kernel's reach would crop dy.
        let wide = ConvGeometry { padding: [3, 3], ..none };
        let p = params([1, 8, 32, 32], [1, 8, 3, 3], &wide);
        assert!(takes_shifted(&p, ConvPass::Forward) && !takes_shifted(&p, ConvPass::GradInput));
    }

    #[test]
    fn taps_address_the_padded_grid() {
        let g = ConvGeometry { padding: [1, 2], dilation: [2, 1], groups: 2, ..Default::default() };
        let p = params([3, 4, 21, 13], [6, 2, 3, 3], &g);
        // Forward: the grid is the padded input, 23 x 17 per image, 19 x 15 of it output.
        let f = shifted_pass(&p, ConvPass::Forward, 1, 2).expect("stride 1");
        let grid = f.grid.expect("C on the grid");
        assert_eq!((grid.h, grid.w, grid.out_h, grid.out_w), (23, 17, 19, 15));
        assert_eq!(f.pixels, 2 * 23 * 17);
        assert!(f.a.is_none(), "A is the weights' pack");
        let b = f.b.operand;
        let t = b.shift.expect("shifted");
        let s = (2 * 23 * 17u32).next_multiple_of(4);
        assert_eq!((t.origin, t.chan, t.row, t.col, t.taps, t.kw, t.depth), (0, s, 34, 1, 9, 3, 2 * 9));
        assert!(!b.k_contiguous);
        assert_eq!(b.batch, 2 * s / 4, "each group starts at its first channel");
        assert_eq!((b.texels, f.b.elements), (4 * t.copy, 16 * t.copy as u64));
        assert!(t.copy * 4 >= 4 * s + 2 * 34 + 2, "the last tap of the last column fits");
        // Grad input walks the taps backwards from the far corner of a 25 x 15 grid.
        let gi = shifted_pass(&p, ConvPass::GradInput, 0, 3).expect("stride 1");
        let grid = gi.grid.expect("C on the grid");
        assert_eq!((grid.h, grid.w, grid.out_h, grid.out_w), (25, 15, 21, 13));
        let t = gi.b.operand.shift.unwrap();
        assert_eq!((t.origin, t.row, t.col), (2 * 30 + 2, 30u32.wrapping_neg(), 1u32.wrapping_neg()));
        assert_eq!(t.origin.wrapping_add(2u32.wrapping_mul(t.row)).wrapping_add(2u32.wrapping_mul(t.col)), 0);
        // Grad weight: the forward grid along k (rounded to a texel), A dy on it row by row.
        let gw = shifted_pass(&p, ConvPass::GradWeight, 0, 3).expect("stride 1");
        let s = (3 * 23 * 17u32).next_multiple_of(4);
        assert_eq!((gw.pixels, gw.grid), (s, None));
        assert!(gw.b.operand.k_contiguous && gw.b.operand.shift.is_some_and(|t| t.chan == s && t.depth == 18));
        let a = gw.a.expect("dy on the grid").operand;
        assert!(a.k_contiguous && a.shift.is_none());
        assert_eq!((a.major, a.batch, a.texels), (s / 4, 3 * s / 4, 6 * s / 4));
    }
}
