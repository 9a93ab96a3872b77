//! Weight initializers (Keras names and formulas). Random ones draw on the GPU from the seeded
//! counter-based generator, so a model built from one seed is the same on every run; the
//! orthogonal one (recurrent kernels) is a one-time QR on the host.

use rand::{Rng, SeedableRng};
use wgtrain_tensor::{DType, Device, Tensor, TensorError};

use crate::error::{Result, TrainError};

/// How to fill a new parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Initializer {
    /// All 0 (Keras' default for biases).
    Zeros,
    /// All 1.
    Ones,
    /// Every element this value.
    Constant(f32),
    /// U(low, high).
    Uniform {
        /// Inclusive lower bound.
        low: f32,
        /// Exclusive upper bound.
        high: f32,
    },
    /// N(mean, std^2).
    Normal {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        std: f32,
    },
    /// U(-l, l), l = sqrt(6 / (fan_in + fan_out)): Keras' default for kernels.
    GlorotUniform,
    /// N(0, 2 / (fan_in + fan_out)). (Keras truncates at 2 std; this does not.)
    GlorotNormal,
    /// U(-l, l), l = gain sqrt(3 / fan_in): PyTorch's kaiming_uniform with `gain`.
    HeUniform {
        /// Scale; sqrt(2) for ReLU.
        gain: f32,
    },
    /// N(0, gain^2 / fan_in).
    HeNormal {
        /// Scale; sqrt(2) for ReLU (see [`Initializer::HE_RELU`]).
        gain: f32,
    },
    /// A (semi-)orthogonal matrix times `gain` over `[prod(shape[..-1]), shape[-1]]`.
    Orthogonal {
        /// Scale of the orthogonal matrix.
        gain: f32,
    },
}

impl Initializer {
    /// He initialization for ReLU layers (gain sqrt 2).
    pub const HE_RELU: Initializer = Initializer::HeNormal { gain: std::f32::consts::SQRT_2 };

    /// A new f32 tensor of `shape` with fans `(fan_in, fan_out)`, drawn from `seed`.
    pub fn create(&self, dev: &Device, shape: &[usize], fans: (usize, usize), seed: u64) -> Result<Tensor> {
        let (fan_in, fan_out) = (fans.0.max(1) as f32, fans.1.max(1) as f32);
        let t = match *self {
            Initializer::Zeros => Tensor::zeros(dev, shape, DType::F32)?,
            Initializer::Ones => Tensor::ones(dev, shape, DType::F32)?,
            Initializer::Constant(v) => Tensor::full(dev, shape, v)?,
            Initializer::Uniform { low, high } => Tensor::rand_uniform(dev, shape, low, high, seed)?,
            Initializer::Normal { mean, std } => Tensor::rand_normal(dev, shape, mean, std, seed)?,
            Initializer::GlorotUniform => {
                let l = (6.0 / (fan_in + fan_out)).sqrt();
                Tensor::rand_uniform(dev, shape, -l, l, seed)?
            }
            Initializer::GlorotNormal => Tensor::rand_normal(dev, shape, 0.0, (2.0 / (fan_in + fan_out)).sqrt(), seed)?,
            Initializer::HeUniform { gain } => {
                let l = gain * (3.0 / fan_in).sqrt();
                Tensor::rand_uniform(dev, shape, -l, l, seed)?
            }
            Initializer::HeNormal { gain } => Tensor::rand_normal(dev, shape, 0.0, gain / fan_in.sqrt(), seed)?,
            Initializer::Orthogonal { gain } => {
                // The basis is built on the host: a weight the device cannot hold is refused
                // before gigabytes of host memory are spent on it.
                let bytes = shape.iter().try_fold(4u64, |b, &d| b.checked_mul(d as u64)).unwrap_or(u64::MAX);
                let limit = dev.limits().max_buffer_size;
                if bytes > limit {
                    let what = format!("an orthogonal weight of shape {shape:?}");
                    let limit_name = "max_buffer_size";
                    return Err(
                        TensorError::Limit { op: "orthogonal initializer", what, bytes, limit, limit_name }.into()
                    );
                }
                Tensor::from_slice(dev, &orthogonal(shape, gain, seed)?, shape)?
            }
        };
        Ok(t)
    }
}

/// Fans of a weight: dense `[in, out]`, or convolution `[out, in / groups, kh, kw]` (the
/// receptive field multiplies both, as PyTorch and Keras).
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape.len() {
        0 => (1, 1),
        1 => (shape[0], shape[0]),
        2 => (shape[0], shape[1]),
        _ => {
            let rf: usize = shape[2..].iter().product();
            (shape[1] * rf, shape[0] * rf)
        }
    }
}

/// Row-major values of a semi-orthogonal `[rows, cols]` matrix: Gram-Schmidt on Gaussian
/// vectors (the orthonormal set is along the shorter side).
fn orthogonal(shape: &[usize], gain: f32, seed: u64) -> Result<Vec<f32>> {
    if shape.len() < 2 {
        let why = format!("needs a shape of rank >= 2, got {shape:?}");
        return Err(TrainError::config("orthogonal initializer", why));
    }
    let cols = shape[shape.len() - 1];
    let rows = shape.iter().product::<usize>() / cols.max(1);
    let (n, m) = if rows < cols { (rows, cols) } else { (cols, rows) }; // n vectors of length m
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut gauss = || {
        let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(n);
    while basis.len() < n {
        let mut v: Vec<f64> = (0..m).map(|_| gauss()).collect();
        for b in &basis {
            let d: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 1e-6 {
            basis.push(v.into_iter().map(|x| x / norm).collect());
        }
    }
    let mut out = vec![0.0f32; rows * cols];
    for (i, b) in basis.iter().enumerate() {
        for (j, &x) in b.iter().enumerate() {
            // Vectors are rows when rows < cols, else columns.
            let (r, c) = if rows < cols { (i, j) } else { (j, i) };
            out[r * cols + c] = gain * x as f32;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_matrices_have_orthonormal_columns_or_rows() {
        for (rows, cols) in [(6, 4), (3, 7), (5, 5)] {
            let q = orthogonal(&[rows, cols], 1.0, 3).unwrap();
            let k = rows.min(cols);
            for a in 0..k {
                for b in 0..k {
                    let dot: f32 = if rows >= cols {
                        (0..rows).map(|r| q[r * cols + a] * q[r * cols + b]).sum()
                    } else {
                        (0..cols).map(|c| q[a * cols + c] * q[b * cols + c]).sum()
                    };
                    let want = if a == b { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-5, "{rows}x{cols} [{a},{b}] = {dot}");
                }
            }
        }
    }

    #[test]
    fn fans_follow_dense_and_conv_layouts() {
        assert_eq!(fans(&[784, 256]), (784, 256));
        assert_eq!(fans(&[64, 32, 3, 3]), (32 * 9, 64 * 9));
    }
}
