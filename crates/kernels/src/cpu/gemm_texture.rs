//! The CPU-adapter GEMM over textures: each operand is copied linearly (a memcpy on lavapipe)
//! into an rgba32float texture [`TEXTURE_WIDTH`] texels wide, and `gemm_texture` reads it as a
//! read-only storage texture, which llvmpipe loads through its image path: 1.4x the uniform
//! gathers of [`super::gemm_uniform`] in the same inner loop, and no 64 KiB window. So one
//! dispatch covers all of K (C is stored once, with its epilogue) and a matmul needs no pack.
//! Same contract as [`crate::ops::matmul`]; a [`TexturePlan`] exists only where the strides let four
//! consecutive elements of the contiguous dimension form one texel, else the caller takes the
//! uniform-window path ([`super::gemm_uniform`]). [`TextureGemm`] is the dispatch itself, also
//! used by the convolutions ([`super::conv_texture`]): C placed by a [`OutputLayout`], and K split
//! across workgroups where C has too few tiles to keep the threads busy.

use bytemuck::{Pod, Zeroable};

use super::output_layout::{OutputLayout, PixelGrid};
use crate::launch::grid_1d;
use crate::ops::map::UnaryOp;
use crate::ops::matmul::MatmulParams;
use crate::{Access, Constants, KernelSpec, Launch, Shader};

/// Texels per texture row (the shader's `t & 4095`, `t >> 12`).
pub const TEXTURE_WIDTH: u32 = 4096;
/// The workgroup shapes the plan chooses from, (invocations, invocations across the columns),
/// each invocation an 8 x 16 block of C: tiles of 32 x 256, 64 x 128 and 128 x 64 (the large
/// products), down to 32 x 32 and 64 x 16 for the small C of a convolution's grad weight.
const SHAPES: [(u32, u32); 9] = [(64, 16), (64, 8), (64, 4), (32, 8), (32, 4), (16, 4), (16, 2), (8, 2), (8, 1)];
/// Workgroups a dispatch should offer to keep a CPU adapter's threads busy: the plan prefers
/// smaller tiles, then splits K, until a product has this many.
const PARALLEL: u32 = 16;
/// The fewest k quads (4 steps each) a K split is given: shallower splits would cost more in
/// partial sums than they save.
const MIN_SPLIT_QUADS: u32 = 32;

/// Parameters of `gemm_texture.wgsl`. An operand's element `e` (counted from its offset, where
/// its copy starts) is component `e % 4` of texel `e / 4` of its texture.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct GemmTextureParams {
    /// Rows of C.
    pub m: u32,
    /// Columns of C.
    pub n: u32,
    /// Inner dimension.
    pub k: u32,
    /// A's texels between rows (k-contiguous A) or between k steps (row-contiguous A).
    pub a_major: u32,
    /// A's texels between batches.
    pub a_batch: u32,
    /// B's texels between columns (k-contiguous B) or between k steps (column-contiguous B).
    pub b_major: u32,
    /// B's texels between batches.
    pub b_batch: u32,
    /// Element offset of the bias.
    pub bias_off: u32,
    /// Scalar argument of the epilogue activation.
    pub alpha: f32,
    /// Bias elements between batches.
    pub bias_batch: u32,
    /// Element offset of C ([`OutputLayout::base`]).
    pub c_off: u32,
    /// Elements between batches of C.
    pub c_batch: u32,
    /// C columns per contiguous run ([`OutputLayout::inner`]).
    pub c_inner: u32,
    /// Elements between runs of C ([`OutputLayout::outer`]).
    pub c_outer: u32,
    /// K splits (workgroup z is batch * splits + split).
    pub splits: u32,
    /// k quads per split.
    pub split_quads: u32,
    /// Elements between the partial C blocks of consecutive splits.
    pub c_split: u32,
    /// B's texels between column panels ([`TextureOperand::panel`]).
    pub b_panel: u32,
    /// Shifted B ([`TapShift`]): its real depth, texels per copy, and the element offset of
    /// tap (c, i, j) as `origin + c chan + i row + j col` (wrapping).
    pub b_depth: u32,
    /// See `b_depth`.
    pub b_copy: u32,
    /// See `b_depth`.
    pub b_origin: u32,
    /// See `b_depth`.
    pub b_chan: u32,
    /// See `b_depth`.
    pub b_row: u32,
    /// See `b_depth`.
    pub b_col: u32,
    /// Grid C ([`PixelGrid`]): the padded grid's width and height, the output's height and
    /// width.
    pub g_w: u32,
    /// See `g_w`.
    pub g_h: u32,
    /// See `g_w`.
    pub g_out_h: u32,
    /// See `g_w`.
    pub g_out_w: u32,
    /// Padding to a multiple of 16 bytes.
    pub _pad: [u32; 3],
}

