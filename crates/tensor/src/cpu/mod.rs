//! The software-adapter wing: the forms of matmul, the convolutions and the streaming kernels
//! that the CPU strategies (`cpu-textures`, `cpu-windows`) run, and the state they keep.
//!
//! On llvmpipe every storage load with a per-lane address is a scalar loop, so these forms
//! read their operands from textures (vectorized image loads there) or through 64 KiB uniform
//! windows, after copies or packs that touch each element once (`docs/lavapipe-journal.md`).
//! Ops never call into the wing by strategy: they describe their forms and the planner
//! (`plan.rs`) picks one. The wing's kernels and their launchers are in
//! `wgtrain_kernels::cpu` and `shaders/cpu/`.
//!
//! - `state.rs`: what the wing keeps between ops (pooled textures, the pack limit), owned by
//!   the device's strategy object;
//! - `texture.rs`: linear operand textures, and the dispatch of a streaming kernel's texture
//!   form;
//! - `matmul.rs`: matmul's `Textures` and `Windows` GEMM forms;
//! - `conv_texture.rs`, `conv_uniform.rs`: the convolutions' forms over either GEMM.

mod conv_texture;
mod conv_uniform;
mod matmul;
pub(crate) mod state;
mod texture;

pub(crate) use conv_texture::conv_texture;
pub(crate) use conv_uniform::conv_uniform;
pub(crate) use matmul::{matmul_textures, matmul_windows};

use crate::device::Device;

impl Device {
    /// The largest packed (im2col) operand of a convolution on the software-adapter
    /// strategies, in bytes; a batch whose packs would be larger runs in image chunks.
    pub fn max_pack_bytes(&self) -> u64 {
        let limits = self.limits();
        let binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        self.inner.exec.wing.max_pack_bytes().min(binding)
    }
    /// Sets [`Device::max_pack_bytes`] (default 64 MiB): larger packs mean fewer dispatches and
    /// more pooled memory.
    pub fn set_max_pack_bytes(&self, bytes: u64) {
        self.inner.exec.wing.set_max_pack_bytes(bytes);
    }
}
