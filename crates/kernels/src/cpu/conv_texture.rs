//! Convolution on CPU adapters over the texture GEMM ([`super::gemm_texture`]), the default
//! there: each pass of [`super::conv_im2col`] packs A and B with `conv_pack.wgsl` into plain
//! k-major matrices (one tile spanning all rows, so the window layout degenerates to
//! `(k, row)` at `k * rows + row`; a B wider than 512 columns in k-major panels of 128 columns
//! instead, see [`TextureOperand::paneled`]), the caller copies each into a texture, and one
//! `gemm_texture` dispatch covers all of K and stores C in NCHW with the bias and activation.
//! Stride-1 passes whose padded grid is mostly output write no im2col at all: B (and grad
//! weight's A) come from the shifted copies of [`super::conv_shift`] instead.
//!
//! Against [`super::conv_uniform`]: no 64 KiB windows, so no tiles of C re-reading their
//! operands from separate windows and no K chunks storing C several times; the 215 small GEMM
//! dispatches of a CNN training step become one per pass and image chunk. A grad weight, whose
//! C is small and whose K (every pixel of every image) is deep, splits K across workgroups.

use super::conv_im2col::{PassGemm, chunk_images, pass_gemm};
use super::conv_shift::{Copies, shifted_pass};
use super::gemm_texture::{PANEL_SHIFT, TextureGemm, TextureOperand};
use super::gemm_uniform::Panel;
use super::output_layout::OutputLayout;
use crate::Launch;
use crate::launch::MAX_GROUPS_PER_DIM;
use crate::ops::conv::ConvParams;
use crate::ops::conv::ConvPass;
use crate::ops::matmul::MatmulParams;

/// One conv pass over images `first .. first + count` on the texture GEMM: run `packs[i]`
/// (bindings: the source's buffer copied linearly into a texture from element 0, a buffer of
/// `packed[i]` elements), copy each packed buffer into a texture as `operands[i]`, then
/// `texture.launch`, and `texture.split_sum` when K is split.
#[derive(Debug, Clone)]
pub struct ConvTexture {
    /// The GEMM's shape and epilogue, per group, K rounded up to a whole texel (the packs
    /// write zeros past the real K).
    pub gemm: MatmulParams,
    /// Where C goes.
    pub layout: OutputLayout,
    /// Packs of A and B.
    pub packs: [Launch; 2],
    /// Elements of the buffers the packs write.
    pub packed: [u64; 2],
    /// A and B as laid out by the packs.
    pub operands: [TextureOperand; 2],
    /// The GEMM dispatch (and its K split's sum).
    pub texture: TextureGemm,
}

/// A packed operand of `rows` rows (C's rows for A, its columns for B) over `depth` k steps
/// and `batches` groups: one tile of `rows` rounded to a texel, and the k steps cut into as
/// few equal windows as keep the pack's grid under the dispatch limit. Windows follow one
/// another with no gap, so the panel is one k-major matrix.
fn linear_panel(rows: u32, depth: u32, batches: u32) -> Panel {
    let r = rows.next_multiple_of(4).max(4);
    // The pack runs one invocation per vec4, 64 per workgroup, one window per grid row.
    let per_window = MAX_GROUPS_PER_DIM as u64 * 64;
    let kws = (depth as u64 * (r / 4) as u64).div_ceil(per_window).max(1) as u32;
    let kc = depth.div_ceil(kws);
    Panel { rows, r, tiles: 1, kc, kws, wstride: r as u64 * kc as u64, batches }
}

/// Elements a pack into `panel` writes: its windows back to back, the last one not padded.
fn packed_elements(panel: &Panel) -> u64 {
    panel.batches as u64 * panel.tiles as u64 * panel.kws as u64 * panel.wstride
}

/// B's panel when it is wide enough for panels to pay (see [`TextureOperand::paneled`]): tiles
/// of 128 rows (C's columns), each one window spanning all of `depth`. Narrower B (a grad
/// weight's taps) stays one plain matrix, which a panel's zero padding would grow by up to a
/// third.
fn b_panel(cols: u32, depth: u32, batches: u32) -> Option<Panel> {
    let width = 1 << PANEL_SHIFT;
    (cols > 4 * width).then(|| Panel {
        rows: cols,
        r: width,
        tiles: cols.div_ceil(width),
        kc: depth,
        kws: 1,
        wstride: width as u64 * depth as u64,
        batches,
    })
}

