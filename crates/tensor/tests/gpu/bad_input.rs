//! The bad-input suite of the tensor layer (issue 20, item 10): malformed calls of every op
//! family, each of which must give an error naming the op and what is wrong, never a panic and
//! never a silent result. Degenerate-but-valid inputs (empty extents) must give the right,
//! empty or neutral, result.

use wgtrain_tensor::{BinaryOp, Conv2dOptions, DType, Pool2dOptions, Tensor, TensorError, UnaryOp};

use super::harness::dev;

fn z(shape: &[usize]) -> Tensor {
    Tensor::zeros(dev(), shape, DType::F32).unwrap()
}

/// An error whose message names `op` and contains every one of `words`.
#[track_caller]
fn refused<T: std::fmt::Debug>(r: wgtrain_tensor::Result<T>, op: &str, words: &[&str]) {
    let e = r.expect_err("an error").to_string();
    assert!(e.contains(op), "the error should name {op:?}: {e}");
    for w in words {
        assert!(e.contains(w), "the error should mention {w:?}: {e}");
    }
}

#[test]
fn shapes_whose_element_count_overflows_are_refused_at_creation() {
    let huge = [3, 1usize << 63];
    refused(Tensor::zeros(dev(), &huge, DType::F32), "empty", &["fits in usize"]);
    refused(Tensor::from_slice(dev(), &[1.0f32], &huge), "from_slice", &["fits in usize"]);
    refused(z(&[1, 1]).broadcast_to(&huge), "broadcast_to", &["fits in usize"]);
    refused(z(&[1, 1]).expand(&huge), "broadcast_to", &[]);
    refused(z(&[4]).reshape(&[usize::MAX, 1 << 62, 8]), "reshape", &[]);
    refused(z(&[4]).reshape(&[1 << 62, 8]), "reshape", &["fits in usize"]);
    let deep = [1usize; 9];
    refused(Tensor::zeros(dev(), &deep, DType::F32), "empty", &["rank"]);
}

#[test]
fn reductions_over_empty_or_bad_axes_do_not_panic() {
    // Empty reductions: sum 0, mean NaN (0/0, as PyTorch), max an error (no identity).
    let e = z(&[3, 0]);
    assert_eq!(e.sum(&[1], false).unwrap().to_vec::<f32>().unwrap(), [0.0; 3]);
    assert!(e.mean(&[1], false).unwrap().to_vec::<f32>().unwrap().iter().all(|v| v.is_nan()));
    assert_eq!(e.sum_all().unwrap().to_vec::<f32>().unwrap(), [0.0]);
    refused(e.max(&[1], false), "max", &["empty"]);
    refused(e.argmax(1, false), "argmax", &["empty"]);
    refused(z(&[2, 3]).sum(&[2], false), "sum", &["axis 2"]);
    refused(z(&[2, 3]).sum(&[0, 0], false), "sum", &["repeat"]);
    refused(z(&[2, 3]).argmax(-3, false), "argmax", &["axis -3"]);
}

#[test]
fn views_with_bad_arguments_are_refused() {
    let x = z(&[4, 5]);
    refused(x.slice(0, 3, 9, 1), "slice", &["9"]);
    refused(x.slice(0, 3, 2, 1), "slice", &[]);
    refused(x.slice(2, 0, 1, 1), "slice", &["axis 2"]);
    refused(x.slice(0, 0, 4, 0), "slice", &["step"]);
    refused(x.permute(&[0, 0]), "permute", &[]);
    refused(x.permute(&[0]), "permute", &[]);
    refused(x.transpose(0, 7), "transpose", &[]);
    refused(x.squeeze(0), "squeeze", &[]);
    refused(x.unsqueeze(5), "unsqueeze", &[]);
    refused(x.reshape(&[3, 7]), "reshape", &["20 elements"]);
    refused(x.reshape(&[usize::MAX, usize::MAX]), "reshape", &[]);
    refused(Tensor::concat(&[], 0), "concat", &[]);
    refused(Tensor::concat(&[&x, &z(&[4, 6])], 0), "concat", &[]);
}

