//! Layers and Sequential models on the GPU: each layer's forward against a host computation,
//! shape checking at build time, summary, freezing and weight checkpoints.

#[path = "layers/harness.rs"]
mod harness;

mod layers {
    mod checkpoint;
    mod forward;
    mod model;
}
