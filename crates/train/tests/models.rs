//! The training crate on the GPU without an optimizer: each layer's forward against a host
//! computation, shape checking at build time, Sequential and Functional models, summary,
//! freezing, weight checkpoints and TensorBoard event files.

#[path = "models/harness.rs"]
mod harness;

mod models {
    mod bad_input;
    mod checkpoint;
    mod checkpoint_crash;
    mod forward;
    mod load_model;
    mod masking;
    mod model;
    mod normalization;
    mod sequence_layers;
    mod tensorboard;
}
