//! Ready-made models: the networks of the example trainer, for CIFAR-10 or any images.

use crate::error::Result;
use crate::layers::{
    Activation, ActivationLayer, BatchNorm, Conv2d, Dense, Flatten, GlobalAvgPool2d, MaxPool2d, Normalization, Padding,
};
use crate::models::{Functional, Model, Sequential};
use wgtrain_tensor::Device;

/// CIFAR-10's per-channel (R, G, B) mean of pixel values in [0, 1].
pub const MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
/// CIFAR-10's per-channel (R, G, B) standard deviation of pixel values in [0, 1].
pub const STD: [f32; 3] = [0.2470, 0.2435, 0.2616];

/// What a zoo network is built for: images of `shape` `[channels, height, width]` (pixels in
/// [0, 1]) normalized per channel by `mean` and `std`, sorted into `classes` classes.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTask {
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    /// Number of classes (the logits' width).
    pub classes: usize,
    /// Per-channel mean of the pixel values.
    pub mean: Vec<f32>,
    /// Per-channel standard deviation of the pixel values.
    pub std: Vec<f32>,
}

impl ImageTask {
    /// CIFAR-10: 32x32 RGB images of 10 classes, with CIFAR-10's channel statistics.
    pub fn cifar10() -> ImageTask {
        ImageTask { shape: [3, 32, 32], classes: 10, mean: MEAN.to_vec(), std: STD.to_vec() }
    }
}

/// The classic Keras CIFAR-10 CNN (Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10, 122,570
/// parameters, the peers' `cnn_step` model) after a per-channel normalization.
pub fn cifar10_cnn(dev: &Device, seed: u64) -> Result<Model> {
    cnn(dev, &ImageTask::cifar10(), seed)
}

/// The Keras CNN of [`cifar10_cnn`] for any images of at least 20x20 pixels (28x28 MNIST, a
/// folder of pictures): its three valid 3x3 convolutions and two poolings need that much.
pub fn cnn(dev: &Device, task: &ImageTask, seed: u64) -> Result<Model> {
    let net = Sequential::new(dev, &task.shape)
        .seed(seed)
        .add(Normalization::new(&task.mean, &task.std))?
        .add(Conv2d::new(32, [3, 3]).relu())?
        .add(MaxPool2d::new([2, 2]))?
        .add(Conv2d::new(64, [3, 3]).relu())?
        .add(MaxPool2d::new([2, 2]))?
        .add(Conv2d::new(64, [3, 3]).relu())?
        .add(Flatten::new())?
        .add(Dense::new(64).relu())?
        .add(Dense::new(task.classes))?;
    Ok(Model::new(net))
}

/// The ResNet's batch norm: momentum 0.9 and eps 1e-5 (PyTorch's defaults, what the CIFAR
/// ResNets were trained with; Keras' 0.99 averages over more steps than a short run takes).
fn bn() -> BatchNorm {
    BatchNorm::new().momentum(0.9).eps(1e-5)
}

/// A small ResNet for 32x32 images (He et al.'s CIFAR ResNet shape): a 16-channel stem, then
/// residual blocks of 16, 32 and 64 channels (stride 2 between stages, 1x1 projection
/// shortcuts), batch norm after every convolution, global average pooling, Dense(10).
pub fn cifar10_resnet(dev: &Device, seed: u64) -> Result<Model> {
    resnet(dev, &ImageTask::cifar10(), seed)
}

/// The ResNet of [`cifar10_resnet`] for any images (global pooling takes any size).
pub fn resnet(dev: &Device, task: &ImageTask, seed: u64) -> Result<Model> {
    let mut g = Functional::new(dev).seed(seed);
    let x = g.input("image", &task.shape);
    let mut h = g.apply(Normalization::new(&task.mean, &task.std), x)?;
    h = g.apply(Conv2d::new(16, [3, 3]).padding(Padding::Same).use_bias(false), h)?;
    h = g.apply(bn(), h)?;
    h = g.apply(ActivationLayer::new(Activation::Relu), h)?;
    let mut channels = 16;
    for (filters, stride) in [(16, 1), (32, 2), (64, 2)] {
        let conv = |f: usize, s: usize| Conv2d::new(f, [3, 3]).strides([s, s]).padding(Padding::Same).use_bias(false);
        let mut r = g.apply(conv(filters, stride), h)?;
        r = g.apply(bn(), r)?;
        r = g.apply(ActivationLayer::new(Activation::Relu), r)?;
        r = g.apply(conv(filters, 1), r)?;
        r = g.apply(bn(), r)?;
        let shortcut = if stride != 1 || channels != filters {
            let s = g.apply(Conv2d::new(filters, [1, 1]).strides([stride, stride]).use_bias(false), h)?;
            g.apply(bn(), s)?
        } else {
            h
        };
        let sum = g.add(&[r, shortcut])?;
        h = g.apply(ActivationLayer::new(Activation::Relu), sum)?;
        channels = filters;
    }
    h = g.apply(GlobalAvgPool2d::new(), h)?;
    let out = g.apply(Dense::new(task.classes), h)?;
    g.set_outputs(&[out])?;
    Ok(Model::new(g))
}
