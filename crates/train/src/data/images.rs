//! Images held in host memory as bytes: any data set of labelled images (MNIST, Fashion-MNIST,
//! a folder of the user's pictures, CIFAR-10), one type for the loader and the trainer.

use super::cifar10::{CLASSES, Cifar10};
use super::dataset::{Dataset, Example, Label};
use crate::error::{Result, TrainError};

/// Labelled images of one shape `[channels, height, width]`, as bytes (0..=255), with the
/// names of their classes. As a [`Dataset`] each image reads as f32 in [0, 1], channels first.
#[derive(Debug, Clone, Default)]
pub struct Images {
    pixels: Vec<u8>,
    shape: [usize; 3],
    labels: Vec<u32>,
    classes: Vec<String>,
}

impl Images {
    /// Checks that `pixels` holds one image of `shape` per label and that every label names
    /// one of `classes`.
    pub fn new(pixels: Vec<u8>, shape: [usize; 3], labels: Vec<u32>, classes: Vec<String>) -> Result<Images> {
        let per: usize = shape.iter().product();
        if per == 0 || pixels.len() != per * labels.len() {
            let why = format!(
                "{} bytes for {} images of shape {shape:?} (expected {})",
                pixels.len(),
                labels.len(),
                per * labels.len()
            );
            return Err(TrainError::config("Images", why));
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= classes.len()) {
            let why = format!("label {bad} is not one of the {} classes {classes:?}", classes.len());
            return Err(TrainError::config("Images", why));
        }
        Ok(Images { pixels, shape, labels, classes })
    }
    /// `[channels, height, width]` of every image.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }
    /// The class names, by label.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }
    /// Every image's label, in order.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }
    /// Image `i` as bytes, channels first; an error when there is no image `i`.
    pub fn image(&self, i: usize) -> Result<&[u8]> {
        let per: usize = self.shape.iter().product();
        self.pixels.get(i * per..(i + 1) * per).filter(|_| i < self.labels.len()).ok_or_else(|| {
            TrainError::config("Images", format!("index {i} out of range for {} images", self.labels.len()))
        })
    }
    /// The first `n` images.
    pub fn truncated(mut self, n: usize) -> Images {
        let n = n.min(self.labels.len());
        self.labels.truncate(n);
        self.pixels.truncate(n * self.shape.iter().product::<usize>());
        self
    }
    /// Moves the images from `at` on into a set of their own (a train/validation split).
    pub fn split_off(&mut self, at: usize) -> Images {
        let at = at.min(self.labels.len());
        let per: usize = self.shape.iter().product();
        Images {
            pixels: self.pixels.split_off(at * per),
            shape: self.shape,
            labels: self.labels.split_off(at),
            classes: self.classes.clone(),
        }
    }
    /// Every channel's mean and standard deviation over the set, in [0, 1] units (a
    /// `Normalization` layer's statistics); `None` when empty.
    pub fn channel_stats(&self) -> Option<(Vec<f32>, Vec<f32>)> {
        let [c, h, w] = self.shape;
        let plane = h * w;
        if self.labels.is_empty() {
            return None;
        }
        let mut sums = vec![(0f64, 0f64); c];
        for image in self.pixels.chunks_exact(c * plane) {
            for (ch, values) in image.chunks_exact(plane).enumerate() {
                for &v in values {
                    let v = v as f64 / 255.0;
                    sums[ch].0 += v;
                    sums[ch].1 += v * v;
                }
            }
        }
        let count = (self.labels.len() * plane) as f64;
        let mean: Vec<f32> = sums.iter().map(|s| (s.0 / count) as f32).collect();
        let std =
            sums.iter().map(|s| ((s.1 / count - (s.0 / count).powi(2)).max(0.0).sqrt().max(1e-3)) as f32).collect();
        Some((mean, std))
    }
}

impl Dataset for Images {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn sample_shape(&self) -> Vec<usize> {
        self.shape.to_vec()
    }
    fn get(&self, index: usize) -> Result<Example> {
        let x = self.image(index)?.iter().map(|&b| b as f32 / 255.0).collect();
        Ok(Example { x, y: Label::Class(self.labels[index]) })
    }
}

impl From<Cifar10> for Images {
    fn from(c: Cifar10) -> Images {
        let labels = c.labels().iter().map(|&l| l as u32).collect();
        let pixels = (0..c.len()).flat_map(|i| c.image(i).unwrap_or_default().to_vec()).collect();
        Images { pixels, shape: [3, 32, 32], labels, classes: CLASSES.iter().map(|s| s.to_string()).collect() }
    }
}