/// Parameters of `gemm_split_sum.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct SplitSumParams {
    /// Elements of one partial C (all batches).
    pub len: u32,
    /// Partials to add up.
    pub splits: u32,
    /// Element offset of the final C.
    pub out_off: u32,
    /// Padding to a multiple of 16 bytes.
    pub _pad: u32,
}

/// `gemm_texture`: (A texture, B texture, bias, C).
pub static GEMM: KernelSpec = KernelSpec {
    shader: Shader::GemmTexture,
    entry: "gemm_texture",
    bindings: &[Access::Texture, Access::Texture, Access::Read, Access::ReadWrite],
};

/// [`GEMM`] storing C as aligned vec4 (see [`TextureGemm::new`]).
pub static GEMM_VEC4: KernelSpec = KernelSpec {
    shader: Shader::GemmTexture,
    entry: "gemm_texture_vec4",
    bindings: &[Access::Texture, Access::Texture, Access::Read, Access::ReadWrite],
};

/// `gemm_split_sum`: (partials, C).
pub static SPLIT_SUM: KernelSpec =
    KernelSpec { shader: Shader::GemmSplitSum, entry: "gemm_split_sum", bindings: &[Access::Read, Access::ReadWrite] };

/// How one operand lies in its texture: the elements to copy and how the shader steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextureOperand {
    /// Element offset of the operand in its buffer: the copy starts here (a multiple of 4).
    pub first: u32,
    /// Texels the copy covers (from `first`), up to the texel of the last element.
    pub texels: u32,
    /// Whether k is the contiguous dimension (else the rows, or B's columns, are).
    pub k_contiguous: bool,
    /// Texels between rows (k-contiguous) or between k steps.
    pub major: u32,
    /// Texels between batches.
    pub batch: u32,
    /// Column-contiguous B only: texels between panels of `1 << panel_shift` columns (each
    /// panel k-major, `major` texels per k step), or 0 for one plain row-major matrix.
    pub panel: u32,
    /// log2 of the columns per panel; [`NO_PANELS`] when `panel` is 0.
    pub panel_shift: u32,
    /// B only: a stride-1 convolution's shifted copies, addressed per tap (then `major` and
    /// the panels are unused).
    pub shift: Option<TapShift>,
}

/// How the GEMM finds B's column 0 at k in a convolution's shifted copies (`conv_shift.wgsl`,
/// [`super::conv_shift`]): k = (c, i, j) over `taps = kh kw` taps of `kw` columns is the
/// element `origin + c chan + i row + j col` of the padded source (wrapping u32: grad input
/// walks its flipped taps backwards), found in copy `e % 4` at texel `e / 4`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TapShift {
    /// The real K (the GEMM's is rounded up to a texel; k past it reads the last tap).
    pub depth: u32,
    /// Taps per channel.
    pub taps: u32,
    /// Taps per kernel row.
    pub kw: u32,
    /// Texels per copy.
    pub copy: u32,
    /// Element offset of tap (0, 0, 0).
    pub origin: u32,
    /// Elements between channels.
    pub chan: u32,
    /// Elements between kernel rows (wrapping).
    pub row: u32,
    /// Elements between kernel columns (wrapping).
    pub col: u32,
}

/// [`TextureOperand::panel_shift`] of an operand without panels (the shader's default).
pub const NO_PANELS: u32 = 31;
/// log2 of the columns of a packed B's panels: 128 columns, the 8 invocations of one SIMD batch
/// times 16 columns each, so what a batch reads at consecutive k is contiguous.
pub const PANEL_SHIFT: u32 = 7;

