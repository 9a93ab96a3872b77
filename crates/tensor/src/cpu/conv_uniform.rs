//! Convolutions on the uniform-window GEMM path (the `Windows` GEMM form): each pass is an explicit
//! im2col pack into uniform windows plus the uniform-window GEMM (see
//! `wgtrain_kernels::cpu::conv_im2col` for the formulation and why). The packs read their
//! sources from textures (llvmpipe loads those as vectors; storage loads are per-lane loops).

use wgtrain_kernels::cpu::conv_uniform::{conv_gemm, images_per_call};
use wgtrain_kernels::cpu::gemm_uniform::Panel;
use wgtrain_kernels::ops::conv::ConvParams;
use wgtrain_kernels::ops::conv::ConvPass;

use super::matmul::{packed, run_steps};
use crate::device::Resource;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// Runs `pass` of `p` into `out` (contiguous, offset 0). `operands` are the sources of the A
/// and B packs, dense: (w, x) forward, (w, dy) grad input, (dy, x) grad weight; `bias` is per
/// output channel.
pub(crate) fn conv_uniform(
    op: &'static str,
    p: &ConvParams,
    pass: ConvPass,
    operands: [&Tensor; 2],
    bias: Option<&Tensor>,
    out: &Tensor,
) -> Result<()> {
    let dev = out.device();
    let align = dev.limits().min_uniform_buffer_offset_alignment;
    let max_bytes = dev.max_pack_bytes();
    let Some(per_call) = images_per_call(p, pass, align, max_bytes) else {
        return Err(TensorError::Argument {
            op,
            why: format!("one image's im2col exceeds {max_bytes} bytes (the largest packed operand)"),
        });
    };
    let [a_src, b_src] = operands;
    // With no bias, any buffer but the output fills the unused binding.
    let bias = bias.unwrap_or(a_src).binding();
    // Each source goes into a texture once and serves every image chunk.
    let textures = [dev.tensor_texture(a_src)?, dev.tensor_texture(b_src)?];
    // The weights (A of forward and grad input) are the same in every image chunk: packed once.
    let mut weights: Option<(Panel, Tensor)> = None;
    let mut first = 0;
    while first < p.batch {
        let count = per_call.min(p.batch - first);
        let c = conv_gemm(p, pass, first, count, align);
        let pack = |launch, src: &wgpu::TextureView, elements| -> Result<Tensor> {
            let dst = packed(dev, elements)?;
            let (buffer, bytes) = dst.binding();
            dev.dispatch_resources(launch, &[Resource::Texture(src), Resource::Buffer((buffer, 0, bytes))])?;
            Ok(dst)
        };
        let packed_a = match &weights {
            Some((panel, packed)) if *panel == c.plan.a => packed.clone(),
            _ => pack(&c.packs[0], &textures[0].view, c.plan.a.elements())?,
        };
        if pass != ConvPass::GradWeight {
            weights = Some((c.plan.a, packed_a.clone()));
        }
        let packed_b = pack(&c.packs[1], &textures[1].view, c.plan.b.elements())?;
        run_steps(&c.plan.steps(&c.gemm, &c.layout), &packed_a, &packed_b, bias, out)?;
        first += count;
    }
    textures.into_iter().for_each(|t| dev.recycle_texture(t));
    Ok(())
}
