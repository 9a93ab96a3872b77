//! Twins of the convolution passes: the definition of a grouped, strided, padded, dilated 2-D
//! cross-correlation as nested loops over every (output, tap) pair, accumulated in f64. The
//! backward twins scatter along the same loops (the adjoint), independent of the GPU's gathers.

use super::float::Float;
use super::map::unary_scalar;
use crate::ops::conv::ConvParams;
use crate::ops::map::UnaryOp;

/// Calls `f(n, oc, oh, ow, ci, kh, kw, ih, iw)` for every tap that lands inside the input.
fn for_each_tap(p: &ConvParams, mut f: impl FnMut([usize; 9])) {
    let u = |v: u32| v as usize;
    let (icg, ocg) = (u(p.in_c / p.groups), u(p.out_c / p.groups));
    for n in 0..u(p.batch) {
        for oc in 0..u(p.out_c) {
            let g = oc / ocg;
            for oh in 0..u(p.out_h) {
                for ow in 0..u(p.out_w) {
                    for c in 0..icg {
                        for kh in 0..u(p.k_h) {
                            for kw in 0..u(p.k_w) {
                                let ih = (oh * u(p.stride_h) + kh * u(p.dil_h)) as isize - p.pad_h as isize;
                                let iw = (ow * u(p.stride_w) + kw * u(p.dil_w)) as isize - p.pad_w as isize;
                                if ih < 0 || iw < 0 || ih >= p.in_h as isize || iw >= p.in_w as isize {
                                    continue;
                                }
                                f([n, oc, oh, ow, g * icg + c, kh, kw, ih as usize, iw as usize]);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn x_index(p: &ConvParams, n: usize, ci: usize, ih: usize, iw: usize) -> usize {
    ((n * p.in_c as usize + ci) * p.in_h as usize + ih) * p.in_w as usize + iw
}
fn y_index(p: &ConvParams, n: usize, oc: usize, oh: usize, ow: usize) -> usize {
    ((n * p.out_c as usize + oc) * p.out_h as usize + oh) * p.out_w as usize + ow
}
fn w_index(p: &ConvParams, oc: usize, ci: usize, kh: usize, kw: usize) -> usize {
    let icg = (p.in_c / p.groups) as usize;
    ((oc * icg + ci % icg) * p.k_h as usize + kh) * p.k_w as usize + kw
}

/// y = act(conv2d(x, w) + bias).
pub fn conv2d_forward<T: Float>(p: &ConvParams, x: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
    let len = (p.batch * p.out_c * p.out_h * p.out_w) as usize;
    let mut acc = vec![0.0f64; len];
    for_each_tap(p, |[n, oc, oh, ow, ci, kh, kw, ih, iw]| {
        acc[y_index(p, n, oc, oh, ow)] +=
            x[x_index(p, n, ci, ih, iw)].to_f64() * w[w_index(p, oc, ci, kh, kw)].to_f64();
    });
    let hw = (p.out_h * p.out_w) as usize;
    acc.iter()
        .enumerate()
        .map(|(i, &s)| {
            let oc = (i / hw) % p.out_c as usize;
            let b = bias.filter(|_| p.has_bias != 0).map_or(0.0, |b| b[oc].to_f64());
            T::from_f64(unary_scalar(UnaryOp::from_code(p.act).expect("activation code"), s + b, p.alpha as f64, 0.0))
        })
        .collect()
}

/// dx = d(sum y * dy) / dx; with a bias per input channel and an activation this is also
/// conv_transpose2d's forward.
pub fn conv2d_grad_input<T: Float>(p: &ConvParams, dy: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
    let len = (p.batch * p.in_c * p.in_h * p.in_w) as usize;
    let mut acc = vec![0.0f64; len];
    for_each_tap(p, |[n, oc, oh, ow, ci, kh, kw, ih, iw]| {
        acc[x_index(p, n, ci, ih, iw)] +=
            dy[y_index(p, n, oc, oh, ow)].to_f64() * w[w_index(p, oc, ci, kh, kw)].to_f64();
    });
    let hw = (p.in_h * p.in_w) as usize;
    acc.iter()
        .enumerate()
        .map(|(i, &s)| {
            let c = (i / hw) % p.in_c as usize;
            let b = bias.filter(|_| p.has_bias != 0).map_or(0.0, |b| b[c].to_f64());
            T::from_f64(unary_scalar(UnaryOp::from_code(p.act).expect("activation code"), s + b, p.alpha as f64, 0.0))
        })
        .collect()
}

/// dw = d(sum y * dy) / dw, `[out_c, in_c / groups, k_h, k_w]`.
pub fn conv2d_grad_weight<T: Float>(p: &ConvParams, dy: &[T], x: &[T]) -> Vec<T> {
    let mut acc = vec![0.0f64; p.weight_len()];
    for_each_tap(p, |[n, oc, oh, ow, ci, kh, kw, ih, iw]| {
        acc[w_index(p, oc, ci, kh, kw)] +=
            dy[y_index(p, n, oc, oh, ow)].to_f64() * x[x_index(p, n, ci, ih, iw)].to_f64();
    });
    acc.into_iter().map(T::from_f64).collect()
}