impl TextureOperand {
    /// The operand `rows x depth` at `off + b * bs + row * rs + k * ks`, or `None` when neither
    /// dimension is contiguous with texel-aligned strides. A k-contiguous layout needs
    /// `depth % 4 == 0` (a texel must not straddle two rows).
    fn new(rows: u32, depth: u32, batch: u32, off: u32, rs: u32, ks: u32, bs: u32) -> Option<TextureOperand> {
        let aligned = |s: u32, extent: u32| s.is_multiple_of(4) || extent == 1;
        if !off.is_multiple_of(4) || !aligned(bs, batch) {
            return None;
        }
        let k_contiguous = if ks == 1 && depth.is_multiple_of(4) && aligned(rs, rows) {
            true
        } else if rs == 1 && aligned(ks, depth) {
            false
        } else {
            return None;
        };
        let major = if k_contiguous { rs } else { ks } / 4;
        let last = (batch as u64 - 1) * bs as u64 + (rows as u64 - 1) * rs as u64 + (depth as u64 - 1) * ks as u64;
        let texels = u32::try_from(last / 4 + 1).ok()?;
        let batch = if batch > 1 { bs / 4 } else { 0 };
        Some(TextureOperand {
            first: off,
            texels,
            k_contiguous,
            major,
            batch,
            panel: 0,
            panel_shift: NO_PANELS,
            shift: None,
        })
    }

    /// An operand packed k-major from element 0 (`conv_pack.wgsl` with one tile): element
    /// (row, k) of batch b at `(b * depth + k) * rows`, `rows` a multiple of 4, `batches` copies.
    pub fn packed(rows: u32, depth: u32, batches: u32) -> TextureOperand {
        let major = rows / 4;
        TextureOperand {
            first: 0,
            texels: batches * depth * major,
            k_contiguous: false,
            major,
            batch: if batches > 1 { depth * major } else { 0 },
            panel: 0,
            panel_shift: NO_PANELS,
            shift: None,
        }
    }

    /// A B operand packed in panels of `1 << shift` columns (`conv_pack.wgsl` with tiles of
    /// that many rows): element (col, k) of batch b at
    /// `((b * panels + col >> shift) * depth + k) << shift | col & mask`.
    pub fn paneled(cols: u32, depth: u32, batches: u32, shift: u32) -> TextureOperand {
        let width = 1 << shift;
        let panels = cols.div_ceil(width);
        let major = width / 4;
        TextureOperand {
            first: 0,
            texels: batches * panels * depth * major,
            k_contiguous: false,
            major,
            batch: if batches > 1 { panels * depth * major } else { 0 },
            panel: if panels > 1 { depth * major } else { 0 },
            panel_shift: if panels > 1 { shift } else { NO_PANELS },
            shift: None,
        }
    }

    /// Texture rows the operand needs.
    pub fn height(&self) -> u32 {
        self.texels.div_ceil(TEXTURE_WIDTH)
    }
}

/// A matmul on the texture path: its two operands and its dispatch.
#[derive(Debug, Clone)]
pub struct TexturePlan {
    /// A, as copied into its texture.
    pub a: TextureOperand,
    /// B, as copied into its texture (its "rows" are C's columns).
    pub b: TextureOperand,
    /// The GEMM dispatch: bindings (A texture, B texture, bias, C).
    pub launch: Launch,
}

impl TexturePlan {
    /// The plan for `p`, or `None` when an operand's strides do not fit the texel layout or a
    /// texture would need more than `max_height` rows.
    pub fn new(p: &MatmulParams, max_height: u32) -> Option<TexturePlan> {
        let batch = p.batch.max(1);
        let a = TextureOperand::new(p.m, p.k, batch, p.a_off, p.a_rs, p.a_cs, p.a_bs)?;
        let b = TextureOperand::new(p.n, p.k, batch, p.b_off, p.b_cs, p.b_rs, p.b_bs)?;
        if (a.k_contiguous || b.k_contiguous) && !p.k.is_multiple_of(4) || a.height().max(b.height()) > max_height {
            return None;
        }
        let gemm = TextureGemm::new(p, &a, &b, &OutputLayout::matmul(p), false);
        Some(TexturePlan { a, b, launch: gemm.launch })
    }
}

