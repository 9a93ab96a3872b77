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

/// `dx = dy[plane] / (h w)`, broadcast over the plane.
pub fn global_avg_pool_backward<T: Float>(p: &PoolParams, dy: &[T]) -> Vec<T> {
    let (pin, _) = plane_sizes(p);
    (0..p.input_len()).map(|i| T::from_f64(dy[i / pin].to_f64() / pin as f64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_twins_are_the_adjoints_of_the_forward_twins() {
        // <pool(x), dy> = <x, pool_backward(dy)> for the linear maps (max pooling with its argmax
        // fixed is linear too).
        let p = PoolParams::new(2, [5, 4], [3, 2], [2, 1], [1, 1]).unwrap();
        let x: Vec<f64> = (0..p.input_len()).map(|i| ((i * 37 % 17) as f64 - 8.0) / 3.0).collect();
        let dy: Vec<f64> = (0..p.output_len()).map(|i| ((i * 11 % 7) as f64 - 3.0) / 2.0).collect();
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
        let lhs = dot(&avg_pool2d_forward(&p, &x), &dy);
        assert!((lhs - dot(&x, &avg_pool2d_backward(&p, &dy))).abs() < 1e-12);
        let (y, idx) = max_pool2d_forward(&p, &x);
        assert!((dot(&y, &dy) - dot(&x, &max_pool2d_backward(&p, &dy, &idx))).abs() < 1e-12);
        let g = PoolParams::global(2, [5, 4]);
        let gy = [0.5, -2.0];
        assert!(
            (dot(&global_avg_pool_forward(&g, &x), &gy) - dot(&x, &global_avg_pool_backward(&g, &gy))).abs() < 1e-12
        );
    }

    #[test]
    fn max_pool_twin_breaks_ties_toward_the_first_element() {
        let p = PoolParams::new(1, [2, 2], [2, 2], [2, 2], [0, 0]).unwrap();
        assert_eq!(max_pool2d_forward(&p, &[1.0f64, 3.0, 3.0, 2.0]), (vec![3.0], vec![1]));
        assert_eq!(max_pool2d_forward(&p, &[1.0f64, f64::NAN, 3.0, 2.0]).1, vec![1]);
    }
}
