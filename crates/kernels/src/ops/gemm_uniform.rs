//! The CPU-adapter GEMM: `pack` lays A and B out in 64 KiB windows, `gemm_uniform` reads them
//! through uniform-buffer bindings (llvmpipe gathers those as vectors; storage loads with
//! per-lane addresses are scalar loops there). Same contract as [`super::matmul`]: operands
//! are read through row, column and batch strides, C is contiguous `[batch, m, n]`, the bias +
//! activation epilogue is fused.
//!
//! A [`GemmPlan`] splits C into tiles of at most 128 x 128 and K into windows of `kc` steps;
//! one dispatch covers one C tile and up to [`PAIRS`] windows of K, so a matmul is
//! `batch x tiles_m x tiles_n x ceil(k_windows / PAIRS)` GEMM dispatches after two packs.
//! Launchers never see buffers: a [`GemmStep`] names the windows (as element offsets into the
//! packed panels) that its uniform bindings must start at.

use bytemuck::{Pod, Zeroable};

use super::map::UnaryOp;
use super::matmul::MatmulParams;
use crate::{Access, Constants, KernelSpec, Launch, Shader};

/// f32 elements of one uniform window (64 KiB, the `maxUniformBufferRange` of most adapters).
pub const WINDOW_FLOATS: u64 = 16_384;
/// Window pairs (A, B) bound per GEMM dispatch.
pub const PAIRS: usize = 7;
/// Uniform bindings one GEMM dispatch needs, its parameters included.
pub const UNIFORM_BINDINGS: u32 = 2 * PAIRS as u32 + 1;
/// Rows of C one invocation accumulates (a constant of the shader).
pub const INV_ROWS: u32 = 8;
/// Columns of C one invocation accumulates (a constant of the shader).
pub const INV_COLS: u32 = 16;
/// Invocations per workgroup of `gemm_uniform`.
pub const WG: u32 = 8;
/// Deepest window: k steps per window when K is large. With 64 KiB windows this makes C tiles
/// of 128 x 128, small enough to leave room for deep windows (896 k-steps per dispatch), so C
/// is rarely read back and rewritten (storage accesses, not FMAs, dominate on llvmpipe); 64 and
/// 256 measured no better (ARCHITECTURE.md).
pub const MAX_KC: u32 = 128;
/// Largest C tile side. A shallow K (a 3x3 conv over 3 channels has K = 27) lets the windows
/// hold wider tiles, so one dispatch covers more of C: the per-dispatch cost (~0.15 ms on
/// lavapipe) otherwise dominates small-K products.
pub const MAX_SIDE: u32 = 1024;

/// Parameters of `gemm_uniform.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct GemmUniformParams {
    /// Rows of C.
    pub m: u32,
    /// Columns of C.
    pub n: u32,
    /// First row of this dispatch's C tile.
    pub row0: u32,
    /// First column of this dispatch's C tile.
    pub col0: u32,
    /// Rows of an A window, divided by 4 (vec4s per k step).
    pub ra4: u32,
    /// Columns of a B window, divided by 4 (vec4s per k step).
    pub rb4: u32,
    /// Invocations across the tile's columns (`rb / INV_COLS`).
    pub cols_inv: u32,
    /// k steps in each full window.
    pub kc: u32,
    /// Window pairs this dispatch uses (1 ..= [`PAIRS`]).
    pub pairs: u32,
    /// k steps in the last used window (the K remainder).
    pub k_last: u32,
    /// Element offset of this batch's C (see [`CLayout`]).
    pub c_off: u32,
    /// Element offset of this batch's bias.
    pub bias_off: u32,
    /// Scalar argument of the epilogue activation.
    pub alpha: f32,
    /// C columns per contiguous run ([`CLayout::inner`]).
    pub c_inner: u32,
    /// Elements between runs of C ([`CLayout::outer`]).
    pub c_outer: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: u32,
}

