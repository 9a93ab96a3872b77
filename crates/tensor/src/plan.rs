//! The planner: ops describe the forms they can take, and the device, from its
//! [`Strategy`](crate::Strategy), says which to try in which order.
//!
//! Streaming kernels (elementwise maps, max pooling, Adam, the first pass of reductions) have
//! a GPU form reading storage buffers and, for software adapters, a form reading its
//! inputs from linear textures. An op describes both forms and never asks which adapter it
//! runs on; [`Device::run_streaming`] picks the first form the device's strategy takes, and a
//! form that cannot serve the call (misaligned operands, a kernel with no texture variant)
//! declines by being absent.

use wgtrain_kernels::Launch;

use crate::coop::CoopStatus;
use crate::coop_check;
use crate::device::Device;
use crate::error::{Result, TensorError};
use crate::strategy::Strategy;
use crate::tensor::Tensor;

/// The fewest elements a streaming kernel reads through a texture: below this the copy and the
/// pooled texture cost about what the storage loads they replace do.
const MIN_STREAM_ELEMENTS: usize = 4096;

/// The texture form of a streaming kernel: `inputs` become linear textures (its first
/// bindings), `outputs` stay buffers.
pub(crate) struct TexturedForm<'a> {
    pub launch: Launch,
    pub inputs: Vec<&'a Tensor>,
    pub outputs: Vec<(&'a wgpu::Buffer, u64)>,
}

/// Both forms of one streaming dispatch over `elements` elements.
pub(crate) struct Streaming<'a, 'b, F: FnOnce() -> TexturedForm<'a>> {
    /// The GPU form: storage buffers in the kernel's binding order. Every strategy can run it.
    pub gpu: (Launch, &'b [(&'a wgpu::Buffer, u64)]),
    /// Builds the software adapters' texture form (only when it is picked), or `None` where
    /// this call has none.
    pub textured: Option<F>,
    /// How many inputs the texture form reads as textures.
    pub texture_inputs: usize,
    /// Elements streamed: small calls stay on buffers (a texture copy costs more than it saves).
    pub elements: usize,
}

/// Which form of a streaming kernel the planner picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Storage buffers: every strategy can run it.
    Gpu,
    /// Inputs through linear textures: software adapters.
    Textured,
}

impl Device {
    /// The form for a call over `elements` elements whose texture form, if it has one, reads
    /// `texture_inputs` textures: the texture form under `CpuTextures` (whose storage-buffer
    /// loads are scalar loops per lane and cost 4-5x a texture load plus its copy) when the
    /// call has at least [`MIN_STREAM_ELEMENTS`] and the adapter can bind that many textures,
    /// else the GPU form.
    pub(crate) fn streaming_form(&self, elements: usize, texture_inputs: Option<usize>) -> Form {
        let max_textures = self.limits().max_storage_textures_per_shader_stage as usize;
        let textures = self.strategy() == Strategy::CpuTextures && elements >= MIN_STREAM_ELEMENTS;
        match texture_inputs {
            Some(n) if n <= max_textures && textures => Form::Textured,
            _ => Form::Gpu,
        }
    }

    /// Runs the form of `s` that [`Device::streaming_form`] picks.
    pub(crate) fn run_streaming<'a, F: FnOnce() -> TexturedForm<'a>>(&self, s: Streaming<'a, '_, F>) -> Result<()> {
        let inputs = s.textured.as_ref().map(|_| s.texture_inputs);
        match (self.streaming_form(s.elements, inputs), s.textured) {
            (Form::Textured, Some(build)) => {
                let t = build();
                self.dispatch_textured(&t.launch, &t.inputs, &t.outputs)
            }
            _ => self.dispatch(&s.gpu.0, s.gpu.1),
        }
    }
}

/// The GEMM forms of matmul and the convolutions, in the order a strategy tries them; a form
/// that cannot serve a call declines and the op tries the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GemmForm {
    /// Cooperative matrices (tensor cores, `matmul_coop.wgsl`): f16 matmuls on a GPU whose
    /// device verified the kernel (`coop.rs`); f32 calls and convolutions decline.
    Coop,
    /// The workgroup-tiled core (`matmul.wgsl`) and the implicit-GEMM convolutions: GPUs.
    Tiled,
    /// Operands through read-only textures (`gemm_texture.wgsl`); matmul declines operands it
    /// cannot read even after a copy.
    Textures,
    /// Packed panels through uniform windows (`gemm_uniform.wgsl`): serves every f32 call.
    Windows,
}

impl Device {
    /// The GEMM forms to try, in order. The software adapters' forms are f32 only, so the
    /// tiled form comes last there: it serves what they decline (f16 operands). On a GPU the
    /// cooperative form comes first where the device verified it.
    pub(crate) fn gemm_forms(&self) -> &'static [GemmForm] {
        match self.strategy() {
            Strategy::Gpu if self.coop_requested() => &[GemmForm::Coop, GemmForm::Tiled],
            Strategy::Gpu => &[GemmForm::Tiled],
            Strategy::CpuTextures => &[GemmForm::Textures, GemmForm::Windows, GemmForm::Tiled],
            Strategy::CpuWindows => &[GemmForm::Windows, GemmForm::Tiled],
        }
    }

    /// Records a GEMM call in the first of [`Device::gemm_forms`] that serves it: `serve(form)`
    /// records the call in that form and returns `Ok(true)`, or declines with `Ok(false)` and
    /// the next form is tried.
    pub(crate) fn serve_gemm(&self, op: &'static str, mut serve: impl FnMut(GemmForm) -> Result<bool>) -> Result<()> {
        for &form in self.gemm_forms() {
            if serve(form)? {
                return Ok(());
            }
        }
        let why = format!("no GEMM form of the {} strategy serves this call", self.strategy());
        Err(TensorError::Argument { op, why })
    }

    /// Whether the f16 matmul runs on cooperative matrices (tensor cores), and if not, why. On
    /// an adapter that has them, the first call checks the kernel against the tiled GEMM
    /// (two small products and a read-back; see `coop.rs`): the first f16 matmul makes it.
    pub fn coop(&self) -> &CoopStatus {
        self.inner.coop.get_or_init(|| coop_check::verify(self))
    }

    /// Whether this device asked for cooperative matrices (checked or not yet).
    pub(crate) fn coop_requested(&self) -> bool {
        self.inner.coop.get().is_none_or(|s| matches!(s, CoopStatus::Verified { .. }))
    }

    /// The most K-splits of a convolution's weight gradient on the tiled GEMM: a CPU adapter
    /// (running the GPU strategy in tests) has a few cores, which more partial sums only
    /// slow; a GPU fills its many cores with them.
    pub(crate) fn max_grad_weight_splits(&self) -> u32 {
        if self.is_cpu() { 4 } else { 512 }
    }
}
