//! GPU-vs-twin tests of every kernel, in one binary so pipelines compile once per process.
//! The device is shared; tests that count pool or pipeline statistics open a private one.

mod gpu {
    mod augment;
    mod bad_input;
    mod cells;
    mod conv;
    mod conv_f16;
    mod elementwise;
    mod elementwise_f16;
    mod errors;
    mod execution;
    mod faults;
    pub mod harness;
    mod index;
    mod loss_scale;
    mod matmul;
    mod matmul_f16;
    mod norm;
    mod optim;
    mod optim_f16_copy;
    mod pipeline_cache;
    mod pool;
    mod pool_f16;
    mod random_cast;
    mod random_f16;
    mod reduce;
    mod softmax;
    mod views;
    mod wide_f16;
}