/// Parameters of `gemm_pack.wgsl`: the operand as `rows x depth` at
/// `off + batch * bs + row * rs + k * ks`, and its window geometry.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct GemmPackParams {
    /// Rows of the operand (rows past it are packed as zeros).
    pub rows: u32,
    /// k extent of the operand (k past it is packed as zeros).
    pub depth: u32,
    /// Element offset of the operand.
    pub off: u32,
    /// Element stride between rows.
    pub rs: u32,
    /// Element stride between k steps.
    pub ks: u32,
    /// Element stride between batches (0 = broadcast).
    pub bs: u32,
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
    /// Four rows are one aligned vec4 (row stride 1, other strides and offset multiples of 4).
    pub rows_vec4: u32,
}

/// Packs an operand into its [`Panel`]: (src, packed, src read as vec4); see [`Panel::pack`].
pub static PACK: KernelSpec = KernelSpec {
    shader: Shader::GemmPack,
    entry: "gemm_pack",
    // (src, dst, src again: read as vec4).
    bindings: &[Access::Read, Access::ReadWrite, Access::Read],
};

/// One C tile over up to [`PAIRS`] window pairs: (A windows.., B windows.., bias, C); see [`GemmPlan::steps`].
pub static GEMM: KernelSpec =
    KernelSpec { shader: Shader::GemmUniform, entry: "gemm_uniform", bindings: &GEMM_BINDINGS };

/// The A and B windows of every pair (uniform), then the bias (read) and C (read-write).
const GEMM_BINDINGS: [Access; 2 * PAIRS + 2] = {
    let mut b = [Access::Uniform; 2 * PAIRS + 2];
    b[2 * PAIRS] = Access::Read;
    b[2 * PAIRS + 1] = Access::ReadWrite;
    b
};

/// How one operand is cut into windows: `tiles` row tiles of `r` rows, `kws` windows of `kc`
/// k-steps each, `batches` copies; window starts `wstride` elements apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panel {
    /// Rows of the operand (A: m; B: n).
    pub rows: u32,
    /// Rows per tile, a multiple of [`INV_ROWS`] (A) or [`INV_COLS`] (B).
    pub r: u32,
    /// Row tiles.
    pub tiles: u32,
    /// k steps per window.
    pub kc: u32,
    /// Windows along k.
    pub kws: u32,
    /// Elements between window starts (`r * kc` rounded up to the uniform offset alignment).
    pub wstride: u64,
    /// Batch copies packed (1 for a broadcast operand).
    pub batches: u32,
}

impl Panel {
    /// Elements of the packed buffer (the last window is bound as a full 64 KiB).
    pub fn elements(&self) -> u64 {
        (self.batches as u64 * self.tiles as u64 * self.kws as u64 - 1) * self.wstride + WINDOW_FLOATS
    }

    /// Element offset of window (batch, tile, kw); a broadcast operand has one batch.
    pub fn window(&self, batch: u32, tile: u32, kw: u32) -> u64 {
        let b = if self.batches == 1 { 0 } else { batch as u64 };
        ((b * self.tiles as u64 + tile as u64) * self.kws as u64 + kw as u64) * self.wstride
    }

    /// The pack of an operand viewed as `rows x depth` at `off + b * bs + row * rs + k * ks`.
    pub fn pack(&self, depth: u32, off: u32, rs: u32, ks: u32, bs: u32) -> Launch {
        let p = GemmPackParams {
            rows: self.rows,
            depth,
            off,
            rs,
            ks,
            bs,
            r4: self.r / 4,
            kc: self.kc,
            kws: self.kws,
            wstride4: (self.wstride / 4) as u32,
            tiles: self.tiles,
            rows_vec4: (rs == 1 && (off | ks | bs).is_multiple_of(4)) as u32,
        };
        let grid = [(self.kc * self.r / 4).div_ceil(64), self.tiles * self.kws, self.batches];
        Launch::new(&PACK, &p, grid)
    }
}

/// One GEMM dispatch and the element offsets its A and B windows start at.
#[derive(Debug, Clone)]
pub struct GemmStep {
    /// The `gemm_uniform` dispatch.
    pub launch: Launch,
    /// Element offsets into the packed A panel of uniform bindings 1..=PAIRS.
    pub a_windows: [u64; PAIRS],
    /// Element offsets into the packed B panel of the next [`PAIRS`] uniform bindings.
    pub b_windows: [u64; PAIRS],
}