/// One texture GEMM: its dispatch and, when it splits K, the partial sums' size and the
/// dispatch that adds them up.
#[derive(Debug, Clone)]
pub struct TextureGemm {
    /// `gemm_texture`: (A texture, B texture, bias, C or the partials' scratch).
    pub launch: Launch,
    /// K splits; above 1 the GEMM writes `splits` partials into a scratch buffer of
    /// [`TextureGemm::scratch_elements`] and [`TextureGemm::split_sum`] adds them into C.
    pub splits: u32,
    /// `gemm_split_sum` (partials, C), when `splits > 1`.
    pub split_sum: Option<Launch>,
}

impl TextureGemm {
    /// The dispatch of `p` (its shape, bias and activation) over operands laid out as `a`, `b`,
    /// storing C as `c`. With `may_split`, a product with too few tiles for the adapter's
    /// threads and a deep K is split along K; that needs a plain contiguous C, no bias and no
    /// activation (a convolution's grad weight), and is not done otherwise.
    pub fn new(
        p: &MatmulParams,
        a: &TextureOperand,
        b: &TextureOperand,
        c: &OutputLayout,
        may_split: bool,
    ) -> TextureGemm {
        let batch = p.batch.max(1);
        let (wg, cg) = shape(p.m, p.n, batch);
        let (tile_rows, tile_cols) = tile(wg, cg);
        let grid = [p.n.div_ceil(tile_cols), p.m.div_ceil(tile_rows), batch];
        let plain = c.inner == p.n && c.batch_stride == p.m * p.n && !c.bias_rows;
        let epilogue = p.has_bias != 0 || p.act != UnaryOp::Identity as u32;
        let quads = p.k / 4;
        let workgroups = grid[0] * grid[1] * batch;
        let splits = if may_split && plain && !epilogue && workgroups < PARALLEL {
            PARALLEL.div_ceil(workgroups).min(quads / MIN_SPLIT_QUADS).max(1)
        } else {
            1
        };
        let split_quads = quads.div_ceil(splits).max(1);
        // Recount: balanced quads may need fewer splits to cover K.
        let splits = quads.div_ceil(split_quads).max(1);
        let len = batch * p.m * p.n;
        let (c_off, c_split) = if splits > 1 { (0, len) } else { (c.base, 0) };
        let shift = b.shift.unwrap_or(TapShift { depth: 1, taps: 1, kw: 1, ..TapShift::default() });
        let pixels = c.grid.unwrap_or(PixelGrid { w: 1, h: 1, out_h: 1, out_w: 1 });
        let gp = GemmTextureParams {
            m: p.m,
            n: p.n,
            k: p.k,
            a_major: a.major,
            a_batch: a.batch,
            b_major: b.major,
            b_batch: b.batch,
            bias_off: p.bias_off,
            alpha: p.alpha,
            bias_batch: c.bias_batch_stride,
            c_off,
            c_batch: c.batch_stride,
            c_inner: c.inner.max(1),
            c_outer: c.outer,
            splits,
            split_quads,
            c_split,
            b_panel: b.panel,
            b_depth: shift.depth,
            b_copy: shift.copy,
            b_origin: shift.origin,
            b_chan: shift.chan,
            b_row: shift.row,
            b_col: shift.col,
            g_w: pixels.w,
            g_h: pixels.h,
            g_out_h: pixels.out_h,
            g_out_w: pixels.out_w,
            _pad: [0; 3],
        };
        let bias = if p.has_bias == 0 { 0 } else { 1 + c.bias_rows as u32 };
        let constants = Constants::new(&[
            ("WG", wg),
            ("CG", cg),
            ("FIRST", (splits > 1 || !c.accumulate) as u32),
            ("A_KC", a.k_contiguous as u32),
            ("B_KC", b.k_contiguous as u32),
            ("B_PANEL", b.panel_shift),
            ("B_SHIFTED", b.shift.is_some() as u32),
            ("TAPS", shift.taps),
            ("KW", shift.kw),
            ("C_GRID", c.grid.is_some() as u32),
            ("BIAS", bias),
            ("ACT", p.act),
        ]);
        // Four columns at a time where every run of four is contiguous and aligned in C (never
        // on a grid, whose rows skip the padding).
        let aligned = c.grid.is_none()
            && [p.n, gp.c_inner, gp.c_outer, gp.c_off, gp.c_batch, gp.c_split].iter().all(|v| v.is_multiple_of(4));
        let spec = if aligned { &GEMM_VEC4 } else { &GEMM };
        let launch = Launch::new(spec, &gp, [grid[0], grid[1], batch * splits]).with_constants(constants);
        let split_sum = (splits > 1).then(|| {
            let sp = SplitSumParams { len, splits, out_off: c.base, _pad: 0 };
            Launch::new(&SPLIT_SUM, &sp, grid_1d(len as usize, 64))
                .with_constants(Constants::new(&[("ACCUMULATE", c.accumulate as u32)]))
        });
        TextureGemm { launch, splits, split_sum }
    }

