//! Matmul's GEMM forms for software adapters: whole operands copied into textures
//! (`gemm_texture.wgsl`, the `Textures` form), which declines operands no copy makes
//! texel-aligned, and packed panels read through uniform windows (`gemm_uniform.wgsl`, the
//! `Windows` form), which serves every call. Both compute `out = act(a . b + bias)` for the
//! params the op built (`ops/matmul.rs`).

use wgtrain_kernels::cpu::gemm_texture::{TextureOperand, TexturePlan};
use wgtrain_kernels::cpu::gemm_uniform::{GemmPlan, GemmStep, PAIRS, WINDOW_FLOATS};
use wgtrain_kernels::cpu::output_layout::OutputLayout;
use wgtrain_kernels::ops::matmul::MatmulParams;

use crate::device::{Device, Resource};
use crate::dtype::DType;
use crate::error::Result;
use crate::pool::BufferKind;
use crate::tensor::Tensor;

/// The `Textures` form: copies both operands into textures (first relaid out, when their
/// strides are not texel-aligned), then one dispatch. `Ok(false)`: declined, no copy makes
/// these operands readable.
pub(crate) fn matmul_textures(
    p: &MatmulParams,
    a: &Tensor,
    b: &Tensor,
    bias: (&wgpu::Buffer, u64),
    out: &Tensor,
) -> Result<bool> {
    let max_height = out.device().limits().max_texture_dimension_2d;
    if let Some(plan) = TexturePlan::new(p, max_height) {
        texture_gemm(&plan, a, b, bias, out)?;
        return Ok(true);
    }
    if let Some(([a_layout, b_layout], plan)) = realigned(p, max_height) {
        texture_gemm(&plan, &a_layout.copy(a)?, &b_layout.copy(b)?, bias, out)?;
        return Ok(true);
    }
    Ok(false)
}

/// The `Windows` form: packs both operands into windows, then one GEMM dispatch per (batch,
/// C tile, chunk of `PAIRS` k-windows).
pub(crate) fn matmul_windows(
    p: &MatmulParams,
    a: &Tensor,
    b: &Tensor,
    bias: (&wgpu::Buffer, u64),
    out: &Tensor,
) -> Result<()> {
    let dev = out.device();
    let plan = GemmPlan::new(p, dev.limits().min_uniform_buffer_offset_alignment);
    let packed_a = packed(dev, plan.a.elements())?;
    let packed_b = packed(dev, plan.b.elements())?;
    let [pack_a, pack_b] = plan.packs(p);
    for (pack, src, dst) in [(&pack_a, a, &packed_a), (&pack_b, b, &packed_b)] {
        let (buffer, bytes) = src.binding();
        // The vec4 view covers whole vec4s (pool buffers are multiples of 256 bytes).
        let bytes4 = bytes.next_multiple_of(16).min(buffer.size());
        let (out, out_bytes) = dst.binding();
        dev.dispatch_ranges(pack, &[(buffer, 0, bytes), (out, 0, out_bytes), (buffer, 0, bytes4)])?;
    }
    run_steps(&plan.steps(p, &OutputLayout::matmul(p)), &packed_a, &packed_b, bias, out)
}

/// How an operand the texture GEMM cannot read in place is copied so that it can: the texture
/// needs four consecutive elements of a row or a column in one texel, so a matrix whose rows
/// are misaligned (the 10 columns of a classifier's weights) is copied column-major instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relayout {
    /// Read in place.
    Keep,
    /// Copied row-major.
    Rows,
    /// Copied column-major (a contiguous transpose, viewed back).
    Columns,
}

impl Relayout {
    /// `t` laid out as `self`: a copy holds every batch (broadcast ones included) from offset 0,
    /// with the strides [`Relayout::strides`] promises.
    fn copy(self, t: &Tensor) -> Result<Tensor> {
        match self {
            Relayout::Keep => Ok(t.clone()),
            Relayout::Rows => t.copy(),
            Relayout::Columns => t.transpose(-1, -2)?.copy()?.transpose(-1, -2),
        }
    }

