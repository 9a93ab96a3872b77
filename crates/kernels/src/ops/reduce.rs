//! Reductions (`reduce.wgsl`) of x viewed as `[outer, r, inner]` over its middle axis: sum,
//! mean, max, min, sum of squares, L2 norm, the squared-deviation pass of variance, argmax and
//! argmin.
//!
//! Shape contract: x is contiguous from element `x_off`; the result is contiguous
//! `[outer, inner]` (f32, or u32 indices along the r axis for the arg ops). [`plan`] splits
//! long axes into passes: each pass folds at most `chunk` values per output (65,536 in the
//! workgroup-per-row kernel, 1,024 in the thread-per-column kernel) and writes
//! `[outer, n_chunks, inner]` partials that the next pass reduces, so a sum over more than 2^24
//! elements is a tree of exact partial sums rather than one long running sum.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, Constants, KernelSpec, Launch, Shader};

/// Parameters of `reduce.wgsl` (one pass).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct ReduceParams {
    /// Product of the dimensions before the reduced axis.
    pub outer: u32,
    /// Length of the reduced axis in this pass's input.
    pub r: u32,
    /// Product of the dimensions after the reduced axis.
    pub inner: u32,
    /// Values folded per output of this pass.
    pub chunk: u32,
    /// `ceil(r / chunk)`: outputs per (outer, inner) of this pass.
    pub n_chunks: u32,
    /// 0 x, 1 x^2, 2 (x - aux[o, i])^2.
    pub load: u32,
    /// 0 add, 1 max, 2 min, 3 argmax, 4 argmin.
    pub combine: u32,
    /// 0 none, 1 divide by `divisor`, 2 sqrt.
    pub post: u32,
    /// Divisor of `post` 1 (Mean: r; VarDev: r - correction).
    pub divisor: f32,
    /// Length of x's reduced axis (the original r in arg gather passes, else `r`).
    pub src_r: u32,
    /// 1 in arg passes after the first: candidates come from binding 2.
    pub gather: u32,
    /// Element offset of x in its binding.
    pub x_off: u32,
    /// 1 when the workgroup-per-row kernels run this pass (inner == 1 and rows at least the
    /// planned minimum), else 0: the thread-per-column kernels.
    pub rows: u32,
    /// Keeps the struct a whole number of 16-byte rows.
    pub _pad: [u32; 3],
}

/// What a reduction computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum.
    Sum,
    /// Arithmetic mean.
    Mean,
    /// Maximum.
    Max,
    /// Minimum.
    Min,
    /// Sum of squares.
    SumSq,
    /// sqrt of the sum of squares.
    NormL2,
    /// Sum of (x - mean)^2 divided by `divisor` (`r - correction`): the second pass of the
    /// two-pass variance; binding 2 holds the mean, `[outer, inner]`.
    VarDev,
    /// Index of the maximum along the axis (u32; ties take the first index).
    ArgMax,
    /// Index of the minimum along the axis (u32; ties take the first index).
    ArgMin,
}

impl ReduceOp {
    /// (load, combine, post) codes.
    pub fn codes(self) -> (u32, u32, u32) {
        match self {
            ReduceOp::Sum => (0, 0, 0),
            ReduceOp::Mean => (0, 0, 1),
            ReduceOp::Max => (0, 1, 0),
            ReduceOp::Min => (0, 2, 0),
            ReduceOp::SumSq => (1, 0, 0),
            ReduceOp::NormL2 => (1, 0, 2),
            ReduceOp::VarDev => (2, 0, 1),
            ReduceOp::ArgMax => (0, 3, 0),
            ReduceOp::ArgMin => (0, 4, 0),
        }
    }
    /// Whether the result is a u32 index.
    pub fn is_arg(self) -> bool {
        matches!(self, ReduceOp::ArgMax | ReduceOp::ArgMin)
    }
}

