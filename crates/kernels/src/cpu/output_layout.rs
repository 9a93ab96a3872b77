//! Where a CPU-adapter GEMM (`gemm_uniform`, `gemm_texture`) stores C: a plain matmul's
//! contiguous `[batch, m, n]`, or a convolution's NCHW output, whose columns are (image, pixel)
//! and whose rows are channels, so the GEMM writes y, dx or dw in place with no transpose.

use crate::ops::matmul::MatmulParams;

/// Where C's elements go and how the bias applies (`store4` in `gemm_uniform.wgsl` and
/// `gemm_texture.wgsl`):
/// column `col` of row `row` in batch `b` lives at
/// `base + b * batch_stride + (col / inner) * outer + row * inner + col % inner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLayout {
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
    /// The columns are the pixels of a padded grid, of which only the output's are stored
    /// (a stride-1 convolution on shifted copies, texture GEMM only); `inner` is then the
    /// output's pixels per image.
    pub grid: Option<PixelGrid>,
}

/// A padded pixel grid of `h x w` per image whose top-left `out_h x out_w` pixels are the
/// output: column `(image, y, x)` of C is stored at `image * outer + row * inner + y * out_w + x`
/// when `y < out_h` and `x < out_w`, else dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelGrid {
    /// Grid width.
    pub w: u32,
    /// Grid height.
    pub h: u32,
    /// Output height.
    pub out_h: u32,
    /// Output width.
    pub out_w: u32,
}

impl OutputLayout {
    /// Contiguous `[batch, m, n]`, bias per column: a plain matmul.
    pub fn matmul(p: &MatmulParams) -> OutputLayout {
        OutputLayout {
            base: 0,
            batch_stride: p.m * p.n,
            inner: p.n.max(1),
            outer: 0,
            bias_rows: false,
            bias_batch_stride: 0,
            accumulate: false,
            grid: None,
        }
    }
}
