//! The software-adapter wing: launchers of the kernels that only the CPU strategies
//! (`cpu-textures`, `cpu-windows`) run, with their WGSL in `shaders/cpu/`.
//!
//! On llvmpipe every storage load with a per-lane address is a scalar loop and workgroup memory
//! is slow, so the GPU path's implicit-GEMM convolutions and workgroup-tiled matmul crawl there
//! (`docs/lavapipe-journal.md`). These launchers reformulate the same ops for that machine:
//! - two GEMMs, one over operands copied into read-only textures ([`gemm_texture`], the
//!   default) and one over packed panels read through 64 KiB uniform windows
//!   ([`gemm_uniform`], for what textures cannot take), both storing C where an
//!   [`output_layout::OutputLayout`] says;
//! - convolutions as explicit im2col packs ([`conv_im2col`]) or, for stride-1 passes, shifted
//!   copies of the source ([`conv_shift`]), feeding either GEMM ([`conv_texture`],
//!   [`conv_uniform`]).
//!
//! The arithmetic is the GPU path's: both are tested against the same CPU twins in
//! [`crate::reference`]. The texture forms of the streaming kernels (maps, Adam, max pooling,
//! reductions) are a few lines each and stay beside their GPU launchers in [`crate::ops`];
//! their WGSL is in `shaders/cpu/`.

pub mod conv_im2col;
pub mod conv_shift;
pub mod conv_texture;
pub mod conv_uniform;
pub mod gemm_texture;
pub mod gemm_uniform;
pub mod output_layout;