#[test]
fn nn_ops_with_bad_arguments_are_refused() {
    let x = z(&[2, 3, 8, 8]);
    let w = z(&[4, 3, 3, 3]);
    let stride0 = Conv2dOptions { stride: [0, 1], ..Default::default() };
    refused(x.conv2d(&w, None, &stride0), "conv2d", &["stride"]);
    refused(x.conv2d(&z(&[4, 3, 9, 9]), None, &Conv2dOptions::default()), "conv2d", &[]);
    refused(x.conv2d(&w, Some(&z(&[5])), &Conv2dOptions::default()), "conv2d", &["[5]"]);
    refused(z(&[3, 8, 8]).conv2d(&w, None, &Conv2dOptions::default()), "conv2d", &["[3, 8, 8]"]);
    refused(x.max_pool2d(&Pool2dOptions::new([0, 2])), "max_pool2d", &[]);
    refused(x.max_pool2d(&Pool2dOptions::new([9, 9])), "max_pool2d", &[]);
    refused(x.avg_pool2d(&Pool2dOptions { kernel: [2, 2], stride: [0, 0], padding: [0, 0] }), "avg_pool2d", &[]);
    refused(x.softmax(4), "softmax", &[]);
    refused(z(&[2, 3]).matmul(&z(&[4])), "matmul", &[]);
    refused(x.dropout(1.5, 0), "dropout", &["1.5"]);
    refused(x.dropout(f32::NAN, 0), "dropout", &["NaN"]);
    refused(Tensor::rand_uniform(dev(), &[4], 1.0, 0.0, 0), "rand_uniform", &[]);
    refused(Tensor::rand_normal(dev(), &[4], 0.0, -1.0, 0), "rand_normal", &[]);
    refused(Tensor::rand_normal(dev(), &[4], f32::NAN, 1.0, 0), "rand_normal", &[]);
    refused(Tensor::arange(dev(), 0.0, f32::INFINITY, 4), "arange", &["inf"]);
}

#[test]
fn read_backs_of_the_wrong_type_or_shape_are_refused() {
    let x = z(&[2, 2]);
    refused(x.item::<f32>(), "item", &["[2, 2]"]);
    refused(x.to_vec::<u32>(), "to_vec", &["F32"]);
    let u = Tensor::zeros(dev(), &[2], DType::U32).unwrap();
    assert!(matches!(u.to_vec::<f32>(), Err(TensorError::DType { .. })));
}

#[test]
fn every_op_family_on_empty_extents_gives_an_empty_or_neutral_result() {
    let e = z(&[0, 3]);
    assert_eq!(e.unary(UnaryOp::Relu, 0.0, 0.0).unwrap().shape(), [0, 3]);
    assert_eq!(e.binary(BinaryOp::Add, &z(&[1, 3])).unwrap().shape(), [0, 3]);
    assert_eq!(e.softmax(1).unwrap().shape(), [0, 3]);
    assert_eq!(e.matmul(&z(&[3, 4])).unwrap().shape(), [0, 4]);
    // An inner extent of 0 is an empty sum: every output is 0, as NumPy and PyTorch.
    let k0 = z(&[2, 0]).matmul(&z(&[0, 3])).unwrap();
    assert_eq!(k0.to_vec::<f32>().unwrap(), [0.0; 6]);
    assert_eq!(e.sum(&[0], false).unwrap().to_vec::<f32>().unwrap(), [0.0; 3]);
    assert_eq!(e.sum_all().unwrap().to_vec::<f32>().unwrap(), [0.0]);
    assert!(e.mean_all().unwrap().to_vec::<f32>().unwrap()[0].is_nan());
    refused(e.max_all(), "max", &["empty"]);
    refused(e.min(&[0], false), "min", &["empty"]);
    assert_eq!(Tensor::concat(&[&e, &z(&[2, 3])], 0).unwrap().shape(), [2, 3]);
    assert_eq!(e.transpose(0, 1).unwrap().contiguous().unwrap().shape(), [3, 0]);
    assert!(e.to_vec::<f32>().unwrap().is_empty());
    let imgs = z(&[0, 3, 8, 8]);
    assert_eq!(imgs.max_pool2d(&Pool2dOptions::new([2, 2])).unwrap().y.shape(), [0, 3, 4, 4]);
    assert_eq!(imgs.conv2d(&z(&[4, 3, 3, 3]), None, &Conv2dOptions::default()).unwrap().shape(), [0, 4, 6, 6]);
    let ids = Tensor::zeros(dev(), &[0], DType::U32).unwrap();
    assert_eq!(ids.one_hot(5).unwrap().shape(), [0, 5]);
    assert_eq!(Tensor::embedding(&ids, &z(&[5, 2])).unwrap().shape(), [0, 2]);
}

