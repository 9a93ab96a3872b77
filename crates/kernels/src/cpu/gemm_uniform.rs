//! The CPU-adapter GEMM: `pack` lays A and B out in 64 KiB windows, `gemm_uniform` reads them
//! through uniform-buffer bindings (llvmpipe gathers those as vectors; storage loads with
//! per-lane addresses are scalar loops there). Same contract as [`crate::ops::matmul`]: operands
//! are read through row, column and batch strides, C is contiguous `[batch, m, n]`, the bias +
//! activation epilogue is fused.
//!
//! A [`GemmPlan`] splits K into windows of `kc` steps and C into tiles the windows can hold
//! (a cost model picks `kc`);
//! one dispatch covers one C tile and up to [`PAIRS`] windows of K, so a matmul is
//! `batch x tiles_m x tiles_n x ceil(k_windows / PAIRS)` GEMM dispatches after two packs.
//! Launchers never see buffers: a [`GemmStep`] names the windows (as element offsets into the
//! packed panels) that its uniform bindings must start at.

use bytemuck::{Pod, Zeroable};

use super::output_layout::OutputLayout;
use crate::ops::map::UnaryOp;
use crate::ops::matmul::MatmulParams;
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
/// Largest C tile side: the windows bound the tile (`side * kc <= WINDOW_FLOATS`), this caps
/// it where K is very shallow (a 3x3 conv over 3 channels has K = 27).
pub const MAX_SIDE: u32 = 4096;

/// The cost model [`GemmPlan::new`] minimizes, in microseconds, with rates measured on
/// lavapipe (2 cores; docs/lavapipe-journal.md): the fixed cost of a dispatch, a C element stored (or
/// read back and stored again, once per chunk of K), an operand element packed, and a
/// multiply-add pair at the inner loop's rate. Only the ratios matter; a real GPU takes the
/// tiled path, not this one.
mod cost {
    pub const DISPATCH_US: f64 = 90.0;
    pub const C_ELEMENT_US: f64 = 0.010;
    pub const PACK_ELEMENT_US: f64 = 0.012;
    pub const FLOP_US: f64 = 1.0 / 20_000.0;
}

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
    /// Element offset of this batch's C (see [`OutputLayout`]).
    pub c_off: u32,
    /// Element offset of this batch's bias.
    pub bias_off: u32,
    /// Scalar argument of the epilogue activation.
    pub alpha: f32,
    /// C columns per contiguous run ([`OutputLayout::inner`]).
    pub c_inner: u32,
    /// Elements between runs of C ([`OutputLayout::outer`]).
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

/// Window depths [`GemmPlan::new`] compares: K split over 1..=[`PAIRS`] windows (one
/// dispatch per tile), and a geometric ladder of deeper products' windows, each leaving room
/// for at least a 16-wide tile.
fn candidate_kcs(k: u32) -> impl Iterator<Item = u32> {
    let splits = (1..=PAIRS as u32).map(move |w| k.div_ceil(w));
    let ladder = [16u32, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024].into_iter();
    splits.chain(ladder.filter(move |&kc| kc < k)).filter(|&kc| kc <= WINDOW_FLOATS as u32 / INV_COLS)
}

/// One candidate cut of a matmul that [`GemmPlan::new`] prices: `kws` windows of `kc` steps,
/// `tiles_m` A tiles of `ra` rows and `tiles_n` B tiles of `rb` rows.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    kc: u32,
    kws: u32,
    ra: u32,
    tiles_m: u32,
    rb: u32,
    tiles_n: u32,
}

impl Geometry {
    /// Windows of at most `kc` steps (balanced, so no window is empty) and the largest tiles
    /// they hold.
    fn new(p: &MatmulParams, kc: u32) -> Geometry {
        let kws = p.k.max(1).div_ceil(kc);
        let kc = p.k.max(1).div_ceil(kws);
        let side = (WINDOW_FLOATS as u32 / kc).min(MAX_SIDE);
        let (ra, tiles_m) = tiling(p.m, INV_ROWS, side / INV_ROWS * INV_ROWS);
        let (rb, tiles_n) = tiling(p.n, INV_COLS, side / INV_COLS * INV_COLS);
        Geometry { kc, kws, ra, tiles_m, rb, tiles_n }
    }

    /// Estimated microseconds (see [`cost`]).
    fn cost(&self, p: &MatmulParams) -> f64 {
        let batch = p.batch.max(1) as f64;
        let chunks = self.kws.div_ceil(PAIRS as u32) as f64;
        let rows = (self.ra * self.tiles_m) as f64;
        let cols = (self.rb * self.tiles_n) as f64;
        let depth = (self.kc * self.kws) as f64;
        let dispatches = batch * (self.tiles_m * self.tiles_n) as f64 * chunks;
        let workgroups = ((self.ra / INV_ROWS) * (self.rb / INV_COLS)).div_ceil(WG);
        let idle_core = if workgroups < 2 { 2.0 } else { 1.0 };
        dispatches * cost::DISPATCH_US
            + batch * rows * cols * chunks * cost::C_ELEMENT_US
            + batch * (rows + cols) * depth * cost::PACK_ELEMENT_US
            + batch * 2.0 * rows * cols * depth * cost::FLOP_US * idle_core
    }
}

