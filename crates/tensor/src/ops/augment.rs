//! Image batch augmentation on the GPU (`augment.wgsl`): on a software adapter the "GPU" is the
//! host's cores, and one fused pass over the batch is cheaper than per-image host loops.

use wgtrain_kernels::ops::augment::{self, AugmentParams};

use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// What [`Tensor::augment_images`] does to each image of a batch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AugmentOptions {
    /// Random crop of the image zero-padded by this many pixels per side (0: none).
    pub pad: usize,
    pub flip_horizontal: bool,
    pub flip_vertical: bool,
    /// Per-channel normalization `(x - mean) / std` (empty: none).
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// Every image's crop and flips derive from (seed, index in the batch).
    pub seed: u32,
}

impl Tensor {
    /// Crops, flips and normalizes a batch of f32 images `[n, c, h, w]` in one kernel.
    pub fn augment_images(&self, o: &AugmentOptions) -> Result<Tensor> {
        let op = "augment_images";
        self.expect_dtype(op, DType::F32)?;
        let [n, c, h, w] = <[usize; 4]>::try_from(self.shape.as_slice()).map_err(|_| TensorError::Shape {
            op,
            expected: "images [n, channels, height, width]".into(),
            got: self.shape.clone(),
        })?;
        let (mean, std) = if o.mean.is_empty() && o.std.is_empty() {
            (vec![0.0; c], vec![1.0; c])
        } else {
            (o.mean.clone(), o.std.clone())
        };
        if mean.len() != c || std.len() != c || std.iter().any(|&s| s <= 0.0 || !s.is_finite()) {
            let why = format!("mean {:?} and std {:?} need {c} values each (std > 0) for {c} channels", o.mean, o.std);
            return Err(TensorError::Argument { op, why });
        }
        let mut stats = mean;
        stats.extend(std.iter().map(|s| 1.0 / s));
        let stats = Tensor::from_slice(self.device(), &stats, &[2, c])?;
        let out = Tensor::empty(self.device(), &self.shape, DType::F32)?;
        if out.is_empty() {
            return Ok(out);
        }
        let flips = o.flip_horizontal as u32 | (o.flip_vertical as u32) << 1;
        let u = |v: usize| v as u32;
        let p = AugmentParams {
            n: u(n),
            c: u(c),
            h: u(h),
            w: u(w),
            pad: u(o.pad),
            seed: o.seed,
            flips,
            total: u(out.len()),
        };
        let x = self.dense()?;
        self.device().dispatch(&augment::launch(&p), &[x.binding(), stats.binding(), out.binding()])?;
        Ok(out)
    }
}
