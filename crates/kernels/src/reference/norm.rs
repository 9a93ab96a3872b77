//! Twins of layer norm and batch norm, from the definitions: statistics in f64 with the mean
//! first, the biased variance E[(x - mean)^2], rstd = 1 / sqrt(var + eps). The backward twins
//! recompute the statistics from x, so they check the kernels' saved mean/rstd too.

use super::float::Float;
use crate::ops::norm::NormParams;

/// Forward outputs of a norm: y, and the mean and rstd per row (layer) or channel (batch).
pub struct NormForward<T> {
    /// The normalized (and scaled, shifted) output, shaped like x.
    pub y: Vec<T>,
    /// Mean per row (layer norm) or channel (batch norm).
    pub mean: Vec<T>,
    /// `1 / sqrt(var + eps)` per row or channel.
    pub rstd: Vec<T>,
    /// Batch norm: the biased batch variance per channel (empty for layer norm).
    pub var: Vec<T>,
}

/// Gradients of a norm: dx, dgamma, dbeta.
pub struct NormBackward<T> {
    /// Gradient w.r.t. x, shaped like x.
    pub dx: Vec<T>,
    /// Gradient w.r.t. the scale.
    pub dgamma: Vec<T>,
    /// Gradient w.r.t. the shift.
    pub dbeta: Vec<T>,
}

fn at<T: Float>(v: Option<&[T]>, i: usize, default: f64) -> f64 {
    v.map_or(default, |v| v[i].to_f64())
}

/// (mean, biased variance) of `vals`, two-pass.
fn moments(vals: &[f64]) -> (f64, f64) {
    let n = vals.len() as f64;
    let mean = vals.iter().sum::<f64>() / n;
    (mean, vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n)
}

fn cast<T: Float>(v: Vec<f64>) -> Vec<T> {
    v.into_iter().map(T::from_f64).collect()
}

/// Element indices of each normalization group: rows for layer norm, channels for batch norm.
fn groups(p: &NormParams, layer: bool) -> Vec<Vec<usize>> {
    let (n, c, hw) = (p.outer as usize, p.chans as usize, p.inner as usize);
    if layer {
        return (0..n).map(|r| (r * hw..(r + 1) * hw).collect()).collect();
    }
    (0..c).map(|ch| (0..n).flat_map(|i| (0..hw).map(move |s| (i * c + ch) * hw + s)).collect()).collect()
}

/// Layer norm over rows of `p.inner`: y, and per-row mean and rstd.
pub fn layer_norm_forward<T: Float>(
    p: &NormParams,
    x: &[T],
    gamma: Option<&[T]>,
    beta: Option<&[T]>,
) -> NormForward<T> {
    norm_forward(p, true, x, gamma, beta)
}

/// Training batch norm: y, and per-channel mean, rstd and biased variance.
pub fn batch_norm_forward<T: Float>(
    p: &NormParams,
    x: &[T],
    gamma: Option<&[T]>,
    beta: Option<&[T]>,
) -> NormForward<T> {
    norm_forward(p, false, x, gamma, beta)
}

/// Backward of [`layer_norm_forward`].
pub fn layer_norm_backward<T: Float>(p: &NormParams, x: &[T], dy: &[T], gamma: Option<&[T]>) -> NormBackward<T> {
    norm_backward(p, true, x, dy, gamma)
}

/// Backward of [`batch_norm_forward`] (training mode: the batch statistics depend on x).
pub fn batch_norm_backward<T: Float>(p: &NormParams, x: &[T], dy: &[T], gamma: Option<&[T]>) -> NormBackward<T> {
    norm_backward(p, false, x, dy, gamma)
}

fn norm_forward<T: Float>(
    p: &NormParams,
    layer: bool,
    x: &[T],
    gamma: Option<&[T]>,
    beta: Option<&[T]>,
) -> NormForward<T> {
    let mut y = vec![0.0; x.len()];
    let (mut means, mut rstds, mut vars) = (Vec::new(), Vec::new(), Vec::new());
    for (g, idx) in groups(p, layer).iter().enumerate() {
        let vals: Vec<f64> = idx.iter().map(|&i| x[i].to_f64()).collect();
        let (mean, var) = moments(&vals);
        let rstd = 1.0 / (var + p.eps as f64).sqrt();
        for (k, &i) in idx.iter().enumerate() {
            // Layer norm: gamma per column; batch norm: per channel.
            let j = if layer { k } else { g };
            y[i] = (vals[k] - mean) * rstd * at(gamma, j, 1.0) + at(beta, j, 0.0);
        }
        means.push(mean);
        rstds.push(rstd);
        vars.push(var);
    }
    NormForward { y: cast(y), mean: cast(means), rstd: cast(rstds), var: if layer { Vec::new() } else { cast(vars) } }
}

/// With g = dy gamma and xhat = (x - mean) rstd over a group of M elements,
/// dx = rstd (g - mean(g) - xhat mean(g xhat)); dgamma = sum dy xhat; dbeta = sum dy (summed
/// over rows for layer norm, over each channel's elements for batch norm).
fn norm_backward<T: Float>(p: &NormParams, layer: bool, x: &[T], dy: &[T], gamma: Option<&[T]>) -> NormBackward<T> {
    let params = if layer { p.inner as usize } else { p.chans as usize };
    let (mut dx, mut dgamma, mut dbeta) = (vec![0.0; x.len()], vec![0.0; params], vec![0.0; params]);
    for (g, idx) in groups(p, layer).iter().enumerate() {
        let vals: Vec<f64> = idx.iter().map(|&i| x[i].to_f64()).collect();
        let (mean, var) = moments(&vals);
        let rstd = 1.0 / (var + p.eps as f64).sqrt();
        let m = idx.len() as f64;
        let xhat: Vec<f64> = vals.iter().map(|v| (v - mean) * rstd).collect();
        let param = |k: usize| if layer { k } else { g };
        let gs: Vec<f64> = idx.iter().enumerate().map(|(k, &i)| dy[i].to_f64() * at(gamma, param(k), 1.0)).collect();
        let mean_g = gs.iter().sum::<f64>() / m;
        let mean_gx = gs.iter().zip(&xhat).map(|(a, b)| a * b).sum::<f64>() / m;
        for (k, &i) in idx.iter().enumerate() {
            dx[i] = rstd * (gs[k] - mean_g - xhat[k] * mean_gx);
            dgamma[param(k)] += dy[i].to_f64() * xhat[k];
            dbeta[param(k)] += dy[i].to_f64();
        }
    }
    NormBackward { dx: cast(dx), dgamma: cast(dgamma), dbeta: cast(dbeta) }
}

