//! Pooling, normalization, softmax, the fused cross-entropy and dropout.

use wgtrain_autograd::{Reduction, Var};
use wgtrain_kernels::ops::random::RandomParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Pool2dOptions, Tensor, XentOptions};

use crate::harness::{check, dev, input, labels, tensor};
use crate::twin;

#[test]
fn pooling_gradients() {
    let xs = [2, 3, 7, 7];
    for (k, s, p) in [(2, 2, 0), (3, 2, 1), (3, 1, 1)] {
        let o = Pool2dOptions { kernel: [k; 2], stride: [s; 2], padding: [p; 2] };
        let pp = twin::pool_params(xs, k, s, p);
        check(
            &format!("max_pool2d k{k} s{s} p{p}"),
            &[input(1, &xs, -1.0, 1.0)],
            |v| v[0].max_pool2d(&o),
            |h| twin::max_pool2d(&h[0], &pp),
        );
        check(
            &format!("avg_pool2d k{k} s{s} p{p}"),
            &[input(2, &xs, -1.0, 1.0)],
            |v| v[0].avg_pool2d(&o),
            |h| twin::avg_pool2d(&h[0], &pp),
        );
    }
    check(
        "global_avg_pool2d",
        &[input(3, &[2, 5, 3, 4], -1.0, 1.0)],
        |v| v[0].global_avg_pool2d(),
        |h| twin::global_avg_pool2d(&h[0], [2, 5, 3, 4]),
    );
}

#[test]
fn layer_norm_gradients_with_and_without_affine_parameters() {
    let (rows, d) = (6, 33);
    check(
        "layer_norm affine",
        &[input(4, &[2, 3, d], -2.0, 2.0), input(5, &[d], 0.5, 1.5), input(6, &[d], -1.0, 1.0)],
        |v| v[0].layer_norm(&[d], Some(&v[1]), Some(&v[2]), 1e-5),
        |h| twin::layer_norm(&h[0], rows, d, Some(&h[1]), Some(&h[2])),
    );
    check(
        "layer_norm plain",
        &[input(7, &[5, 2, 7], -2.0, 2.0)],
        |v| v[0].layer_norm(&[2, 7], None, None, 1e-5),
        |h| twin::layer_norm(&h[0], 5, 14, None, None),
    );
}

#[test]
fn batch_norm_gradients_in_training_and_inference() {
    for shape in [&[4, 3, 5, 5][..], &[9, 7]] {
        let c = shape[1];
        let rm = Tensor::zeros(dev(), &[c], DType::F32).unwrap();
        let rv = Tensor::ones(dev(), &[c], DType::F32).unwrap();
        check(
            &format!("batch_norm train {shape:?}"),
            &[input(8, shape, -2.0, 2.0), input(9, &[c], 0.5, 1.5), input(10, &[c], -1.0, 1.0)],
            |v| v[0].batch_norm(Some(&v[1]), Some(&v[2]), &rm, &rv, true, 0.1, 1e-5),
            |h| twin::batch_norm(&h[0], shape, Some(&h[1]), Some(&h[2])),
        );
    }
    // Inference: an affine map with the running statistics.
    let (rm_h, rv_h) = (vec![0.3f32, -0.2, 0.1], vec![1.5f32, 0.7, 2.0]);
    let (rm, rv) = (tensor(&rm_h, &[3]), tensor(&rv_h, &[3]));
    check(
        "batch_norm inference",
        &[input(11, &[2, 3, 2, 2], -2.0, 2.0), input(12, &[3], 0.5, 1.5), input(13, &[3], -1.0, 1.0)],
        |v| v[0].batch_norm(Some(&v[1]), Some(&v[2]), &rm, &rv, false, 0.1, 1e-5),
        |h| {
            (0..h[0].len())
                .map(|i| {
                    let ch = (i / 4) % 3;
                    let xhat = (h[0][i] - rm_h[ch] as f64) / (rv_h[ch] as f64 + 1e-5).sqrt();
                    xhat * h[1][ch] + h[2][ch]
                })
                .collect()
        },
    );
}

