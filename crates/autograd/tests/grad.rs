//! Autograd tests on the GPU: gradchecks of every op against finite differences of the CPU
//! twins in f64, graph semantics, errors, training and memory. One binary, so the device and
//! its pipelines are created once.

#[path = "grad/harness.rs"]
mod harness;
#[path = "grad/twin.rs"]
mod twin;

mod grad {
    mod custom;
    mod elementwise;
    mod graph;
    mod linalg;
    mod mixed;
    mod nn;
    mod reduce;
    mod shape;
    mod training;
}
