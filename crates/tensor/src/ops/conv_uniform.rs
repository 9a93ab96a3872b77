//! Convolutions on the CPU-adapter GEMM path (`GemmPath::Uniform`): each pass is an explicit
//! im2col pack into uniform windows plus the uniform-window GEMM (see
//! `wgtrain_kernels::ops::conv_uniform` for the formulation and why).

use wgtrain_kernels::ops::conv::ConvParams;
use wgtrain_kernels::ops::conv_uniform::{ConvPass, conv_gemm, images_per_call};

use super::matmul::run_steps;
use crate::dtype::DType;
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
    let mut first = 0;
    while first < p.batch {
        let count = per_call.min(p.batch - first);
        let c = conv_gemm(p, pass, first, count, align);
        let packed_a = Tensor::empty(dev, &[c.plan.a.elements() as usize], DType::F32)?;
        let packed_b = Tensor::empty(dev, &[c.plan.b.elements() as usize], DType::F32)?;
        for (pack, src, dst) in [(&c.packs[0], a_src, &packed_a), (&c.packs[1], b_src, &packed_b)] {
            dev.dispatch(pack, &[src.binding(), dst.binding()])?;
        }
        run_steps(&c.plan.steps(&c.gemm, &c.layout), &packed_a, &packed_b, bias, out)?;
        first += count;
    }
    Ok(())
}
