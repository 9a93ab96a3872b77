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
    /// Mirror left-right with probability 1/2.
    pub flip_horizontal: bool,
    /// Mirror top-bottom with probability 1/2.
    pub flip_vertical: bool,
    /// Largest rotation in degrees about the image centre, drawn in `[-v, v]` (0: none).
    pub rotation: f32,
    /// Zoom: scale drawn in `[1 - v, 1 + v]`, `v < 1` (0: none).
    pub zoom: f32,
    /// Translation as a fraction of the height and width, each drawn in `[-v, v]` (0: none).
    pub translate: f32,
    /// Colour jitter as torchvision's `ColorJitter(brightness, contrast, saturation)`: factors
    /// drawn in `[1 - v, 1 + v]`, `v <= 1`, for images in `[0, 1]` (the results are clamped to
    /// it). Needs 1 or 3 channels; saturation changes nothing on 1. The contrast mean is the
    /// grey level of the image before the geometric stage (torchvision: after it).
    pub brightness: f32,
    /// See `brightness`.
    pub contrast: f32,
    /// See `brightness`.
    pub saturation: f32,
    /// Standard deviation of additive Gaussian noise, added before normalization (0: none).
    pub noise_std: f32,
    /// Side in pixels of a square set to 0 after normalization, centred on a random pixel and
    /// clipped at the borders (DeVries & Taylor's cutout; 0: none).
    pub cutout: usize,
    /// Per-channel normalization `(x - mean) / std` (empty: none).
    pub mean: Vec<f32>,
    /// See `mean` (each > 0).
    pub std: Vec<f32>,
    /// Every image's crop and flips derive from (seed, index in the batch).
    pub seed: u32,
}

impl AugmentOptions {
    /// The kernel parameters these options give for images `[n, c, h, w]` (what the CPU twin
    /// `wgtrain_kernels::reference::augment_images` takes; the rotation in radians).
    pub fn params(&self, [n, c, h, w]: [usize; 4]) -> AugmentParams {
        let u = |v: usize| v as u32;
        AugmentParams {
            n: u(n),
            c: u(c),
            h: u(h),
            w: u(w),
            pad: u(self.pad),
            seed: self.seed,
            flips: self.flip_horizontal as u32 | (self.flip_vertical as u32) << 1,
            total: u(n * c * h * w),
            rotation: self.rotation.to_radians(),
            zoom: self.zoom,
            translate: self.translate,
            brightness: self.brightness,
            contrast: self.contrast,
            saturation: self.saturation,
            noise_std: self.noise_std,
            // A square twice the image's larger side covers it wherever it is centred, so
            // larger values change nothing and must not overflow the kernel's i32 arithmetic.
            cutout: u(self.cutout.min(2 * h.max(w))),
        }
    }
}

impl Tensor {
    /// Augments a batch of f32 or f16 images `[n, c, h, w]` (into the same dtype; every stage
    /// computes in f32) in one kernel: crop, flips, rotation, zoom,
    /// translation (bilinear, zero fill), colour jitter, noise, normalization, cutout, in that
    /// order; a colour-jittered batch first takes its images' channel means (one reduction).
    pub fn augment_images(&self, o: &AugmentOptions) -> Result<Tensor> {
        let op = "augment_images";
        let f16 = self.expect_float(op)?;
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
        check_strengths(o, c)?;
        let mut stats = mean;
        stats.extend(std.iter().map(|s| 1.0 / s));
        let stats = Tensor::from_slice(self.device(), &stats, &[2, c])?;
        let out = Tensor::empty(self.device(), &self.shape, self.dtype())?;
        if out.is_empty() {
            return Ok(out);
        }
        let p = o.params([n, c, h, w]);
        let x = self.dense()?;
        // Only the colour stage reads the channel means (taken in f32); otherwise any buffer
        // fills the slot.
        let means = if p.color() { x.cast(DType::F32)?.mean(&[2, 3], false)? } else { stats.clone() };
        let bindings = [x.binding(), stats.binding(), means.binding(), out.binding()];
        self.device().dispatch(&augment::launch(&p, f16), &bindings)?;
        Ok(out)
    }
}

/// Rejects strengths the stages cannot honour, naming the field and the value given.
fn check_strengths(o: &AugmentOptions, channels: usize) -> Result<()> {
    let op = "augment_images";
    let fields = [
        ("rotation", o.rotation, f32::INFINITY),
        ("zoom", o.zoom, 0.999),
        ("translate", o.translate, f32::INFINITY),
        ("brightness", o.brightness, 1.0),
        ("contrast", o.contrast, 1.0),
        ("saturation", o.saturation, 1.0),
        ("noise_std", o.noise_std, f32::INFINITY),
    ];
    for (name, v, max) in fields {
        if !(v.is_finite() && v >= 0.0 && v <= max) {
            let range = if max.is_finite() { format!("in [0, {max}]") } else { "at least 0".into() };
            let why = format!("{name} must be finite and {range}, got {v}");
            return Err(TensorError::Argument { op, why });
        }
    }
    let color = o.brightness != 0.0 || o.contrast != 0.0 || o.saturation != 0.0;
    if color && channels != 1 && channels != 3 {
        let why = format!("colour jitter needs 1 or 3 channels, got {channels}");
        return Err(TensorError::Argument { op, why });
    }
    Ok(())
}