#[test]
fn mismatched_operands_are_refused() {
    let x = z(&[2, 3]);
    refused(x.binary(BinaryOp::Add, &z(&[4])), "binary", &["[2, 3]", "[4]"]);
    let u = Tensor::zeros(dev(), &[2, 3], DType::U32).unwrap();
    refused(x.binary(BinaryOp::Add, &u), "binary", &[]);
    refused(u.unary(UnaryOp::Relu, 0.0, 0.0), "unary", &[]);
    refused(x.where_(&x, &z(&[5])), "ternary", &[]);
    refused(x.assign(&z(&[3, 2])), "assign", &[]);
    refused(x.assign(&u), "assign", &[]);
    refused(x.gather(1, &x), "gather", &[]);
    refused(x.gather(3, &u), "gather", &[]);
    refused(Tensor::embedding(&x, &z(&[5, 2])), "embedding", &[]);
    refused(x.one_hot(3), "one_hot", &[]);
    refused(u.one_hot(0), "one_hot", &[]);
    refused(x.pad(&[(1, 1)], 0.0), "pad", &[]);
    refused(x.layer_norm(&[4], None, None, 1e-5).map(|o| o.y), "layer_norm", &[]);
    refused(x.take_rows(&[2]), "take_rows", &["2"]);
    refused(x.cross_entropy_with_logits(&x, &Default::default()), "cross_entropy", &[]);
    refused(
        x.cross_entropy_with_logits(&Tensor::zeros(dev(), &[3], DType::U32).unwrap(), &Default::default()),
        "cross_entropy",
        &[],
    );
}

#[test]
fn axis_arguments_on_a_scalar_are_refused() {
    let s = z(&[]);
    refused(Tensor::concat(&[&s, &s], 0), "concat", &["rank 0"]);
    refused(s.sum(&[0], false), "sum", &["rank 0"]);
    refused(s.argmax(0, false), "argmax", &["rank 0"]);
    refused(s.squeeze(0), "squeeze", &["rank 0"]);
    refused(s.slice(0, 0, 0, 1), "slice", &["rank 0"]);
    refused(s.transpose(0, 0), "transpose", &["rank 0"]);
    let idx = Tensor::zeros(dev(), &[], DType::U32).unwrap();
    refused(s.gather(0, &idx), "gather", &["rank 0"]);
    // Whole-tensor reductions of a scalar are the scalar.
    assert_eq!(Tensor::from_slice(dev(), &[2.5f32], &[]).unwrap().sum_all().unwrap().item::<f32>().unwrap(), 2.5);
}

#[test]
fn sizes_that_would_wrap_are_refused() {
    refused(Tensor::zeros(dev(), &[1 << 62], DType::F32), "alloc", &[]);
    let one = Tensor::ones(dev(), &[1, 1], DType::F32).unwrap();
    let (a, b) = (one.broadcast_to(&[1, 1 << 32]).unwrap(), one.broadcast_to(&[1 << 32, 1]).unwrap());
    refused(a.matmul(&b), "matmul", &["2^32"]);
}

#[test]
fn transposed_convolutions_with_bad_geometry_are_refused() {
    let x = z(&[1, 1, 4, 4]);
    let w = z(&[1, 1, 3, 3]);
    let dilated = Conv2dOptions { dilation: [2, 2], ..Default::default() };
    // output_padding >= stride (allowed when < dilation) whose conv does not give back 4x4.
    refused(x.conv_transpose2d(&w, None, &dilated, [1, 1]), "conv_transpose2d", &["output_padding"]);
    let stride0 = Conv2dOptions { stride: [0, 1], ..Default::default() };
    refused(x.conv_transpose2d(&w, None, &stride0, [0, 0]), "conv_transpose2d", &["stride"]);
    refused(z(&[1, 1, 0, 4]).conv_transpose2d(&w, None, &Conv2dOptions::default(), [0, 0]), "conv_transpose2d", &[]);
    refused(x.conv_transpose2d(&z(&[1, 1, 0, 3]), None, &Conv2dOptions::default(), [0, 0]), "conv_transpose2d", &[]);
}
