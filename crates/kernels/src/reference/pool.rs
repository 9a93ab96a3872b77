//! Twins of the pooling kernels, from the definitions: every (output, tap) pair visited in
//! row-major order; the backward twins scatter along the same loops (the adjoint), independent
//! of the GPU's gathers.

use super::float::Float;
use crate::ops::pool::PoolParams;

/// Calls `f(plane, output index in plane, input index in plane)` for every in-bounds tap.
fn for_each_tap(p: &PoolParams, mut f: impl FnMut(usize, usize, usize)) {
    let u = |v: u32| v as usize;
    for plane in 0..u(p.planes) {
        for oh in 0..u(p.out_h) {
            for ow in 0..u(p.out_w) {
                for kh in 0..u(p.k_h) {
                    for kw in 0..u(p.k_w) {
                        let ih = (oh * u(p.stride_h) + kh) as isize - p.pad_h as isize;
                        let iw = (ow * u(p.stride_w) + kw) as isize - p.pad_w as isize;
                        if ih < 0 || iw < 0 || ih >= p.in_h as isize || iw >= p.in_w as isize {
                            continue;
                        }
                        f(plane, oh * u(p.out_w) + ow, ih as usize * u(p.in_w) + iw as usize);
                    }
                }
            }
        }
    }
}

fn plane_sizes(p: &PoolParams) -> (usize, usize) {
    ((p.in_h * p.in_w) as usize, (p.out_h * p.out_w) as usize)
}

/// Max pooling: values and argmax (flat index into the input plane). Padding never wins; the
/// first maximum in window order wins ties; a NaN wins over numbers (a later NaN over an earlier
/// one, as in PyTorch's `val > max || isnan(val)`).
pub fn max_pool2d_forward<T: Float>(p: &PoolParams, x: &[T]) -> (Vec<T>, Vec<u32>) {
    let (pin, pout) = plane_sizes(p);
    let mut best: Vec<Option<(f64, usize)>> = vec![None; p.output_len()];
    for_each_tap(p, |plane, o, i| {
        let v = x[plane * pin + i].to_f64();
        let slot = &mut best[plane * pout + o];
        match slot {
            Some((b, _)) if !(v > *b || v.is_nan()) => {}
            _ => *slot = Some((v, i)),
        }
    });
    let best: Vec<(f64, usize)> = best.into_iter().map(|b| b.expect("every window has an in-bounds tap")).collect();
    (best.iter().map(|b| T::from_f64(b.0)).collect(), best.iter().map(|b| b.1 as u32).collect())
}

/// dx of max pooling: each dy goes to its window's argmax.
pub fn max_pool2d_backward<T: Float>(p: &PoolParams, dy: &[T], argmax: &[u32]) -> Vec<T> {
    let (pin, pout) = plane_sizes(p);
    let mut dx = vec![0.0f64; p.input_len()];
    for (o, (g, &i)) in dy.iter().zip(argmax).enumerate() {
        dx[(o / pout) * pin + i as usize] += g.to_f64();
    }
    dx.into_iter().map(T::from_f64).collect()
}

/// Average pooling with zero padding counted in the divisor k_h k_w (count_include_pad).
pub fn avg_pool2d_forward<T: Float>(p: &PoolParams, x: &[T]) -> Vec<T> {
    let (pin, pout) = plane_sizes(p);
    let mut acc = vec![0.0f64; p.output_len()];
    for_each_tap(p, |plane, o, i| acc[plane * pout + o] += x[plane * pin + i].to_f64());
    let k = (p.k_h * p.k_w) as f64;
    acc.into_iter().map(|s| T::from_f64(s / k)).collect()
}

/// dx of average pooling.
pub fn avg_pool2d_backward<T: Float>(p: &PoolParams, dy: &[T]) -> Vec<T> {
    let (pin, pout) = plane_sizes(p);
    let mut acc = vec![0.0f64; p.input_len()];
    for_each_tap(p, |plane, o, i| acc[plane * pin + i] += dy[plane * pout + o].to_f64());
    let k = (p.k_h * p.k_w) as f64;
    acc.into_iter().map(|s| T::from_f64(s / k)).collect()
}

/// Mean of each plane: `[planes]`.
pub fn global_avg_pool_forward<T: Float>(p: &PoolParams, x: &[T]) -> Vec<T> {
    let (pin, _) = plane_sizes(p);
    (0..p.planes as usize)
        .map(|pl| T::from_f64(x[pl * pin..(pl + 1) * pin].iter().map(|v| v.to_f64()).sum::<f64>() / pin as f64))
        .collect()
}

/// dx = dy[plane] / (h w), broadcast over the plane.
pub fn global_avg_pool_backward<T: Float>(p: &PoolParams, dy: &[T]) -> Vec<T> {
    let (pin, _) = plane_sizes(p);
    (0..p.input_len()).map(|i| T::from_f64(dy[i / pin].to_f64() / pin as f64)).collect()
}
