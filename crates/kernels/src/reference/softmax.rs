//! Twins of `softmax.wgsl` and `softmax_xent.wgsl`, in f64 from the definitions:
//! softmax_j = e^(x_j - m) / sum_k e^(x_k - m) with m = max x, log_softmax_j = x_j - log sum_k e^x_k.

use super::float::{Float, max_nan};
use crate::ops::softmax::SoftmaxParams;
use crate::ops::softmax_xent::XentParams;

/// log sum_j e^(x_j), stable.
fn logsumexp(row: &[f64]) -> f64 {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, max_nan);
    m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

fn rows<T: Float>(x: &[T], cols: usize) -> impl Iterator<Item = Vec<f64>> + '_ {
    x.chunks(cols).map(|r| r.iter().map(|v| v.to_f64()).collect())
}

/// Twin of `softmax_rows`.
pub fn softmax<T: Float>(p: &SoftmaxParams, x: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(x.len());
    for row in rows(x, p.cols as usize).take(p.rows as usize) {
        let lse = logsumexp(&row);
        out.extend(row.iter().map(|v| T::from_f64(if p.log != 0 { v - lse } else { (v - lse).exp() })));
    }
    out
}

/// Twin of `softmax_backward_rows`: softmax dx = y (dy - sum dy y); log_softmax dx = dy - e^y sum dy.
pub fn softmax_backward<T: Float>(p: &SoftmaxParams, y: &[T], dy: &[T]) -> Vec<T> {
    let cols = p.cols as usize;
    let mut out = Vec::with_capacity(y.len());
    for (yr, dr) in rows(y, cols).zip(rows(dy, cols)).take(p.rows as usize) {
        if p.log != 0 {
            let s: f64 = dr.iter().sum();
            out.extend(yr.iter().zip(&dr).map(|(y, d)| T::from_f64(d - y.exp() * s)));
        } else {
            let s: f64 = yr.iter().zip(&dr).map(|(y, d)| y * d).sum();
            out.extend(yr.iter().zip(&dr).map(|(y, d)| T::from_f64(y * (d - s))));
        }
    }
    out
}

/// Smoothed target t_j = (1 - eps) [j == y] + eps / c and class weight w_j of class j.
fn target_weight<T: Float>(p: &XentParams, weights: Option<&[T]>, y: usize, j: usize) -> (f64, f64) {
    let eps = p.smoothing as f64;
    let t = eps / p.c as f64 + if j == y { 1.0 - eps } else { 0.0 };
    (t, weights.map_or(1.0, |w| w[j].to_f64()))
}

/// Twin of `xent_forward`: per sample loss_i = -sum_j t_j w_j logp_j and wy_i = w_{y_i};
/// samples whose label is skipped (the ignored label, or one outside 0..c) get (0, 0).
pub fn xent_forward<T: Float>(p: &XentParams, logits: &[T], labels: &[u32], weights: Option<&[T]>) -> (Vec<T>, Vec<T>) {
    let c = p.c as usize;
    let (mut loss, mut wy) = (Vec::new(), Vec::new());
    for (row, &y) in rows(logits, c).zip(labels).take(p.n as usize) {
        if p.skips(y) {
            loss.push(T::from_f64(0.0));
            wy.push(T::from_f64(0.0));
            continue;
        }
        let y = y as usize;
        let lse = logsumexp(&row);
        let l: f64 = (0..c)
            .map(|j| {
                let (t, w) = target_weight(p, weights, y, j);
                -t * w * (row[j] - lse)
            })
            .sum();
        loss.push(T::from_f64(l));
        wy.push(T::from_f64(target_weight(p, weights, y, y).1));
    }
    (loss, wy)
}

/// Twin of `xent_backward`: d loss_i / d x_ij times up_i, with
/// d/dx_j (-sum_k t_k w_k (x_k - lse)) = -t_j w_j + p_j sum_k t_k w_k.
pub fn xent_backward<T: Float>(
    p: &XentParams,
    logits: &[T],
    labels: &[u32],
    weights: Option<&[T]>,
    upstream: &[T],
) -> Vec<T> {
    let c = p.c as usize;
    let mut out = Vec::with_capacity(logits.len());
    for ((row, &y), up) in rows(logits, c).zip(labels).zip(upstream).take(p.n as usize) {
        if p.skips(y) {
            out.extend((0..c).map(|_| T::from_f64(0.0)));
            continue;
        }
        let y = y as usize;
        let lse = logsumexp(&row);
        let big_w: f64 = (0..c)
            .map(|k| {
                let (t, w) = target_weight(p, weights, y, k);
                t * w
            })
            .sum();
        out.extend((0..c).map(|j| {
            let (t, w) = target_weight(p, weights, y, j);
            T::from_f64(up.to_f64() * ((row[j] - lse).exp() * big_w - t * w))
        }));
    }
    out
}