impl GemmPlan {
    /// Geometry for `p` with window offsets aligned to `align_bytes`
    /// (`min_uniform_buffer_offset_alignment`): K cut into equal windows of `kc` steps, C into
    /// tiles as large as those windows allow (at most [`MAX_SIDE`]). `kc` is chosen by a cost
    /// model (see `cost`) rather than timed: a deep window makes narrow tiles (more
    /// dispatches), a shallow one makes more chunks of K (C stored more often), and a tile that
    /// is one workgroup wide leaves a core idle. So a shallow K spreads over all [`PAIRS`]
    /// windows of one dispatch, a small deep product takes deep windows, and large squares
    /// land near 128 x 128 tiles with about 100 k steps per window.
    pub fn new(p: &MatmulParams, align_bytes: u32) -> GemmPlan {
        let g = candidate_kcs(p.k.max(1))
            .map(|kc| Geometry::new(p, kc))
            .map(|g| (g.cost(p), g))
            .min_by(|x, y| x.0.total_cmp(&y.0))
            .expect("at least one window depth fits")
            .1;
        let align = (align_bytes as u64 / 4).max(4);
        let panel = |rows, r: u32, tiles, bs: u32| Panel {
            rows,
            r,
            tiles,
            kc: g.kc,
            kws: g.kws,
            wstride: (r as u64 * g.kc as u64).next_multiple_of(align),
            batches: if bs == 0 { 1 } else { p.batch.max(1) },
        };
        GemmPlan { a: panel(p.m, g.ra, g.tiles_m, p.a_bs), b: panel(p.n, g.rb, g.tiles_n, p.b_bs) }
    }

    /// Pack of A (`m x k`) and of B (read as `n x k` through swapped strides).
    pub fn packs(&self, p: &MatmulParams) -> [Launch; 2] {
        [self.a.pack(p.k, p.a_off, p.a_rs, p.a_cs, p.a_bs), self.b.pack(p.k, p.b_off, p.b_cs, p.b_rs, p.b_bs)]
    }

    /// Every GEMM dispatch, in order (k chunks of one tile are consecutive: first writes C,
    /// last applies the epilogue), C placed by `c`.
    pub fn steps(&self, p: &MatmulParams, c: &OutputLayout) -> Vec<GemmStep> {
        debug_assert!(c.grid.is_none(), "pixel grids are the texture GEMM's only");
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
        for (m, n, k, batch) in [
            (1, 1, 1, 1),
            (7, 33, 1000, 2),
            (128, 10, 784, 1),
            (2048, 2048, 2048, 1),
            (784, 256, 128, 1),
            (32, 57600, 27, 1),
            (32, 32, 57600, 1),
        ] {
            let p = params(m, n, k, batch);
            let plan = GemmPlan::new(&p, 256);
            let (a, b) = (plan.a, plan.b);
            assert!(a.r * a.tiles >= m && b.r * b.tiles >= n && a.kc * a.kws >= k, "{plan:?}");
            assert!(a.r <= MAX_SIDE && b.r <= MAX_SIDE && a.r % INV_ROWS == 0 && b.r % INV_COLS == 0, "{plan:?}");
            assert!(a.kc <= 1024 && (a.kws - 1) * a.kc < k, "no window is empty: {plan:?}");
            assert!(a.r as u64 * a.kc as u64 <= WINDOW_FLOATS && b.r as u64 * b.kc as u64 <= WINDOW_FLOATS);
            assert!(a.wstride % 64 == 0 && a.wstride >= (a.r * a.kc) as u64, "{plan:?}");
            assert_eq!((a.batches, b.batches), (batch, 1));
            let steps = plan.steps(&p, &OutputLayout::matmul(&p));
            let chunks = a.kws.div_ceil(PAIRS as u32);
            assert_eq!(steps.len() as u32, batch * a.tiles * b.tiles * chunks);
            for s in &steps {
                assert!(s.a_windows.iter().all(|&w| w + WINDOW_FLOATS <= a.elements()));
                assert!(s.b_windows.iter().all(|&w| w + WINDOW_FLOATS <= b.elements()));
            }
        }
    }

    #[test]
    fn the_cost_model_cuts_dispatches_where_windows_allow() {
        // A shallow K (conv1 of the CNN: 3x3 over 3 channels) spreads over every window pair
        // of a dispatch, so the windows hold 3840-wide tiles: 15 dispatches, not 98.
        let p = params(32, 57600, 27, 1);
        let plan = GemmPlan::new(&p, 256);
        assert_eq!(plan.a.kws, PAIRS as u32, "{plan:?}");
        assert!(plan.steps(&p, &OutputLayout::matmul(&p)).len() <= 16, "{plan:?}");
        // A small deep product (that conv's weight gradient) takes deep windows: fewer chunks.
        let p = params(32, 32, 57600, 1);
        let plan = GemmPlan::new(&p, 256);
        assert!(plan.a.kc >= 256 && plan.steps(&p, &OutputLayout::matmul(&p)).len() <= 20, "{plan:?}");
        // The MLP's first-layer weight gradient: whole-width tiles, at most two dispatches.
        let p = params(784, 256, 128, 1);
        assert!(GemmPlan::new(&p, 256).steps(&p, &OutputLayout::matmul(&p)).len() <= 2);
    }
}
