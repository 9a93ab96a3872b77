//! # wgtrain-kernels
//!
//! The WGSL kernel library of wgtrain and everything that is about a kernel rather than about
//! memory: the shader sources (`source.rs` is the only `include_str!` site), their `naga`
//! validation, the pipeline cache, one *launcher* per GPU kernel (it turns a params struct into
//! a [`Launch`]: which entry point, which override constants, which parameter bytes, how many
//! workgroups) and, in [`reference`](mod@reference), a plain CPU *twin* of every kernel that takes the same
//! params struct. The twins are the definition of correct; the GPU is tested against them.
//!
//! Buffers, batching and tensors live one crate up (`wgtrain-tensor`): a launcher never sees a
//! buffer, so everything here can be unit-tested without a device.

#![warn(missing_docs)]

pub mod cpu;
mod error;
pub mod launch;
pub mod ops;
pub mod pipeline;
pub mod reference;
pub mod shader;
pub mod source;
pub mod validate;

pub use error::{KernelError, Result};
pub use launch::{Access, Constants, ElemKernel, GemmKernel, KernelSpec, Launch, MAX_RANK, PARAMS_SLOT_BYTES};
pub use pipeline::PipelineCache;
pub use shader::Shader;