/// `pass` of `p` over images `first .. first + count` (see [`ConvTexture`]). A stride-1 pass
/// whose grid is mostly output reads B from shifted copies instead of a pack
/// ([`super::conv_shift`]): its "pack" is then the copies' dispatch.
pub fn conv_texture(p: &ConvParams, pass: ConvPass, first: u32, count: u32) -> ConvTexture {
    let PassGemm { mut gemm, packs: [a, b], mut layout } = pass_gemm(p, pass, first, count);
    let depth = gemm.k;
    // Whole quads only: the packs zero k past `depth`, and the shader then needs no K tail.
    gemm.k = depth.next_multiple_of(4);
    let batches = gemm.batch.max(1);
    let (shifted_a, shifted_b) = match shifted_pass(p, pass, first, count) {
        Some(shifted) => {
            if pass == ConvPass::GradWeight {
                gemm.k = shifted.pixels;
            } else {
                gemm.n = shifted.pixels;
            }
            layout.grid = shifted.grid;
            (shifted.a, Some(shifted.b))
        }
        None => (None, None),
    };
    let a = shifted_a.unwrap_or_else(|| {
        let panel = linear_panel(gemm.m, gemm.k, batches);
        let operand = TextureOperand::packed(panel.r, panel.kc * panel.kws, batches);
        Copies { launch: a.launch(&panel, depth), elements: packed_elements(&panel), operand }
    });
    let b = shifted_b.unwrap_or_else(|| {
        let (panel, operand) = match b_panel(gemm.n, gemm.k, batches) {
            Some(panel) => (panel, TextureOperand::paneled(gemm.n, gemm.k, batches, PANEL_SHIFT)),
            None => {
                let panel = linear_panel(gemm.n, gemm.k, batches);
                (panel, TextureOperand::packed(panel.r, panel.kc * panel.kws, batches))
            }
        };
        Copies { launch: b.launch(&panel, depth), elements: packed_elements(&panel), operand }
    });
    let operands = [a.operand, b.operand];
    let texture = TextureGemm::new(&gemm, &operands[0], &operands[1], &layout, pass == ConvPass::GradWeight);
    ConvTexture { gemm, layout, packs: [a.launch, b.launch], packed: [a.elements, b.elements], operands, texture }
}