#[test]
fn softmax_and_log_softmax_gradients_on_either_axis() {
    for log in [false, true] {
        let f = move |v: &Var, axis: isize| if log { v.log_softmax(axis) } else { v.softmax(axis) };
        check(
            &format!("softmax log={log} last axis"),
            &[input(14, &[5, 33], -3.0, 3.0)],
            |v| f(&v[0], -1),
            |h| twin::softmax(&h[0], 5, 33, log),
        );
        check(
            &format!("softmax log={log} axis 0"),
            &[input(15, &[7, 3], -3.0, 3.0)],
            |v| f(&v[0], 0),
            |h| {
                let t = twin::permute(&h[0], &[7, 3], &[1, 0]);
                twin::permute(&twin::softmax(&t, 3, 7, log), &[3, 7], &[1, 0])
            },
        );
    }
}

#[test]
fn fused_cross_entropy_gradients_for_every_reduction_with_weights_and_smoothing() {
    let (n, c) = (6, 5);
    let y = [0u32, 4, 2, 2, 1, 3];
    let w_h = [0.5f32, 1.0, 2.0, 1.5, 0.7];
    let w = tensor(&w_h, &[c]);
    let w64: Vec<f64> = w_h.iter().map(|&v| v as f64).collect();
    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        for (weighted, smoothing) in [(false, 0.0), (true, 0.1)] {
            let o =
                XentOptions { class_weights: weighted.then_some(&w), label_smoothing: smoothing, ignore_index: None };
            check(
                &format!("cross_entropy {reduction:?} weighted={weighted}"),
                &[input(16, &[n, c], -3.0, 3.0)],
                |v| v[0].cross_entropy(&labels(&y), &o, reduction),
                |h| {
                    let (loss, wy) = twin::cross_entropy(&h[0], &y, c, weighted.then_some(&w64[..]), smoothing);
                    match reduction {
                        Reduction::None => loss,
                        Reduction::Sum => vec![loss.iter().sum()],
                        Reduction::Mean => vec![loss.iter().sum::<f64>() / wy.iter().sum::<f64>()],
                    }
                },
            );
        }
    }
}

#[test]
fn dropout_gradient_reuses_the_forward_mask() {
    let (n, p, seed) = (257, 0.3, 42);
    // The twin's mask: dropout of ones is 0 or 1 / (1 - p) per element.
    let mask = reference::dropout(&RandomParams::dropout(n, seed, p, 0), &vec![1.0f32; n]);
    check(
        "dropout",
        &[input(17, &[n], -1.0, 1.0)],
        |v| v[0].dropout(p, seed),
        |h| h[0].iter().zip(&mask).map(|(x, &m)| x * m as f64).collect(),
    );
}

#[test]
fn the_fused_lstm_cell_gradient_checks_against_the_host_cell() {
    // Gates [3, 4*5] and c_prev [3, 5]; the reference is the cell written out in f64.
    let (n, u) = (3, 5);
    let host = |v: &[Vec<f64>]| -> Vec<f64> {
        let (g, c) = (&v[0], &v[1]);
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let mut out = vec![0.0; n * 2 * u];
        for r in 0..n {
            for j in 0..u {
                let at = |b: usize| g[r * 4 * u + b * u + j];
                let cell = sig(at(1)) * c[r * u + j] + sig(at(0)) * at(2).tanh();
                out[r * 2 * u + j] = sig(at(3)) * cell.tanh();
                out[r * 2 * u + u + j] = cell;
            }
        }
        out
    };
    let inputs = [input(31, &[n, 4 * u], -3.0, 3.0), input(32, &[n, u], -2.0, 2.0)];
    check("lstm_cell", &inputs, |v| Var::lstm_cell(&v[0], &v[1]), host);
}

#[test]
fn the_fused_gru_cell_gradient_checks_against_the_host_cell() {
    let (n, u) = (3, 4);
    let host = |v: &[Vec<f64>]| -> Vec<f64> {
        let (xp, hp, h) = (&v[0], &v[1], &v[2]);
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let mut out = vec![0.0; n * u];
        for r in 0..n {
            for j in 0..u {
                let at = |b: usize| r * 3 * u + b * u + j;
                let z = sig(xp[at(0)] + hp[at(0)]);
                let reset = sig(xp[at(1)] + hp[at(1)]);
                let g = (xp[at(2)] + reset * hp[at(2)]).tanh();
                out[r * u + j] = g + z * (h[r * u + j] - g);
            }
        }
        out
    };
    let inputs = [input(41, &[n, 3 * u], -2.0, 2.0), input(42, &[n, 3 * u], -2.0, 2.0), input(43, &[n, u], -1.0, 1.0)];
    check("gru_cell", &inputs, |v| Var::gru_cell(&v[0], &v[1], &v[2]), host);
}
