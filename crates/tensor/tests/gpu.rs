//! GPU-vs-twin tests of every kernel, in one binary so pipelines compile once per process.
//! The device is shared; tests that count pool or pipeline statistics open a private one.

mod gpu {
    pub mod harness;
    mod conv;
    mod elementwise;
    mod errors;
    mod execution;
    mod matmul;
    mod norm;
    mod pool;
    mod random_cast;
    mod views;
}
