//! The planner's first family: streaming kernels (elementwise maps, max pooling, Adam), which
//! have a GPU form reading storage buffers and, for software adapters, a form reading its
//! inputs from linear textures. An op describes both forms and never asks which adapter it
//! runs on; [`Device::run_streaming`] picks the first form the device's strategy takes, and a
//! form that cannot serve the call (misaligned operands, a kernel with no texture variant)
//! declines by being absent.

use wgtrain_kernels::Launch;

use crate::device::Device;
use crate::error::Result;
use crate::tensor::Tensor;

/// The texture form of a streaming kernel: `inputs` become linear textures (its first
/// bindings), `outputs` stay buffers.
pub(crate) struct TexturedForm<'a> {
    pub launch: Launch,
    pub inputs: Vec<&'a Tensor>,
    pub outputs: Vec<(&'a wgpu::Buffer, u64)>,
}

/// Both forms of one streaming dispatch over `elements` elements.
pub(crate) struct Streaming<'a> {
    /// The GPU form: storage buffers in the kernel's binding order. Every strategy can run it.
    pub gpu: (Launch, Vec<(&'a wgpu::Buffer, u64)>),
    /// The software adapters' texture form, or `None` where this call has none.
    pub textured: Option<TexturedForm<'a>>,
    /// Elements streamed: small calls stay on buffers (a texture copy costs more than it saves).
    pub elements: usize,
}

impl Device {
    /// Runs the first form of `s` this device's strategy takes: the texture form under
    /// `CpuTextures` when the call is large enough and the form exists, else the GPU form.
    pub(crate) fn run_streaming(&self, s: Streaming<'_>) -> Result<()> {
        // A form declines where the adapter cannot bind its textures.
        let max_textures = self.limits().max_storage_textures_per_shader_stage as usize;
        let textured = s.textured.filter(|t| t.inputs.len() <= max_textures && self.streams_textures(s.elements));
        match textured {
            Some(t) => self.dispatch_textured(&t.launch, &t.inputs, &t.outputs),
            None => self.dispatch(&s.gpu.0, &s.gpu.1),
        }
    }
}
