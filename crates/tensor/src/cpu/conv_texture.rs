//! Convolutions on the texture GEMM path (the `Textures` GEMM form, the CPU-adapter default): per
//! image chunk, each operand is written by a "pack" (an im2col pack into a plain k-major
//! matrix, or for stride-1 passes the shifted copies of `conv_shift`), copied into a texture,
//! and one `gemm_texture` dispatch computes the pass with C stored in NCHW (see
//! `wgtrain_kernels::cpu::conv_texture` for the formulation and why).

use wgtrain_kernels::Launch;
use wgtrain_kernels::cpu::conv_texture::{conv_texture as plan, images_per_call};
use wgtrain_kernels::cpu::gemm_texture::TextureOperand;
use wgtrain_kernels::ops::conv::ConvParams;
use wgtrain_kernels::ops::conv::ConvPass;

use super::state::OperandTexture;
use crate::device::{Device, Resource};
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// Runs `pass` of `p` into `out` (contiguous, offset 0). `operands` are the sources of the A
/// and B packs, dense: (w, x) forward, (w, dy) grad input, (dy, x) grad weight; `bias` is per
/// output channel. `Ok(false)`: declined, because one image's packs exceed the pack limit or
/// the tallest texture (the `Windows` form may still take it, in smaller windows).
pub(crate) fn conv_texture(
    p: &ConvParams,
    pass: ConvPass,
    operands: [&Tensor; 2],
    bias: Option<&Tensor>,
    out: &Tensor,
) -> Result<bool> {
    let dev = out.device();
    let max_bytes = dev.max_pack_bytes();
    let max_height = dev.limits().max_texture_dimension_2d;
    let Some(per_call) = images_per_call(p, pass, max_bytes, max_height) else {
        return Ok(false);
    };
    let [a_src, b_src] = operands;
    // With no bias, any buffer but the output fills the unused binding.
    let bias = bias.unwrap_or(a_src).binding();
    // Each source goes into a texture once and serves every image chunk.
    let sources = [dev.tensor_texture(a_src)?, dev.tensor_texture(b_src)?];
    // The weights (A of forward and grad input) are the same in every image chunk: packed once.
    let mut weights: Option<(TextureOperand, OperandTexture)> = None;
    let mut first = 0;
    while first < p.batch {
        let count = per_call.min(p.batch - first);
        let c = plan(p, pass, first, count);
        let a = match weights.take() {
            Some((operand, texture)) if operand == c.operands[0] => texture,
            other => {
                if let Some((_, stale)) = other {
                    dev.recycle_texture(stale);
                }
                packed(dev, &c.packs[0], &sources[0], c.packed[0], &c.operands[0])?
            }
        };
        let b = packed(dev, &c.packs[1], &sources[1], c.packed[1], &c.operands[1])?;
        let scratch = match c.texture.scratch_elements(&c.gemm) {
            0 => None,
            elements => Some(Tensor::empty(dev, &[elements as usize], DType::F32)?),
        };
        let (c_buffer, c_bytes) = scratch.as_ref().unwrap_or(out).binding();
        dev.dispatch_resources(
            &c.texture.launch,
            &[
                Resource::Texture(&a.view),
                Resource::Texture(&b.view),
                Resource::Buffer((bias.0, 0, bias.1)),
                Resource::Buffer((c_buffer, 0, c_bytes)),
            ],
        )?;
        if let (Some(sum), Some(scratch)) = (&c.texture.split_sum, &scratch) {
            dev.dispatch(sum, &[scratch.binding(), out.binding()])?;
        }
        dev.recycle_texture(b);
        if pass == ConvPass::GradWeight {
            dev.recycle_texture(a);
        } else {
            weights = Some((c.operands[0], a));
        }
        first += count;
    }
    if let Some((_, texture)) = weights {
        dev.recycle_texture(texture);
    }
    sources.into_iter().for_each(|t| dev.recycle_texture(t));
    Ok(true)
}

/// Runs `pack` (source texture, a new buffer of `elements` floats) and copies its result into
/// a texture laid out as `operand`.
fn packed(
    dev: &Device,
    pack: &Launch,
    src: &OperandTexture,
    elements: u64,
    operand: &TextureOperand,
) -> Result<OperandTexture> {
    let dst = Tensor::empty(dev, &[elements as usize], DType::F32)?;
    let (buffer, bytes) = dst.binding();
    dev.dispatch_resources(pack, &[Resource::Texture(&src.view), Resource::Buffer((buffer, 0, bytes))])?;
    dev.operand_texture(buffer, operand.first, operand.texels)
}