    /// `(offset, row stride, column stride, batch stride)` of an operand of `rows x cols`, given
    /// them `kept` in place, after the copy.
    fn strides(self, kept: [u32; 4], [rows, cols]: [u32; 2]) -> [u32; 4] {
        match self {
            Relayout::Keep => kept,
            Relayout::Rows => [0, cols, 1, rows * cols],
            Relayout::Columns => [0, 1, rows, rows * cols],
        }
    }
}

/// The fewest copies (A's, B's or both) after which `p` fits the texture GEMM, with the plan
/// over the copies, or `None`.
fn realigned(p: &MatmulParams, max_height: u32) -> Option<([Relayout; 2], TexturePlan)> {
    use Relayout::{Columns, Keep, Rows};
    let choices = [
        [Keep, Rows],
        [Keep, Columns],
        [Rows, Keep],
        [Columns, Keep],
        [Rows, Rows],
        [Rows, Columns],
        [Columns, Rows],
        [Columns, Columns],
    ];
    choices.into_iter().find_map(|[a, b]| {
        let [a_off, a_rs, a_cs, a_bs] = a.strides([p.a_off, p.a_rs, p.a_cs, p.a_bs], [p.m, p.k]);
        let [b_off, b_rs, b_cs, b_bs] = b.strides([p.b_off, p.b_rs, p.b_cs, p.b_bs], [p.k, p.n]);
        let q = MatmulParams { a_off, a_rs, a_cs, a_bs, b_off, b_rs, b_cs, b_bs, ..*p };
        TexturePlan::new(&q, max_height).map(|plan| ([a, b], plan))
    })
}

/// `out = act(a . b + bias)` on the texture path: copy both operands into textures, then one
/// dispatch.
fn texture_gemm(plan: &TexturePlan, a: &Tensor, b: &Tensor, bias: (&wgpu::Buffer, u64), out: &Tensor) -> Result<()> {
    let dev = out.device();
    let texture = |t: &Tensor, op: &TextureOperand| dev.operand_texture(t.binding().0, op.first, op.texels);
    let (ta, tb) = (texture(a, &plan.a)?, texture(b, &plan.b)?);
    let (c, c_bytes) = out.binding();
    dev.dispatch_resources(
        &plan.launch,
        &[
            Resource::Texture(&ta.view),
            Resource::Texture(&tb.view),
            Resource::Buffer((bias.0, 0, bias.1)),
            Resource::Buffer((c, 0, c_bytes)),
        ],
    )?;
    dev.recycle_texture(ta);
    dev.recycle_texture(tb);
    Ok(())
}

/// A buffer for `elements` packed floats that the GEMM can bind as uniform windows (the only
/// buffers with UNIFORM usage).
pub(crate) fn packed(dev: &Device, elements: u64) -> Result<Tensor> {
    Tensor::empty_of(dev, &[elements as usize], DType::F32, BufferKind::Windows)
}

/// Records the GEMM dispatches of a uniform-window plan over packed operands (shared with the
/// convolutions, whose packs are their im2col).
pub(crate) fn run_steps(
    steps: &[GemmStep],
    packed_a: &Tensor,
    packed_b: &Tensor,
    bias: (&wgpu::Buffer, u64),
    out: &Tensor,
) -> Result<()> {
    let dev = out.device();
    let (wa, wb) = (packed_a.binding().0, packed_b.binding().0);
    let (c, c_bytes) = out.binding();
    let window = |buffer, at: u64| (buffer, at * 4, WINDOW_FLOATS * 4);
    for step in steps {
        let mut ranges = Vec::with_capacity(2 * PAIRS + 2);
        ranges.extend(step.a_windows.iter().map(|&w| window(wa, w)));
        ranges.extend(step.b_windows.iter().map(|&w| window(wb, w)));
        ranges.extend([(bias.0, 0, bias.1), (c, 0, c_bytes)]);
        dev.dispatch_ranges(&step.launch, &ranges)?;
    }
    Ok(())
}