/// The window geometry of a matmul.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GemmPlan {
    /// A, packed as `m x k`.
    pub a: Panel,
    /// B, packed as `n x k` (read through swapped strides).
    pub b: Panel,
}

/// Rows per tile and tile count for `rows` split into tiles of at most `side` rows (a multiple
/// of `step`), each a multiple of `step`.
fn tiling(rows: u32, step: u32, side: u32) -> (u32, u32) {
    let tiles = rows.div_ceil(side).max(1);
    (rows.div_ceil(tiles).next_multiple_of(step).max(step), tiles)
}

/// Where C's elements go and how the bias applies (see `store4` in `gemm_uniform.wgsl`):
/// column `col` of row `row` in batch `b` lives at
/// `base + b * batch_stride + (col / inner) * outer + row * inner + col % inner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CLayout {
    /// Element offset of C's first element.
    pub base: u32,
    /// Elements between batches of C.
    pub batch_stride: u32,
    /// Columns per contiguous run (n for a matmul, pixels per image for a conv).
    pub inner: u32,
    /// Elements between consecutive runs (an image's size for a conv; unused when `inner = n`).
    pub outer: u32,
    /// The bias is indexed by row (a conv's channels) instead of by column.
    pub bias_rows: bool,
    /// Bias elements between batches (a conv group's first channel).
    pub bias_batch_stride: u32,
    /// Add to C's current values instead of overwriting them (a K split across calls).
    pub accumulate: bool,
}

impl CLayout {
    /// Contiguous `[batch, m, n]`, bias per column: a plain matmul.
    pub fn matmul(p: &MatmulParams) -> CLayout {
        CLayout {
            base: 0,
            batch_stride: p.m * p.n,
            inner: p.n.max(1),
            outer: 0,
            bias_rows: false,
            bias_batch_stride: 0,
            accumulate: false,
        }
    }
}

impl GemmPlan {
    /// Geometry for `p` with window offsets aligned to `align_bytes`
    /// (`min_uniform_buffer_offset_alignment`): K cut into equal windows of at most
    /// [`MAX_KC`] steps, C into tiles as wide as those windows allow (at most [`MAX_SIDE`]).
    pub fn new(p: &MatmulParams, align_bytes: u32) -> GemmPlan {
        let kws = p.k.div_ceil(MAX_KC).max(1);
        let kc = p.k.div_ceil(kws).max(1);
        let side = (WINDOW_FLOATS as u32 / kc / INV_COLS * INV_COLS).min(MAX_SIDE);
        let (ra, tiles_m) = tiling(p.m, INV_ROWS, side);
        let (rb, tiles_n) = tiling(p.n, INV_COLS, side);
        let align = (align_bytes as u64 / 4).max(4);
        let panel = |rows, r: u32, tiles, bs: u32| Panel {
            rows,
            r,
            tiles,
            kc,
            kws,
            wstride: (r as u64 * kc as u64).next_multiple_of(align),
            batches: if bs == 0 { 1 } else { p.batch.max(1) },
        };
        GemmPlan { a: panel(p.m, ra, tiles_m, p.a_bs), b: panel(p.n, rb, tiles_n, p.b_bs) }
    }

    /// Pack of A (`m x k`) and of B (read as `n x k` through swapped strides).
    pub fn packs(&self, p: &MatmulParams) -> [Launch; 2] {
        [self.a.pack(p.k, p.a_off, p.a_rs, p.a_cs, p.a_bs), self.b.pack(p.k, p.b_off, p.b_cs, p.b_rs, p.b_bs)]
    }

