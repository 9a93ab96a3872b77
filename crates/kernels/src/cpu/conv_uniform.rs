//! Convolution on CPU adapters over the uniform-window GEMM ([`super::gemm_uniform`]): each
//! pass of [`super::conv_im2col`] with its operands packed by `conv_pack.wgsl` straight into the
//! window layout and C written in NCHW by the GEMM's store. The texture GEMM's version,
//! [`super::conv_texture`], is the default on CPU adapters; this one serves
//! `Strategy::CpuWindows`.

use super::conv_im2col::{PassGemm, chunk_images, pass_gemm};
use super::gemm_uniform::GemmPlan;
use super::output_layout::OutputLayout;
use crate::Launch;
use crate::ops::conv::ConvParams;
use crate::ops::conv::ConvPass;
use crate::ops::matmul::MatmulParams;

/// One conv pass over images `first .. first + count` as a uniform-window GEMM: `packs[0]`
/// packs A, `packs[1]` B (bindings: the source's buffer copied linearly into a texture from
/// element 0, packed panel; [`ConvPass`] says which tensors),
/// then [`GemmPlan::steps`] with `layout`.
#[derive(Debug, Clone)]
pub struct ConvGemm {
    /// The GEMM's shape and epilogue, per group (`batch` = groups).
    pub gemm: MatmulParams,
    /// Window geometry of the packed operands.
    pub plan: GemmPlan,
    /// Where C goes: NCHW rows of y or dx, or dw (accumulated after the first image chunk).
    pub layout: OutputLayout,
    /// Packs of A and B, to run before [`GemmPlan::steps`].
    pub packs: [Launch; 2],
}

/// `pass` over images `first .. first + count` of `p` (bias and activation from `p` apply to
/// the forward pass and to grad input, which is also conv_transpose2d's forward).
pub fn conv_gemm(p: &ConvParams, pass: ConvPass, first: u32, count: u32, align_bytes: u32) -> ConvGemm {
    let PassGemm { gemm, packs: [a, b], layout } = pass_gemm(p, pass, first, count);
    let plan = GemmPlan::new(&gemm, align_bytes);
    let packs = [a.launch(&plan.a, gemm.k), b.launch(&plan.b, gemm.k)];
    ConvGemm { gemm, plan, layout, packs }
}

/// Images per call of `pass` so that neither packed operand exceeds `max_bytes`
/// (at least one image; `None` when a single image already exceeds it).
pub fn images_per_call(p: &ConvParams, pass: ConvPass, align_bytes: u32, max_bytes: u64) -> Option<u32> {
    chunk_images(p.batch, max_bytes, |count| {
        let c = conv_gemm(p, pass, 0, count, align_bytes);
        c.plan.a.elements().max(c.plan.b.elements()) * 4
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::ConvGeometry;

    fn params(x: [usize; 4], w: [usize; 4], g: &ConvGeometry) -> ConvParams {
        ConvParams::with_output_extent(x, w, g)
    }

    #[test]
    fn image_chunks_keep_packs_under_the_limit() {
        let g = ConvGeometry { padding: [1, 1], ..Default::default() };
        let p = params([128, 64, 32, 32], [64, 64, 3, 3], &g);
        for pass in [ConvPass::Forward, ConvPass::GradInput, ConvPass::GradWeight] {
            let limit = 128 << 20;
            let count = images_per_call(&p, pass, 256, limit).unwrap();
            assert!((1..128).contains(&count), "{pass:?}: {count}");
            let c = conv_gemm(&p, pass, 0, count, 256);
            assert!(c.plan.a.elements().max(c.plan.b.elements()) * 4 <= limit);
            // Not needlessly small: twice as many images would not fit.
            let c2 = conv_gemm(&p, pass, 0, (count * 2).min(p.batch), 256);
            assert!(c2.plan.a.elements().max(c2.plan.b.elements()) * 4 > limit / 2);
        }
        assert_eq!(images_per_call(&p, ConvPass::Forward, 256, 1 << 10), None);
    }

    #[test]
    fn grad_weight_chunks_after_the_first_accumulate() {
        let p = params([4, 3, 8, 8], [5, 3, 3, 3], &ConvGeometry::default());
        assert!(!conv_gemm(&p, ConvPass::GradWeight, 0, 2, 256).layout.accumulate);
        assert!(conv_gemm(&p, ConvPass::GradWeight, 2, 2, 256).layout.accumulate);
        assert!(!conv_gemm(&p, ConvPass::Forward, 2, 2, 256).layout.accumulate);
    }
}