/// Values one workgroup folds in the row kernel (256 threads x 256 values each).
pub const ROWS_CHUNK: u32 = 65_536;
/// Values one thread folds in the column kernel.
pub const COLS_CHUNK: u32 = 1_024;
/// Shortest row given a whole workgroup; shorter rows (inner == 1) take the column kernel,
/// one thread per row.
pub const ROWS_MIN: u32 = 64;
/// [`ROWS_MIN`] on CPU adapters reading x from a texture: there a 256-thread workgroup costs
/// about 3 us of fixed work (a conv bias gradient's 4,096 rows of 169 took 13 ms), so rows up
/// to this long fold in one thread each.
pub const TEXTURE_ROWS_MIN: u32 = 16_384;

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// Value reduction, a workgroup per row (inner == 1): (x, aux, out).
pub static REDUCE_ROWS: KernelSpec = KernelSpec { shader: Shader::Reduce, entry: "reduce_rows", bindings: &[R, R, W] };
/// Value reduction, a thread per (outer, inner) column: (x, aux, out).
pub static REDUCE_COLS: KernelSpec = KernelSpec { shader: Shader::Reduce, entry: "reduce_cols", bindings: &[R, R, W] };
/// Subgroup variant of `reduce_rows` (value ops only; needs `SUBGROUP`).
pub static REDUCE_ROWS_SUBGROUP: KernelSpec =
    KernelSpec { shader: Shader::ReduceSubgroup, entry: "reduce_rows_subgroup", bindings: &[R, R, W] };
/// A thread per row segment (inner == 1) folding whole texels of x read from a linear texture
/// (CPU adapters): (x texture, aux, out).
pub static REDUCE_ROWS_TEXTURE: KernelSpec =
    KernelSpec { shader: Shader::ReduceTexture, entry: "reduce_rows_texture", bindings: &[Access::Texture, R, W] };
/// `REDUCE_COLS` reading x from a linear texture (CPU adapters): (x texture, aux, out).
pub static REDUCE_COLS_TEXTURE: KernelSpec =
    KernelSpec { shader: Shader::ReduceTexture, entry: "reduce_cols_texture", bindings: &[Access::Texture, R, W] };
/// Arg reduction, a workgroup per row: (x, candidates, out).
pub static ARGREDUCE_ROWS: KernelSpec =
    KernelSpec { shader: Shader::Reduce, entry: "argreduce_rows", bindings: &[R, R, W] };
/// Arg reduction, a thread per column: (x, candidates, out).
pub static ARGREDUCE_COLS: KernelSpec =
    KernelSpec { shader: Shader::Reduce, entry: "argreduce_cols", bindings: &[R, R, W] };

impl ReduceParams {
    /// Whether this pass runs the workgroup-per-row kernel.
    pub fn uses_rows(&self) -> bool {
        self.rows != 0
    }
    /// Elements this pass writes.
    pub fn out_len(&self) -> usize {
        self.outer as usize * self.n_chunks as usize * self.inner as usize
    }
    /// Whether this is the final pass (one output per (outer, inner)).
    pub fn is_last(&self) -> bool {
        self.n_chunks == 1
    }
}

/// The passes reducing x (`[outer, r, inner]` from element `x_off`, r >= 1) with `op`.
/// `divisor` is used by Mean (r) and VarDev (r - correction). Bindings of pass n: value ops
/// (x = pass n-1's output or x, aux = the mean or any buffer, out); arg ops (x always, cand =
/// pass n-1's output or any buffer, out).
pub fn plan(op: ReduceOp, outer: usize, r: usize, inner: usize, x_off: usize, divisor: f32) -> Vec<ReduceParams> {
    plan_with(op, outer, r, inner, x_off, divisor, ROWS_MIN)
}

/// [`plan`] with rows shorter than `rows_min` folded by the column kernel.
pub fn plan_with(
    op: ReduceOp,
    outer: usize,
    r: usize,
    inner: usize,
    x_off: usize,
    divisor: f32,
    rows_min: u32,
) -> Vec<ReduceParams> {
    debug_assert!(r >= 1);
    let (load, combine, post) = op.codes();
    let mut passes = Vec::new();
    let mut cur = r as u32;
    loop {
        let first = passes.is_empty();
        let rows = inner == 1 && cur >= rows_min;
        let chunk = if rows { ROWS_CHUNK } else { COLS_CHUNK }.min(cur);
        let n_chunks = cur.div_ceil(chunk);
        let last = n_chunks == 1;
        passes.push(ReduceParams {
            outer: outer as u32,
            r: cur,
            inner: inner as u32,
            chunk,
            n_chunks,
            load: if first { load } else { 0 },
            combine,
            post: if last { post } else { 0 },
            divisor,
            src_r: if op.is_arg() { r as u32 } else { cur },
            gather: (op.is_arg() && !first) as u32,
            x_off: if first || op.is_arg() { x_off as u32 } else { 0 },
            rows: rows as u32,
            _pad: [0; 3],
        });
        if last {
            return passes;
        }
        cur = n_chunks;
    }
}