    /// Every GEMM dispatch, in order (k chunks of one tile are consecutive: first writes C,
    /// last applies the epilogue), C placed by `c`.
    pub fn steps(&self, p: &MatmulParams, c: &CLayout) -> Vec<GemmStep> {
        let (a, b) = (&self.a, &self.b);
        let chunks = a.kws.div_ceil(PAIRS as u32);
        let invocations = (a.r / INV_ROWS) * (b.r / INV_COLS);
        let mut out = Vec::with_capacity((p.batch * a.tiles * b.tiles * chunks) as usize);
        for bt in 0..p.batch.max(1) {
            for tm in 0..a.tiles {
                for tn in 0..b.tiles {
                    for ch in 0..chunks {
                        let kw0 = ch * PAIRS as u32;
                        let pairs = (a.kws - kw0).min(PAIRS as u32);
                        let k_last = (p.k - (kw0 + pairs - 1) * a.kc).min(a.kc);
                        let gp = GemmUniformParams {
                            m: p.m,
                            n: p.n,
                            row0: tm * a.r,
                            col0: tn * b.r,
                            ra4: a.r / 4,
                            rb4: b.r / 4,
                            cols_inv: b.r / INV_COLS,
                            kc: a.kc,
                            pairs,
                            k_last,
                            c_off: c.base + bt * c.batch_stride,
                            bias_off: p.bias_off + bt * c.bias_batch_stride,
                            alpha: p.alpha,
                            c_inner: c.inner,
                            c_outer: c.outer,
                            _pad: 0,
                        };
                        let last = ch + 1 == chunks;
                        let constants = Constants::new(&[
                            ("WG", WG),
                            ("FIRST", (ch == 0 && !c.accumulate) as u32),
                            ("LAST", last as u32),
                            ("BIAS", if p.has_bias == 0 || !last { 0 } else { 1 + c.bias_rows as u32 }),
                            ("ACT", if last { p.act } else { UnaryOp::Identity as u32 }),
                        ]);
                        let kw = |i: usize| kw0 + (i as u32).min(pairs - 1);
                        out.push(GemmStep {
                            launch: Launch::new(&GEMM, &gp, [invocations.div_ceil(WG), 1, 1]).with_constants(constants),
                            a_windows: std::array::from_fn(|i| a.window(bt, tm, kw(i))),
                            b_windows: std::array::from_fn(|i| b.window(bt, tn, kw(i))),
                        });
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(m: u32, n: u32, k: u32, batch: u32) -> MatmulParams {
        MatmulParams { m, n, k, batch, a_bs: m * k, b_bs: 0, a_rs: k, a_cs: 1, b_rs: n, b_cs: 1, ..Zeroable::zeroed() }
    }

    #[test]
    fn plans_cover_every_row_column_and_k_within_one_window() {
        for (m, n, k, batch) in
            [(1, 1, 1, 1), (7, 33, 1000, 2), (128, 10, 784, 1), (2048, 2048, 2048, 1), (784, 256, 128, 1)]
        {
            let p = params(m, n, k, batch);
            let plan = GemmPlan::new(&p, 256);
            let (a, b) = (plan.a, plan.b);
            assert!(a.r * a.tiles >= m && b.r * b.tiles >= n && a.kc * a.kws >= k, "{plan:?}");
            assert!(a.r <= MAX_SIDE && b.r <= MAX_SIDE && a.r % INV_ROWS == 0 && b.r % INV_COLS == 0, "{plan:?}");
            assert!(a.kc <= MAX_KC && (a.kws - 1) * a.kc < k, "no window is empty: {plan:?}");
            assert!(a.r as u64 * a.kc as u64 <= WINDOW_FLOATS && b.r as u64 * b.kc as u64 <= WINDOW_FLOATS);
            assert!(a.wstride % 64 == 0 && a.wstride >= (a.r * a.kc) as u64, "{plan:?}");
            assert_eq!((a.batches, b.batches), (batch, 1));
            let steps = plan.steps(&p, &CLayout::matmul(&p));
            let chunks = a.kws.div_ceil(PAIRS as u32);
            assert_eq!(steps.len() as u32, batch * a.tiles * b.tiles * chunks);
            for s in &steps {
                assert!(s.a_windows.iter().all(|&w| w + WINDOW_FLOATS <= a.elements()));
                assert!(s.b_windows.iter().all(|&w| w + WINDOW_FLOATS <= b.elements()));
            }
        }
    }
}