    /// Elements of the scratch buffer the partials go to (0 without a split).
    pub fn scratch_elements(&self, p: &MatmulParams) -> u64 {
        if self.splits > 1 { self.splits as u64 * p.batch.max(1) as u64 * p.m as u64 * p.n as u64 } else { 0 }
    }
}

/// A workgroup's C tile (rows, columns) for `wg` invocations, `cg` of them across the columns.
fn tile(wg: u32, cg: u32) -> (u32, u32) {
    (8 * (wg / cg), 16 * cg)
}

/// The workgroup shape of [`SHAPES`] that covers C fastest: least padded work per busy
/// thread (up to [`PARALLEL`] workgroups), ties going to the larger workgroup, then the wider
/// tile (whose B loads most lanes share).
fn shape(m: u32, n: u32, batch: u32) -> (u32, u32) {
    let cost = |&(wg, cg): &(u32, u32)| {
        let (r, c) = tile(wg, cg);
        let (tm, tn) = (m.div_ceil(r) as u64, n.div_ceil(c) as u64);
        let groups = tm * tn * batch as u64;
        // Padded area x (PARALLEL / busy workgroups), exact in integers.
        tm * r as u64 * tn * c as u64 * PARALLEL as u64 / groups.min(PARALLEL as u64)
    };
    *SHAPES.iter().min_by_key(|s| cost(s)).expect("SHAPES is not empty")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(m: u32, n: u32, k: u32) -> MatmulParams {
        MatmulParams { m, n, k, batch: 1, a_rs: k, a_cs: 1, b_rs: n, b_cs: 1, ..Zeroable::zeroed() }
    }

    #[test]
    fn row_major_and_transposed_operands_take_the_texture_path() {
        let p = params(128, 256, 784);
        let plan = TexturePlan::new(&p, 16384).expect("X . W fits");
        assert!(plan.a.k_contiguous && !plan.b.k_contiguous);
        assert_eq!((plan.a.major, plan.b.major), (784 / 4, 256 / 4));
        assert_eq!(plan.a.texels, 128 * 784 / 4);
        // X^T . dY: A is X (128 x 784) read by columns.
        let p = MatmulParams { m: 784, n: 256, k: 128, a_rs: 1, a_cs: 784, ..params(784, 256, 128) };
        let plan = TexturePlan::new(&p, 16384).expect("X^T . dY fits");
        assert!(!plan.a.k_contiguous && plan.a.major == 784 / 4);
        // dY . W^T: B is W (784 x 256) read by rows.
        let p = MatmulParams { b_rs: 1, b_cs: 256, ..params(128, 784, 256) };
        assert!(TexturePlan::new(&p, 16384).expect("dY . W^T fits").b.k_contiguous);
    }

    #[test]
    fn misaligned_strides_and_oversized_operands_fall_back() {
        // 10 columns: B's rows are not texel-aligned.
        assert!(TexturePlan::new(&params(128, 10, 256), 16384).is_none());
        // An offset that is not a multiple of 4.
        assert!(TexturePlan::new(&MatmulParams { a_off: 2, ..params(8, 8, 8) }, 16384).is_none());
        // k-contiguous A with K % 4 != 0 would straddle rows.
        assert!(TexturePlan::new(&params(8, 8, 6), 16384).is_none());
        // Too tall for the adapter's textures.
        assert!(TexturePlan::new(&params(2048, 2048, 2048), 200).is_none());
        assert!(TexturePlan::new(&params(2048, 2048, 2048), 256).is_some());
    }

    #[test]
    fn tiles_cover_c_with_the_least_padding() {
        for (m, n) in [(1u32, 1u32), (7, 33), (128, 784), (784, 256), (2048, 2048), (33, 1000)] {
            let p = MatmulParams { a_rs: 1, a_cs: m.next_multiple_of(4), ..params(m, n.next_multiple_of(4), 1) };
            let plan = TexturePlan::new(&p, 16384).expect("fits");
            let constant = |name| plan.launch.constants.pairs().iter().find(|c| c.0 == name).expect("set").1;
            let (r, c) = tile(constant("WG"), constant("CG"));
            let g = plan.launch.workgroups;
            assert!(g[0] * c >= p.n && g[1] * r >= p.m && (g[0] - 1) * c < p.n && (g[1] - 1) * r < p.m, "{g:?}");
        }
        assert_eq!(shape(1024, 1024, 1), (64, 16), "no padding and enough workgroups: the widest tile");
        let (wg, cg) = shape(128, 784, 1);
        assert_eq!((784 % (16 * cg), 128 % (8 * wg / cg)), (0, 0), "784 = 49 x 16 columns: a shape that pads nothing");
        assert_eq!(shape(32, 27, 1), (8, 2), "a conv grad weight's small C: 32 x 32 tiles");
        assert_eq!(shape(256, 256, 1), (32, 8), "16 workgroups of 32 x 128 rather than 2 of 128 x 256");
    }

    #[test]
    fn c_is_stored_as_vec4_only_where_every_run_of_four_is_aligned() {
        let p = params(64, 10_816, 288);
        let (a, b) = (TextureOperand::packed(64, 288, 1), TextureOperand::packed(10_816, 288, 1));
        let nchw = |inner, base| OutputLayout {
            base,
            batch_stride: 0,
            inner,
            outer: 64 * inner,
            bias_rows: true,
            bias_batch_stride: 0,
            accumulate: false,
            grid: None,
        };
        let entry = |c: &OutputLayout| TextureGemm::new(&p, &a, &b, c, false).launch.kernel.entry;
        assert_eq!(entry(&OutputLayout::matmul(&p)), "gemm_texture_vec4");
        // 13 x 13 images: a run of four columns can straddle two images.
        assert_eq!(entry(&nchw(169, 0)), "gemm_texture");
        assert_eq!(entry(&nchw(16, 0)), "gemm_texture_vec4");
        assert_eq!(entry(&nchw(16, 2)), "gemm_texture", "a misaligned image chunk");
    }

    #[test]
    fn only_a_plain_deep_product_with_few_tiles_splits_k() {
        let p = MatmulParams { act: UnaryOp::Identity as u32, ..params(32, 27, 57_600) };
        let (a, b) = (TextureOperand::packed(32, 57_600, 1), TextureOperand::packed(28, 57_600, 1));
        let c = OutputLayout::matmul(&p);
        let g = TextureGemm::new(&p, &a, &b, &c, true);
        assert_eq!(g.splits, PARALLEL, "one 32 x 32 tile: split until {PARALLEL} workgroups");
        assert_eq!(g.launch.workgroups, [1, 1, PARALLEL], "8 invocations of 8 x 16: one 32 x 32 tile");
        assert!(g.split_sum.is_some() && g.scratch_elements(&p) == PARALLEL as u64 * 32 * 27);
        assert_eq!(TextureGemm::new(&p, &a, &b, &c, false).splits, 1, "not allowed");
        let bias = MatmulParams { has_bias: 1, ..p };
        assert_eq!(TextureGemm::new(&bias, &a, &b, &c, true).splits, 1, "an epilogue cannot run on partials");
        let shallow = MatmulParams { k: 64, ..p };
        assert_eq!(TextureGemm::new(&shallow, &a, &b, &c, true).splits, 1, "too shallow to pay for partials");
        let nchw = OutputLayout { inner: 9, outer: 100, ..c };
        assert_eq!(TextureGemm::new(&p, &a, &b, &nchw, true).splits, 1, "partials are plain matrices");
    }
}
