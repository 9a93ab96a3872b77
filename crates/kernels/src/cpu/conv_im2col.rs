//! Convolution passes as GEMMs on CPU adapters, whatever the GEMM reads its operands from
//! (uniform windows, [`super::conv_uniform`], or textures, [`super::conv_texture`]): each pass's
//! shape, the explicit im2col packs of its operands (`conv_pack.wgsl`) and where its C goes.
//!
//! Why not the implicit GEMM of `conv2d.wgsl` here: on llvmpipe every storage or workgroup
//! load with per-lane addresses is a scalar loop, so a kernel whose inner loop gathers the
//! input runs at ~0.4 GFLOP/s. The packs touch each im2col element once (O(K x pixels)); the
//! O(M N K) loop then reads only packed operands. Real GPUs keep the implicit GEMM.
//!
//! The three passes, per group `g` (the GEMM batch) and a chunk of images (so a packed
//! operand stays under the adapter's storage-binding limit):
//! - forward: `y[oc, (img, pix)] = w[oc, tap] . im2col(x)[tap, (img, pix)]`;
//! - grad input: `dx[c, (img, pix)] = w[(oc, tap), c]^T . im2col_t(dy)[(oc, tap), (img, pix)]`;
//! - grad weight: `dw[oc, tap] = dy[oc, (img, pix)] . im2col(x)[(img, pix), tap]`, image
//!   chunks accumulating into dw.

use bytemuck::{Pod, Zeroable};

use super::gemm_uniform::Panel;
use super::output_layout::OutputLayout;
use crate::ops::conv::{ConvParams, ConvPass};
use crate::ops::map::UnaryOp;
use crate::ops::matmul::MatmulParams;
use crate::{Access, Constants, KernelSpec, Launch, Shader};

/// Parameters of `conv_pack.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct ConvPackParams {
    /// Rows of the packed operand (rows past it are zeros).
    pub rows: u32,
    /// k extent of the packed operand (k past it is zeros).
    pub depth: u32,
    /// Rows per tile, divided by 4.
    pub r4: u32,
    /// k steps per window.
    pub kc: u32,
    /// Windows along k.
    pub kws: u32,
    /// vec4s between window starts.
    pub wstride4: u32,
    /// Row tiles.
    pub tiles: u32,
    /// Element offset of the source (this image chunk's first element).
    pub off: u32,
    /// Element stride between batches, i.e. conv groups.
    pub bs: u32,
    /// Strided mode: element stride between rows.
    pub rs: u32,
    /// Strided mode: element stride between k steps within a run of `k_in`.
    pub ks: u32,
    /// Strided mode: k steps per contiguous run.
    pub k_in: u32,
    /// Strided mode: element stride between runs of `k_in` k steps.
    pub ks_out: u32,
    /// im2col modes: channels of the source image tensor.
    pub src_c: u32,
    /// im2col modes: source image height.
    pub src_h: u32,
    /// im2col modes: source image width.
    pub src_w: u32,
    /// im2col modes: height of the pixel grid the rows (or k) run over.
    pub pix_h: u32,
    /// im2col modes: width of that pixel grid.
    pub pix_w: u32,
    /// Kernel height.
    pub k_h: u32,
    /// Kernel width.
    pub k_w: u32,
    /// Vertical stride.
    pub stride_h: u32,
    /// Horizontal stride.
    pub stride_w: u32,
    /// Vertical zero padding.
    pub pad_h: u32,
    /// Horizontal zero padding.
    pub pad_w: u32,
    /// Vertical dilation.
    pub dil_h: u32,
    /// Horizontal dilation.
    pub dil_w: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: [u32; 2],
}

/// Packs one conv GEMM operand into uniform windows: (source, packed panel). The `MODE` constant
/// picks strided or one of the im2col layouts.
pub static PACK: KernelSpec =
    KernelSpec { shader: Shader::ConvPack, entry: "conv_pack", bindings: &[Access::Texture, Access::ReadWrite] };

/// Pack modes (the `MODE` pipeline constant of `conv_pack.wgsl`).
const STRIDED: u32 = 0;
const IM2COL: u32 = 1;
const IM2COL_TAP_ROWS: u32 = 2;
const IM2COL_GRAD_INPUT: u32 = 3;

/// One operand's pack: its parameters and mode.
#[derive(Debug, Clone, Copy)]
pub struct Pack {
    params: ConvPackParams,
    mode: u32,
}

/// One conv pass as a GEMM, before any operand layout is chosen.
#[derive(Debug, Clone, Copy)]
pub struct PassGemm {
    /// The GEMM's shape and epilogue, per group (`batch` = groups).
    pub gemm: MatmulParams,
    /// How A and B are gathered from their sources ([`ConvPass`] says which tensors).
    pub packs: [Pack; 2],
    /// Where C goes: NCHW rows of y or dx, or dw (accumulated after the first image chunk).
    pub layout: OutputLayout,
}

impl Pack {
    /// A plain operand: element (row, k) of batch b at
    /// `off + b bs + row rs + (k / k_in) ks_out + (k % k_in) ks`.
    fn strided(off: u32, bs: u32, rs: u32, ks: [u32; 3]) -> Self {
        let [ks, k_in, ks_out] = ks;
        Pack { params: ConvPackParams { off, bs, rs, ks, k_in, ks_out, ..Zeroable::zeroed() }, mode: STRIDED }
    }

