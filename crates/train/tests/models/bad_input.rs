//! The bad-input suite of model building (issue 20, items 9 and 10): layers with nonsense
//! arguments and inputs with a zero extent are refused when the layer is added, naming the
//! layer, as Keras does; none of them panics or builds a model that "trains" on nothing.

use wgtrain::TrainError;
use wgtrain::prelude::*;

use crate::harness::dev;

/// `add` on a fresh stack of `input` fails with an error naming `layer` and every one of `words`.
#[track_caller]
fn refused_on(input: &[usize], layer: impl Layer + 'static, words: &[&str]) {
    let err = match Sequential::new(dev(), input).add(layer) {
        Ok(_) => panic!("a layer on {input:?} was accepted"),
        Err(e) => e,
    };
    let msg = err.to_string();
    for w in words {
        assert!(msg.contains(w), "the error should mention {w:?}: {msg}");
    }
}

#[test]
fn layers_with_zero_units_filters_or_sizes_are_refused() {
    refused_on(&[4], Dense::new(0), &["dense", "0"]);
    refused_on(&[3, 8, 8], Conv2d::new(0, [3, 3]), &["conv2d"]);
    refused_on(&[3, 8, 8], Conv2d::new(4, [0, 3]), &["conv2d"]);
    refused_on(&[3, 8, 8], Conv2d::new(4, [3, 3]).strides([0, 1]), &["conv2d", "stride"]);
    refused_on(&[3, 8, 8], Conv2d::new(4, [3, 3]).dilation([0, 1]), &["conv2d"]);
    refused_on(&[3, 8, 8], Conv2d::new(4, [9, 9]), &["conv2d"]);
    refused_on(&[4, 8, 8], Conv2d::new(4, [3, 3]).groups(3), &["conv2d"]);
    refused_on(&[3, 8, 8], ConvTranspose2d::new(0, [2, 2]), &["conv2d_transpose"]);
    refused_on(&[3, 8, 8], DepthwiseConv2d::new([3, 3]).depth_multiplier(0), &["depthwise"]);
    refused_on(&[3, 8, 8], MaxPool2d::new([0, 2]), &["max_pooling2d"]);
    refused_on(&[3, 8, 8], MaxPool2d::new([9, 9]), &["max_pooling2d"]);
    refused_on(&[3, 8, 8], AvgPool2d::new([2, 2]).strides([0, 2]), &["average_pooling2d"]);
    refused_on(&[5], Embedding::new(0, 4), &["embedding"]);
    refused_on(&[5], Embedding::new(10, 0), &["embedding"]);
    refused_on(&[5, 3], Lstm::new(0), &["lstm"]);
    refused_on(&[5, 3], Gru::new(0), &["gru"]);
    refused_on(&[4], Reshape::new(&[3, -1]), &["reshape"]);
    refused_on(&[4], Reshape::new(&[0, -1]), &["reshape"]);
    refused_on(&[4], Reshape::new(&[-1, -1]), &["reshape"]);
    refused_on(&[4], Normalization::new(&[0.0; 3], &[1.0; 3]), &["normalization"]);
    refused_on(&[3], Normalization::new(&[0.0; 3], &[1.0, 0.0, 1.0]), &["normalization", "std"]);
    refused_on(&[3], Normalization::new(&[0.0; 3], &[1.0, f32::NAN, 1.0]), &["normalization"]);
}

#[test]
fn stochastic_and_normalizing_layers_refuse_nonsense_rates() {
    for rate in [-0.1, 1.0, 1.5, f32::NAN] {
        refused_on(&[4], Dropout::new(rate), &["dropout"]);
    }
    refused_on(&[4], LayerNorm::new().eps(0.0), &["layer_normalization", "eps"]);
    refused_on(&[3, 4, 4], BatchNorm::new().eps(-1.0), &["batch_normalization", "eps"]);
    refused_on(&[3, 4, 4], BatchNorm::new().momentum(f32::NAN), &["batch_normalization", "momentum"]);
    refused_on(&[3, 4, 4], BatchNorm::new().momentum(1.5), &["batch_normalization", "momentum"]);
}

#[test]
fn inputs_with_a_zero_extent_are_refused_at_the_first_layer() {
    refused_on(&[0], Dense::new(4), &["[0]"]);
    refused_on(&[3, 0, 8], Conv2d::new(4, [1, 1]), &["[3, 0, 8]"]);
    refused_on(&[0, 8], Flatten::new(), &["[0, 8]"]);
    let mut g = Functional::new(dev());
    let x = g.input("x", &[4, 0]);
    assert!(matches!(g.apply(Dense::new(2), x), Err(TrainError::Shape { .. })));
}

#[test]
fn a_layer_name_used_twice_is_refused() {
    let named = |name: &str| {
        let mut d = Dense::new(3);
        d.set_name(name.to_string());
        d
    };
    let net = Sequential::new(dev(), &[4]).add(named("a")).unwrap();
    let err = net.add(named("a")).err().expect("a duplicate name");
    assert!(err.to_string().contains("\"a\""), "{err}");
}

#[test]
fn oversized_and_empty_kernels_are_refused_before_any_work() {
    refused_on(&[3, 8, 8], ConvTranspose2d::new(4, [0, 3]), &["conv2d_transpose", "kernel"]);
    // An orthogonal recurrent kernel of 100k units (160 GB) is refused by the device's limit
    // before its basis is built on the host.
    let err = Sequential::new(dev(), &[10, 8]).add(SimpleRnn::new(100_000)).err().expect("refused").to_string();
    assert!(err.contains("max_buffer_size"), "{err}");
}
