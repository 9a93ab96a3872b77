//! CPU twins of every GPU kernel: plain loops written from the math (not ported from the WGSL),
//! generic over f32 and f64, taking the same params structs as the launchers. They are the test
//! oracle: where a twin and a kernel disagree, the twin is right by definition.

mod augment;
mod cells;
mod conv;
mod fault;
mod float;
mod index;
mod map;
mod matmul;
mod norm;
mod optim;
mod pool;
mod random;
mod reduce;
mod softmax;

pub use augment::augment_images;
pub use cells::{gru_cell, gru_cell_grad, lstm_cell, lstm_cell_grad};
pub use conv::{conv2d_forward, conv2d_grad_input, conv2d_grad_weight};
pub use fault::{check_finite, check_indices};
pub use float::{Float, erf};
pub use index::{embedding, embedding_grad, gather, gather_grad, one_hot};
pub use map::{binary, strided_copy, ternary, unary, unary_scalar};
pub use matmul::matmul;
pub use norm::{
    NormBackward, NormForward, batch_norm_backward, batch_norm_eval, batch_norm_forward, batch_norm_update_running,
    layer_norm_backward, layer_norm_forward,
};
pub use optim::{adagrad, adam, rmsprop, sgd};
pub use pool::{
    avg_pool2d_backward, avg_pool2d_forward, global_avg_pool_backward, global_avg_pool_forward, max_pool2d_backward,
    max_pool2d_forward,
};
pub use random::{dropout, philox4x32_10, random_fill};
pub use reduce::{argreduce, argreduce_pass, reduce, reduce_pass, variance};
pub use softmax::{softmax, softmax_backward, xent_backward, xent_forward};

/// Offset of row-major coordinate `idx` (over `dims`) in an operand with `strides`.
fn offset_of(dims: &[usize], strides: &[usize], base: usize, linear: usize) -> usize {
    let mut rem = linear;
    let mut off = base;
    for d in (0..dims.len()).rev() {
        off += (rem % dims[d]) * strides[d];
        rem /= dims[d];
    }
    off
}