/// Images per call of `pass` so that no packed operand or split scratch exceeds `max_bytes`
/// and no operand texture exceeds `max_height` rows (at least one image; `None` when a single
/// image already exceeds either).
pub fn images_per_call(p: &ConvParams, pass: ConvPass, max_bytes: u64, max_height: u32) -> Option<u32> {
    chunk_images(p.batch, max_bytes, |count| {
        let c = conv_texture(p, pass, 0, count);
        let tall = c.operands.iter().any(|o| o.height() > max_height);
        let bytes = c.packed[0].max(c.packed[1]).max(c.texture.scratch_elements(&c.gemm)) * 4;
        if tall { u64::MAX } else { bytes }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::gemm_texture::NO_PANELS;
    use crate::ops::conv::ConvGeometry;

    fn params(x: [usize; 4], w: [usize; 4], g: &ConvGeometry) -> ConvParams {
        ConvParams::with_output_extent(x, w, g)
    }

    #[test]
    fn packed_operands_are_k_major_matrices_and_wide_b_is_paneled() {
        // The peers' first CNN layer: K = 27 taps, 64 images of 30 x 30 pixels (too shallow
        // for shifted copies, see `conv_shift`).
        let p = params([64, 3, 32, 32], [32, 3, 3, 3], &ConvGeometry::default());
        let c = conv_texture(&p, ConvPass::Forward, 0, 64);
        assert_eq!((c.gemm.m, c.gemm.n, c.gemm.k), (32, 64 * 900, 28), "K rounded up to a texel");
        let [a, b] = c.operands;
        assert_eq!((a.major, a.panel_shift), (32 / 4, NO_PANELS), "A is one k-major matrix");
        // B: 450 panels of 128 pixels, each 28 k steps of 32 texels.
        assert_eq!((b.major, b.panel, b.panel_shift, b.shift), (32, 28 * 32, PANEL_SHIFT, None));
        assert!(!a.k_contiguous && !b.k_contiguous && a.batch == 0);
        assert_eq!(b.texels as u64 * 4, c.packed[1], "the texture holds the whole packed buffer");
        assert_eq!(c.packed[1], 450 * 28 * 128);
        assert!(c.packs.iter().all(|l| l.workgroups.iter().all(|&g| g <= MAX_GROUPS_PER_DIM)));
        assert_eq!(c.texture.splits, 1);
        // A packed grad weight's B (27 taps, dilated by 4: too little output on the grid for
        // shifted copies) is too narrow for panels to pay.
        let p = params([64, 3, 32, 32], [32, 3, 3, 3], &ConvGeometry { dilation: [4, 4], ..Default::default() });
        let c = conv_texture(&p, ConvPass::GradWeight, 0, 64);
        assert_eq!((c.operands[1].major, c.operands[1].panel_shift), (28 / 4, NO_PANELS));
    }

    #[test]
    fn a_deep_pack_is_cut_into_windows_under_the_grid_limit() {
        let panel = linear_panel(32_768, 576, 2);
        assert!(panel.kws > 1 && panel.kc * panel.kws >= 576);
        assert!((panel.kc * panel.r / 4).div_ceil(64) <= MAX_GROUPS_PER_DIM);
        assert_eq!(panel.wstride, 32_768 * panel.kc as u64, "windows are contiguous");
    }

    #[test]
    fn grad_weight_splits_k_and_groups_keep_their_own_texels() {
        let p = params([64, 3, 32, 32], [32, 3, 3, 3], &ConvGeometry::default());
        let c = conv_texture(&p, ConvPass::GradWeight, 0, 64);
        assert_eq!((c.gemm.m, c.gemm.n, c.gemm.k), (32, 27, 64 * 32 * 32), "k: the shifted copies' grid");
        assert!(c.texture.splits > 1 && c.texture.split_sum.is_some(), "{:?}", c.texture.splits);
        assert_eq!(c.texture.scratch_elements(&c.gemm), c.texture.splits as u64 * 32 * 27);
        let g = ConvGeometry { groups: 2, ..Default::default() };
        let p = params([4, 6, 8, 8], [4, 3, 3, 3], &g);
        let c = conv_texture(&p, ConvPass::Forward, 0, 4);
        let [a, b] = c.operands;
        assert_eq!((a.batch, b.batch), (28 * 4 / 4, 28 * 144 / 4), "one k-major matrix per group");
        assert_eq!(a.texels, 2 * a.batch);
    }

    #[test]
    fn image_chunks_keep_packs_under_the_limits() {
        let g = ConvGeometry { padding: [1, 1], ..Default::default() };
        let p = params([128, 64, 32, 32], [64, 64, 3, 3], &g);
        for pass in [ConvPass::Forward, ConvPass::GradInput, ConvPass::GradWeight] {
            let limit = 64 << 20;
            let count = images_per_call(&p, pass, limit, 16384).unwrap();
            assert!((1..128).contains(&count), "{pass:?}: {count}");
            let c = conv_texture(&p, pass, 0, count);
            assert!(c.packed[0].max(c.packed[1]) * 4 <= limit);
            let c2 = conv_texture(&p, pass, 0, (count * 2).min(p.batch));
            assert!(c2.packed[0].max(c2.packed[1]) * 4 > limit / 2, "not needlessly small");
        }
        assert_eq!(images_per_call(&p, ConvPass::Forward, 1 << 10, 16384), None);
        // One image's shifted copies are 4 x 64 x 34 x 34 floats and a little slack: 19 rows.
        assert_eq!(images_per_call(&p, ConvPass::Forward, 64 << 20, 32), Some(1), "short textures");
        assert_eq!(images_per_call(&p, ConvPass::Forward, 64 << 20, 16), None);
    }
}