/// PyTorch's running update: running = (1 - momentum) running + momentum batch, the variance
/// with Bessel's correction (M / (M - 1), M = n hw).
pub fn batch_norm_update_running<T: Float>(
    p: &NormParams,
    batch_mean: &[T],
    batch_var: &[T],
    running_mean: &mut [T],
    running_var: &mut [T],
) {
    let m = (p.outer * p.inner) as f64;
    let k = p.momentum as f64;
    for c in 0..p.chans as usize {
        running_mean[c] = T::from_f64((1.0 - k) * running_mean[c].to_f64() + k * batch_mean[c].to_f64());
        let unbiased = batch_var[c].to_f64() * m / (m - 1.0);
        running_var[c] = T::from_f64((1.0 - k) * running_var[c].to_f64() + k * unbiased);
    }
}

/// Batch norm in eval mode: y = (x - running_mean) / sqrt(running_var + eps) gamma + beta.
pub fn batch_norm_eval<T: Float>(
    p: &NormParams,
    x: &[T],
    gamma: Option<&[T]>,
    beta: Option<&[T]>,
    running_mean: &[T],
    running_var: &[T],
) -> Vec<T> {
    let (c, hw) = (p.chans as usize, p.inner as usize);
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            let ch = (i / hw) % c;
            let rstd = 1.0 / (running_var[ch].to_f64() + p.eps as f64).sqrt();
            let y = (v.to_f64() - running_mean[ch].to_f64()) * rstd * at(gamma, ch, 1.0) + at(beta, ch, 0.0);
            T::from_f64(y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(seed: u64, n: usize) -> Vec<f64> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    /// Checks the backward twin against central differences of L = sum(dy * y).
    fn check_gradients(p: &NormParams, layer: bool, params: usize) {
        let x = values(1, p.len());
        let dy = values(2, p.len());
        let gamma: Vec<f64> = values(3, params).iter().map(|v| v + 1.5).collect();
        let beta = values(4, params);
        let loss = |x: &[f64], g: &[f64], b: &[f64]| -> f64 {
            let y = norm_forward(p, layer, x, Some(g), Some(b)).y;
            y.iter().zip(&dy).map(|(a, b)| a * b).sum()
        };
        let grads = norm_backward(p, layer, &x, &dy, Some(&gamma));
        let h = 1e-6;
        let fd = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
        for i in 0..x.len() {
            let d = fd(&|e| loss(&[&x[..i], &[x[i] + e], &x[i + 1..]].concat(), &gamma, &beta));
            assert!((d - grads.dx[i]).abs() < 1e-6, "dx[{i}]: fd {d}, twin {}", grads.dx[i]);
        }
        for j in 0..params {
            let d = fd(&|e| loss(&x, &[&gamma[..j], &[gamma[j] + e], &gamma[j + 1..]].concat(), &beta));
            assert!((d - grads.dgamma[j]).abs() < 1e-6, "dgamma[{j}]: fd {d}, twin {}", grads.dgamma[j]);
            let d = fd(&|e| loss(&x, &gamma, &[&beta[..j], &[beta[j] + e], &beta[j + 1..]].concat()));
            assert!((d - grads.dbeta[j]).abs() < 1e-6, "dbeta[{j}]: fd {d}, twin {}", grads.dbeta[j]);
        }
    }

    #[test]
    fn layer_norm_backward_twin_matches_finite_differences() {
        check_gradients(&NormParams::layer(3, 5, 1e-5), true, 5);
    }

    #[test]
    fn batch_norm_backward_twin_matches_finite_differences() {
        check_gradients(&NormParams::batch(3, 2, 4, 1e-5), false, 2);
    }

    #[test]
    fn forward_twins_match_hand_values() {
        // Row [1, 2, 3]: mean 2, biased variance 2/3.
        let out = layer_norm_forward(&NormParams::layer(1, 3, 0.0), &[1.0f64, 2.0, 3.0], None, None);
        let s = (1.5f64).sqrt();
        assert!(out.y.iter().zip([-s, 0.0, s]).all(|(a, b)| (a - b).abs() < 1e-12), "{:?}", out.y);
        // Channel 0 of [n = 2, c = 2] holds 1 and 3: mean 2, biased variance 1, unbiased 2.
        let mut p = NormParams::batch(2, 2, 1, 0.0);
        p.momentum = 0.5;
        let out = batch_norm_forward(&p, &[1.0f64, 10.0, 3.0, 30.0], None, None);
        assert_eq!((out.mean.clone(), out.var.clone()), (vec![2.0, 20.0], vec![1.0, 100.0]));
        let (mut rm, mut rv) = (vec![0.0, 0.0], vec![1.0, 1.0]);
        batch_norm_update_running(&p, &out.mean, &out.var, &mut rm, &mut rv);
        assert_eq!((rm, rv), (vec![1.0, 10.0], vec![1.5, 100.5]));
    }
}
