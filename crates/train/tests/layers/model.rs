//! Sequential: shape checking at build time, naming, summary, freezing, errors.

use wgtrain::TrainError;
use wgtrain::layers::*;
use wgtrain::models::{Model, Network, Sequential};

use crate::harness::dev;

fn cnn() -> Sequential {
    Sequential::new(dev(), &[3, 32, 32])
        .add(Conv2d::new(32, [3, 3]).relu())
        .and_then(|s| s.add(MaxPool2d::new([2, 2])))
        .and_then(|s| s.add(Conv2d::new(64, [3, 3]).relu()))
        .and_then(|s| s.add(MaxPool2d::new([2, 2])))
        .and_then(|s| s.add(Conv2d::new(64, [3, 3]).relu()))
        .and_then(|s| s.add(Flatten::new()))
        .and_then(|s| s.add(Dense::new(64).relu()))
        .and_then(|s| s.add(Dense::new(10)))
        .unwrap()
}

#[test]
fn shapes_are_inferred_and_checked_when_layers_are_added() {
    let net = cnn();
    assert_eq!(net.output_shape(), &[10]);
    let rows = net.summary_rows();
    let shapes: Vec<Vec<usize>> = rows.iter().map(|r| r.output.clone()).collect();
    assert_eq!(shapes[0], [32, 30, 30]);
    assert_eq!(shapes[4], [64, 4, 4]);
    assert_eq!(shapes[5], [1024]);
    // The peers' CNN has 122,570 parameters.
    assert_eq!(rows.iter().map(|r| r.trainable).sum::<usize>(), 122_570);

    // A convolution on a flat input fails at add, naming the layer and both shapes.
    let err = Sequential::new(dev(), &[784]).add(Conv2d::new(8, [3, 3])).err().expect("a shape error");
    assert!(matches!(err, TrainError::Shape { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("conv2d_1") && msg.contains("[784]"), "{msg}");
    // A kernel larger than the image.
    assert!(Sequential::new(dev(), &[1, 2, 2]).add(Conv2d::new(1, [3, 3])).is_err());
    // A reshape that does not fit.
    assert!(Sequential::new(dev(), &[10]).add(Reshape::new(&[3, -1])).is_err());
}

#[test]
fn summary_lists_layers_shapes_and_counts_like_keras() {
    let net = Sequential::new(dev(), &[8])
        .add(Dense::new(4).relu())
        .unwrap()
        .add(BatchNorm::new())
        .unwrap()
        .add(Dense::new(2))
        .unwrap();
    let mut model = Model::new(net);
    model.freeze("dense_2").unwrap();
    let s = model.summary();
    assert!(s.contains("dense_1 (Dense)") && s.contains("(None, 4)") && s.contains("36"), "{s}");
    assert!(s.contains("batch_normalization_1 (BatchNormalization)"), "{s}");
    // 36 + 8 (gamma, beta) trainable; dense_2 (10) frozen and 8 running statistics not trainable.
    assert!(
        s.contains("Total params: 62") && s.contains("Trainable params: 44") && s.contains("Non-trainable params: 18"),
        "{s}"
    );
    assert!(model.freeze("nope").is_err());
}

#[test]
fn a_model_rejects_inputs_of_the_wrong_shape() {
    let mut model = Model::new(Sequential::new(dev(), &[4]).add(Dense::new(2)).unwrap());
    let x = wgtrain::tensor::Tensor::zeros(dev(), &[3, 5], wgtrain::tensor::DType::F32).unwrap();
    let err = model.predict(&x, 2).unwrap_err().to_string();
    assert!(err.contains("[3, 5]"), "{err}");
    let ok = wgtrain::tensor::Tensor::zeros(dev(), &[5, 4], wgtrain::tensor::DType::F32).unwrap();
    assert_eq!(model.predict(&ok, 2).unwrap().shape(), &[5, 2]);
    assert!(model.predict(&ok, 0).is_err());
}