    /// An im2col operand over an image tensor `[_, src_c, src_h, src_w]` at `off` (group
    /// stride `bs`) for a pixel grid `pix_h x pix_w`.
    fn image(mode: u32, off: u32, bs: u32, src: [u32; 3], pix: [u32; 2], p: &ConvParams) -> Self {
        let params = ConvPackParams {
            off,
            bs,
            src_c: src[0],
            src_h: src[1],
            src_w: src[2],
            pix_h: pix[0],
            pix_w: pix[1],
            k_h: p.k_h,
            k_w: p.k_w,
            stride_h: p.stride_h,
            stride_w: p.stride_w,
            pad_h: p.pad_h,
            pad_w: p.pad_w,
            dil_h: p.dil_h,
            dil_w: p.dil_w,
            ..Zeroable::zeroed()
        };
        Pack { params, mode }
    }

    /// The pack of this operand into `panel`, `depth` k-steps deep.
    pub fn launch(self, panel: &Panel, depth: u32) -> Launch {
        let mut q = self.params;
        q.rows = panel.rows;
        q.depth = depth;
        q.r4 = panel.r / 4;
        q.kc = panel.kc;
        q.kws = panel.kws;
        q.wstride4 = (panel.wstride / 4) as u32;
        q.tiles = panel.tiles;
        let grid = [(panel.kc * panel.r / 4).div_ceil(64), panel.tiles * panel.kws, panel.batches];
        // The divisors are pipeline constants too (see the shader); 0 would not divide.
        let d = |v: u32| v.max(1);
        let constants = Constants::new(&[
            ("MODE", self.mode),
            ("R4", d(q.r4)),
            ("KWS", d(q.kws)),
            ("K_IN", d(q.k_in)),
            ("K_H", d(q.k_h)),
            ("K_W", d(q.k_w)),
            ("PIX_H", d(q.pix_h)),
            ("PIX_W", d(q.pix_w)),
            ("STRIDE_H", d(q.stride_h)),
            ("STRIDE_W", d(q.stride_w)),
        ]);
        Launch::new(&PACK, &q, grid).with_constants(constants)
    }
}

/// `pass` over images `first .. first + count` of `p` as a GEMM (bias and activation from `p`
/// apply to the forward pass and to grad input, which is also conv_transpose2d's forward).
pub fn pass_gemm(p: &ConvParams, pass: ConvPass, first: u32, count: u32) -> PassGemm {
    let g = p.groups;
    let (icg, ocg) = (p.in_c / g, p.out_c / g);
    let taps = p.k_h * p.k_w;
    let (hw, ohw) = (p.in_h * p.in_w, p.out_h * p.out_w);
    let (x_image, y_image) = (p.in_c * hw, p.out_c * ohw);
    let (m, n, k) = match pass {
        ConvPass::Forward => (ocg, count * ohw, icg * taps),
        ConvPass::GradInput => (icg, count * hw, ocg * taps),
        ConvPass::GradWeight => (ocg, icg * taps, count * ohw),
    };
    let bias = pass != ConvPass::GradWeight && p.has_bias != 0;
    let gemm = MatmulParams {
        m,
        n,
        k,
        batch: g,
        // Non-zero batch strides give each group its own packed windows.
        a_bs: 1,
        b_bs: 1,
        has_bias: bias as u32,
        act: if pass == ConvPass::GradWeight { UnaryOp::Identity as u32 } else { p.act },
        alpha: p.alpha,
        ..Zeroable::zeroed()
    };
    let (a, b, layout) = match pass {
        ConvPass::Forward => (
            Pack::strided(0, ocg * icg * taps, icg * taps, [1, icg * taps, 0]),
            Pack::image(IM2COL, first * x_image, icg * hw, [p.in_c, p.in_h, p.in_w], [p.out_h, p.out_w], p),
            OutputLayout {
                base: first * y_image,
                batch_stride: ocg * ohw,
                inner: ohw,
                outer: y_image,
                bias_rows: true,
                bias_batch_stride: ocg,
                accumulate: false,
                grid: None,
            },
        ),
        ConvPass::GradInput => (
            Pack::strided(0, ocg * icg * taps, taps, [1, taps, icg * taps]),
            Pack::image(
                IM2COL_GRAD_INPUT,
                first * y_image,
                ocg * ohw,
                [p.out_c, p.out_h, p.out_w],
                [p.in_h, p.in_w],
                p,
            ),
            OutputLayout {
                base: first * x_image,
                batch_stride: icg * hw,
                inner: hw,
                outer: x_image,
                bias_rows: true,
                bias_batch_stride: icg,
                accumulate: false,
                grid: None,
            },
        ),
        ConvPass::GradWeight => (
            Pack::strided(first * y_image, ocg * ohw, ohw, [1, ohw, y_image]),
            Pack::image(IM2COL_TAP_ROWS, first * x_image, icg * hw, [p.in_c, p.in_h, p.in_w], [p.out_h, p.out_w], p),
            OutputLayout {
                base: 0,
                batch_stride: ocg * icg * taps,
                inner: icg * taps,
                outer: 0,
                bias_rows: false,
                bias_batch_stride: 0,
                accumulate: first > 0,
                grid: None,
            },
        ),
    };
    PassGemm { gemm, packs: [a, b], layout }
}

/// The most images (of `batch`) one call can take when a call of `count` images needs
/// `bytes(count)` bytes of its largest buffer, at most `max_bytes`; `None` when a single image
/// already needs more.
pub fn chunk_images(batch: u32, max_bytes: u64, bytes: impl Fn(u32) -> u64) -> Option<u32> {
    let one = bytes(1);
    if one > max_bytes {
        return None;
    }
    // Packed size grows about linearly in images: estimate, then step down to a fit.
    let mut count = ((max_bytes / one) as u32).clamp(1, batch.max(1));
    while count > 1 && bytes(count) > max_bytes {
        count = count * 7 / 8;
    }
    Some(count)
}
