//! Launchers of `index.wgsl`: embedding gather and gradient, gather along an axis and its
//! scatter-add gradient, one_hot. Every operand is contiguous from element 0; indices are 32-bit
//! words (u32, or i32 whose negatives read as out of range). The tensor layer checks the
//! forward ops' indices with `ops::fault::check_indices` first; these kernels never read out of
//! range either way (an out-of-range index reads as zero).
//!
//! Shape contract (see the shader): embedding ids `[rows]`, table `[vocab, dim]`, out
//! `[rows, dim]`; gather x `[outer, axis_in, inner]`, idx and out `[outer, axis_out, inner]`;
//! one_hot labels `[rows]`, out `[rows, dim]`.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Parameters of `index.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Default)]
pub struct IndexParams {
    /// Threads (output elements, or `ceil(vocab / VOCAB_BLOCK) * dim` for the embedding gradient).
    pub n: u32,
    /// Embedding and one_hot: number of ids (rows of the output).
    pub rows: u32,
    /// Embedding: rows of the table.
    pub vocab: u32,
    /// Embedding: columns of the table; one_hot: number of classes.
    pub dim: u32,
    /// Gather: product of the dimensions before the axis.
    pub outer: u32,
    /// Gather: extent of the axis in x.
    pub axis_in: u32,
    /// Gather: extent of the axis in idx and out.
    pub axis_out: u32,
    /// Gather: product of the dimensions after the axis.
    pub inner: u32,
    /// one_hot: 1 when the label `ignore` gives a zero row.
    pub has_ignore: u32,
    /// one_hot: the ignored label's bits.
    pub ignore: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 2],
}

/// Vocabulary rows one embedding-gradient thread accumulates (`VOCAB_BLOCK` in the shader).
pub const VOCAB_BLOCK: usize = 16;

const IDS_SRC_DST: &[Access] = &[Access::Read, Access::Read, Access::ReadWrite];

/// `out[r, :] = table[ids[r], :]`: (ids, table, out); see [`IndexParams::embedding`].
pub static EMBEDDING_FORWARD: KernelSpec =
    KernelSpec { shader: Shader::Index, entry: "embedding_forward", bindings: IDS_SRC_DST };
/// Scatter-add of dy rows into dtable, without atomics: (ids, dy, dtable); see [`IndexParams::embedding_grad`].
pub static EMBEDDING_BACKWARD: KernelSpec =
    KernelSpec { shader: Shader::Index, entry: "embedding_backward", bindings: IDS_SRC_DST };
/// Gather along an axis: (idx, x, out); see [`IndexParams::gather`].
pub static GATHER_FORWARD: KernelSpec =
    KernelSpec { shader: Shader::Index, entry: "gather_forward", bindings: IDS_SRC_DST };
/// Scatter-add of dy into dx along the axis: (idx, dy, dx); see [`IndexParams::gather_grad`].
pub static GATHER_BACKWARD: KernelSpec =
    KernelSpec { shader: Shader::Index, entry: "gather_backward", bindings: IDS_SRC_DST };
/// One-hot f32 rows from labels: (labels, out); see [`IndexParams::one_hot`].
pub static ONE_HOT: KernelSpec =
    KernelSpec { shader: Shader::Index, entry: "one_hot_forward", bindings: &[Access::Read, Access::ReadWrite] };

impl IndexParams {
    /// Embedding forward (bindings: ids, table, out).
    pub fn embedding(rows: usize, vocab: usize, dim: usize) -> Self {
        IndexParams {
            n: (rows * dim) as u32,
            rows: rows as u32,
            vocab: vocab as u32,
            dim: dim as u32,
            ..Self::default()
        }
    }
    /// Embedding gradient (bindings: ids, dy, dtable): one thread per (vocab block, column).
    pub fn embedding_grad(rows: usize, vocab: usize, dim: usize) -> Self {
        IndexParams { n: (vocab.div_ceil(VOCAB_BLOCK) * dim) as u32, ..Self::embedding(rows, vocab, dim) }
    }
    /// Gather forward (bindings: idx, x, out): one thread per output element.
    pub fn gather(outer: usize, axis_in: usize, axis_out: usize, inner: usize) -> Self {
        IndexParams {
            n: (outer * axis_out * inner) as u32,
            outer: outer as u32,
            axis_in: axis_in as u32,
            axis_out: axis_out as u32,
            inner: inner as u32,
            ..Self::default()
        }
    }
    /// Gather gradient (bindings: idx, dy, dx): one thread per dx element.
    pub fn gather_grad(outer: usize, axis_in: usize, axis_out: usize, inner: usize) -> Self {
        IndexParams { n: (outer * axis_in * inner) as u32, ..Self::gather(outer, axis_in, axis_out, inner) }
    }
    /// one_hot (bindings: labels, out).
    pub fn one_hot(rows: usize, classes: usize) -> Self {
        IndexParams { n: (rows * classes) as u32, rows: rows as u32, dim: classes as u32, ..Self::default() }
    }
    /// one_hot whose label `ignore` (bits), if given, gives a zero row.
    pub fn one_hot_ignoring(rows: usize, classes: usize, ignore: Option<u32>) -> Self {
        IndexParams { has_ignore: ignore.is_some() as u32, ignore: ignore.unwrap_or(0), ..Self::one_hot(rows, classes) }
    }
}

/// Launch of an index kernel over `p.n` threads.
pub fn launch(kernel: &'static KernelSpec, p: &IndexParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.n as usize, 256))
}