/// Launch of one pass with the portable kernels.
pub fn launch(p: &ReduceParams) -> Launch {
    launch_with(p, false)
}

/// Launch of one pass; `subgroups` picks `reduce_rows_subgroup` for value passes of the row
/// kernel (the caller checks the adapter has `SUBGROUP`).
pub fn launch_with(p: &ReduceParams, subgroups: bool) -> Launch {
    let arg = p.combine >= 3;
    let kernel = match (arg, p.uses_rows()) {
        (false, true) if subgroups => &REDUCE_ROWS_SUBGROUP,
        (false, true) => &REDUCE_ROWS,
        (false, false) => &REDUCE_COLS,
        (true, true) => &ARGREDUCE_ROWS,
        (true, false) => &ARGREDUCE_COLS,
    };
    let grid = if p.uses_rows() { grid_1d(p.out_len(), 1) } else { grid_1d(p.out_len(), 256) };
    Launch::new(kernel, p, grid).with_constants(constants(p))
}

/// Launch of a value pass of the column kernel with x read from a linear texture (texel 0 is
/// element 0 of x's binding), or `None` for the passes it does not serve (rows, arg ops).
pub fn launch_texture(p: &ReduceParams) -> Option<Launch> {
    let kernel = if p.inner == 1 { &REDUCE_ROWS_TEXTURE } else { &REDUCE_COLS_TEXTURE };
    (p.combine < 3 && !p.uses_rows())
        .then(|| Launch::new(kernel, p, grid_1d(p.out_len(), 256)).with_constants(constants(p)))
}

fn constants(p: &ReduceParams) -> Constants {
    Constants::new(&[("LOAD", p.load), ("COMBINE", p.combine), ("POST", p.post)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_rows_take_two_passes_and_short_ones_one() {
        let p = plan(ReduceOp::Sum, 1, (1 << 24) + 1000, 1, 0, 1.0);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].chunk, p[0].n_chunks, p[1].r, p[1].n_chunks), (ROWS_CHUNK, 257, 257, 1));
        let p = plan(ReduceOp::Mean, 3, 1000, 1, 5, 1000.0);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].post, p[0].x_off), (1, 5));
        let p = plan(ReduceOp::ArgMax, 2, 3000, 7, 0, 1.0);
        assert_eq!(p.len(), 2);
        assert_eq!((p[1].gather, p[1].src_r, p[1].r), (1, 3000, 3));
    }

    #[test]
    fn params_fit_a_slot() {
        assert_eq!(std::mem::size_of::<ReduceParams>(), 64);
    }

    #[test]
    fn cpu_plans_fold_short_rows_in_one_thread_from_textures() {
        let gpu = plan(ReduceOp::Sum, 4096, 169, 1, 0, 1.0);
        assert!(gpu[0].uses_rows() && launch_texture(&gpu[0]).is_none());
        let cpu = plan_with(ReduceOp::Sum, 4096, 169, 1, 0, 1.0, TEXTURE_ROWS_MIN);
        assert_eq!((cpu.len(), cpu[0].chunk, cpu[0].uses_rows()), (1, 169, false));
        assert!(std::ptr::eq(launch_texture(&cpu[0]).unwrap().kernel, &REDUCE_ROWS_TEXTURE));
        let cols = plan_with(ReduceOp::Max, 1, 128, 256, 0, 1.0, TEXTURE_ROWS_MIN);
        assert!(std::ptr::eq(launch_texture(&cols[0]).unwrap().kernel, &REDUCE_COLS_TEXTURE));
        let long = plan_with(ReduceOp::Sum, 2, TEXTURE_ROWS_MIN as usize, 1, 0, 1.0, TEXTURE_ROWS_MIN);
        assert!(long[0].uses_rows() && launch_texture(&long[0]).is_none());
        let arg = plan_with(ReduceOp::ArgMax, 4096, 169, 1, 0, 1.0, TEXTURE_ROWS_MIN);
        assert!(launch_texture(&arg[0]).is_none());
    }
}
