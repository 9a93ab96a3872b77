//! Each layer's forward pass against a host computation.

use wgtrain::autograd::Var;
use wgtrain::layers::*;
use wgtrain::models::{Network, Sequential};
use wgtrain::tensor::Tensor;

use crate::harness::{assert_close, data, dev, tensor};

/// Runs a one-layer model in inference (or training) mode on host data.
fn run(
    layer: impl Layer + 'static,
    input: &[usize],
    batch: usize,
    x: &[f32],
    training: bool,
) -> (Sequential, Vec<f32>, Vec<usize>) {
    let net = Sequential::new(dev(), input).seed(3).add(layer).unwrap();
    let mut shape = vec![batch];
    shape.extend(input);
    let y = net.forward(&Var::constant(tensor(x, &shape)), &mut Ctx::new(training, 1)).unwrap();
    let out_shape = y.shape().to_vec();
    (net, y.to_vec().unwrap(), out_shape)
}

fn param(net: &Sequential, name: &str) -> Vec<f32> {
    net.params().into_iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no {name}")).var.to_vec().unwrap()
}

#[test]
fn dense_is_x_kernel_plus_bias_then_the_activation() {
    let (b, k, u) = (3, 5, 4);
    let x = data(1, b * k);
    for act in [Activation::Linear, Activation::Relu, Activation::Tanh, Activation::Softmax] {
        let (net, y, shape) = run(
            Dense::new(u).activation(act).bias_initializer(wgtrain::init::Initializer::Constant(0.1)),
            &[k],
            b,
            &x,
            false,
        );
        assert_eq!(shape, [b, u]);
        let w = param(&net, "dense_1/kernel");
        let mut want = vec![0.0f32; b * u];
        for i in 0..b {
            for j in 0..u {
                let z: f32 = (0..k).map(|t| x[i * k + t] * w[t * u + j]).sum::<f32>() + 0.1;
                want[i * u + j] = match act {
                    Activation::Relu => z.max(0.0),
                    Activation::Tanh => z.tanh(),
                    _ => z,
                };
            }
            if act == Activation::Softmax {
                let row = &mut want[i * u..(i + 1) * u];
                let m = row.iter().cloned().fold(f32::MIN, f32::max);
                let s: f32 = row.iter().map(|v| (v - m).exp()).sum();
                row.iter_mut().for_each(|v| *v = (*v - m).exp() / s);
            }
        }
        assert_close(&y, &want, 1e-4);
    }
}

/// Naive NCHW convolution with explicit (top, bottom, left, right) padding.
#[allow(clippy::too_many_arguments)]
fn conv_host(
    x: &[f32],
    xs: [usize; 4],
    w: &[f32],
    ws: [usize; 4],
    stride: usize,
    pad: [usize; 4],
    groups: usize,
    bias: &[f32],
) -> (Vec<f32>, [usize; 4]) {
    let [n, c, h, wd] = xs;
    let [oc, cg, kh, kw] = ws;
    let oh = (h + pad[0] + pad[1] - kh) / stride + 1;
    let ow = (wd + pad[2] + pad[3] - kw) / stride + 1;
    let ocg = oc / groups;
    let mut y = vec![0.0f32; n * oc * oh * ow];
    for b in 0..n {
        for o in 0..oc {
            let g = o / ocg;
            for i in 0..oh {
                for j in 0..ow {
                    let mut s = bias[o];
                    for ci in 0..cg {
                        let ch = g * cg + ci;
                        for u in 0..kh {
                            for v in 0..kw {
                                let (r, q) = (
                                    (i * stride + u) as isize - pad[0] as isize,
                                    (j * stride + v) as isize - pad[2] as isize,
                                );
                                if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < wd {
                                    s += x[((b * c + ch) * h + r as usize) * wd + q as usize]
                                        * w[((o * cg + ci) * kh + u) * kw + v];
                                }
                            }
                        }
                    }
                    y[((b * oc + o) * oh + i) * ow + j] = s;
                }
            }
        }
    }
    let _ = c;
    (y, [n, oc, oh, ow])
}

#[test]
fn conv2d_valid_same_and_asymmetric_same_padding() {
    let xs = [2, 3, 7, 6];
    let x = data(2, xs.iter().product());
    // (padding, stride, host padding top/bottom/left/right)
    let cases = [(Padding::Valid, 1, [0, 0, 0, 0]), (Padding::Same, 1, [1, 1, 1, 1]), (Padding::Same, 2, [1, 1, 0, 1])];
    for (padding, stride, pad) in cases {
        let layer = Conv2d::new(4, [3, 3]).padding(padding).strides([stride; 2]);
        let (net, y, shape) = run(layer, &xs[1..], 2, &x, false);
        let w = param(&net, "conv2d_1/kernel");
        let (want, ws) = conv_host(&x, xs, &w, [4, 3, 3, 3], stride, pad, 1, &[0.0; 4]);
        assert_eq!(shape, ws, "{padding:?} s{stride}");
        assert_eq!(net.output_shape(), &ws[1..]);
        assert_close(&y, &want, 1e-4);
    }
}

#[test]
fn depthwise_and_transposed_convolutions() {
    let xs = [1, 3, 5, 5];
    let x = data(3, 75);
    let (net, y, shape) = run(DepthwiseConv2d::new([3, 3]).depth_multiplier(2), &xs[1..], 1, &x, false);
    assert_eq!(shape, [1, 6, 3, 3]);
    let w = param(&net, "depthwise_conv2d_1/kernel");
    let (want, _) = conv_host(&x, xs, &w, [6, 1, 3, 3], 1, [0; 4], 3, &[0.0; 6]);
    assert_close(&y, &want, 1e-4);

    // A stride-2 transposed convolution is the adjoint of a stride-2 convolution:
    // <conv_t(x), z> = <x, conv(z)> with the same weight tensor read as [out, in, kh, kw].
    let (net, y, shape) = run(
        ConvTranspose2d::new(2, [3, 3]).strides([2, 2]).padding([1, 1]).output_padding([1, 1]),
        &[3, 4, 4],
        1,
        &data(4, 48),
        false,
    );
    assert_eq!(shape, [1, 2, 8, 8]);
    let w = param(&net, "conv2d_transpose_1/kernel"); // [3, 2, 3, 3]
    let z = data(5, 128);
    let (cz, cs) = conv_host(&z, [1, 2, 8, 8], &w, [3, 2, 3, 3], 2, [1, 1, 1, 1], 1, &[0.0; 3]);
    assert_eq!(cs, [1, 3, 4, 4]);
    let lhs: f32 = y.iter().zip(&z).map(|(a, b)| a * b).sum();
    let rhs: f32 = data(4, 48).iter().zip(&cz).map(|(a, b)| a * b).sum();
    assert!((lhs - rhs).abs() < 1e-3 * (1.0 + rhs.abs()), "{lhs} vs {rhs}");
}

#[test]
fn pooling_layers() {
    let x = data(6, 2 * 4 * 4);
    let (_, y, shape) = run(MaxPool2d::new([2, 2]), &[2, 4, 4], 1, &x, false);
    assert_eq!(shape, [1, 2, 2, 2]);
    let (_, a, _) = run(AvgPool2d::new([2, 2]), &[2, 4, 4], 1, &x, false);
    for c in 0..2 {
        for i in 0..2 {
            for j in 0..2 {
                let win: Vec<f32> = (0..4).map(|t| x[c * 16 + (2 * i + t / 2) * 4 + 2 * j + t % 2]).collect();
                assert_eq!(y[c * 4 + i * 2 + j], win.iter().cloned().fold(f32::MIN, f32::max));
                assert!((a[c * 4 + i * 2 + j] - win.iter().sum::<f32>() / 4.0).abs() < 1e-6);
            }
        }
    }
    let (_, g, shape) = run(GlobalAvgPool2d::new(), &[2, 4, 4], 1, &x, false);
    assert_eq!(shape, [1, 2]);
    assert_close(&g, &[x[..16].iter().sum::<f32>() / 16.0, x[16..].iter().sum::<f32>() / 16.0], 1e-5);
}

#[test]
fn flatten_reshape_dropout_and_activations() {
    let x = data(7, 2 * 12);
    let (_, y, shape) = run(Flatten::new(), &[3, 4], 2, &x, false);
    assert_eq!((shape, y.clone()), (vec![2, 12], x.clone()));
    let (_, _, shape) = run(Reshape::new(&[2, -1]), &[3, 4], 2, &x, false);
    assert_eq!(shape, [2, 2, 6]);

    let ones = vec![1.0f32; 4000];
    let (_, y, _) = run(Dropout::new(0.25), &[4000], 1, &ones, true);
    let kept = y.iter().filter(|&&v| v != 0.0).count() as f32 / 4000.0;
    assert!((kept - 0.75).abs() < 0.03, "kept {kept}");
    assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    let (_, y, _) = run(Dropout::new(0.25), &[4000], 1, &ones, false);
    assert_eq!(y, ones);

    let (_, y, _) = run(ActivationLayer::new(Activation::LeakyRelu(0.2)), &[12], 2, &x, false);
    assert_close(&y, &x.iter().map(|&v| if v > 0.0 { v } else { 0.2 * v }).collect::<Vec<_>>(), 1e-6);
    let (_, y, _) = run(PRelu::per_channel(), &[3, 4], 2, &x, false);
    assert_close(&y, &x.iter().map(|&v| if v > 0.0 { v } else { 0.25 * v }).collect::<Vec<_>>(), 1e-6);
}

#[test]
fn batch_norm_uses_batch_statistics_in_training_and_running_ones_in_inference() {
    let (n, c) = (16, 3);
    let x: Vec<f32> = data(8, n * c).iter().enumerate().map(|(i, v)| v * (1 + i % c) as f32 + (i % c) as f32).collect();
    let (net, y, _) = run(BatchNorm::new(), &[c], n, &x, true);
    for ch in 0..c {
        let col: Vec<f32> = (0..n).map(|i| y[i * c + ch]).collect();
        let mean = col.iter().sum::<f32>() / n as f32;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n as f32;
        // Normalized by sqrt(var + eps), eps 1e-3 (Keras): the variance is var / (var + eps).
        let xs: Vec<f32> = (0..n).map(|i| x[i * c + ch]).collect();
        let xm = xs.iter().sum::<f32>() / n as f32;
        let xv = xs.iter().map(|v| (v - xm).powi(2)).sum::<f32>() / n as f32;
        let want = xv / (xv + 1e-3);
        assert!(mean.abs() < 1e-4 && (var - want).abs() < 1e-4, "channel {ch}: mean {mean} var {var}, want {want}");
    }
    let buffers = net.buffers();
    let running_mean = buffers[0].1.to_vec::<f32>().unwrap();
    let host_mean: Vec<f32> = (0..c).map(|ch| (0..n).map(|i| x[i * c + ch]).sum::<f32>() / n as f32).collect();
    // Keras' momentum 0.99: running = 0.99 * 0 + 0.01 * batch mean.
    assert_close(&running_mean, &host_mean.iter().map(|m| 0.01 * m).collect::<Vec<_>>(), 1e-5);
    // Inference: (x - running_mean) / sqrt(running_var + eps).
    let y = net.forward(&Var::constant(tensor(&x, &[n, c])), &mut Ctx::new(false, 0)).unwrap().to_vec().unwrap();
    let rv = buffers[1].1.to_vec::<f32>().unwrap();
    let want: Vec<f32> =
        x.iter().enumerate().map(|(i, v)| (v - running_mean[i % c]) / (rv[i % c] + 1e-3).sqrt()).collect();
    assert_close(&y, &want, 1e-5);
}

#[test]
fn layer_norm_and_embedding() {
    let x = data(9, 2 * 5);
    let (_, y, _) = run(LayerNorm::new(), &[5], 2, &x, false);
    for r in 0..2 {
        let row = &x[r * 5..r * 5 + 5];
        let m = row.iter().sum::<f32>() / 5.0;
        let v = row.iter().map(|a| (a - m).powi(2)).sum::<f32>() / 5.0;
        let want: Vec<f32> = row.iter().map(|a| (a - m) / (v + 1e-3).sqrt()).collect();
        assert_close(&y[r * 5..r * 5 + 5], &want, 1e-4);
    }
    let net = Sequential::new(dev(), &[3]).add(Embedding::new(10, 4)).unwrap();
    let ids = Tensor::from_slice(dev(), &[1u32, 9, 1, 0, 2, 3], &[2, 3]).unwrap();
    let y = net.forward(&Var::constant(ids), &mut Ctx::new(false, 0)).unwrap();
    assert_eq!(y.shape(), &[2, 3, 4]);
    let table = param(&net, "embedding_1/embeddings");
    let y = y.to_vec().unwrap();
    for (p, id) in [1usize, 9, 1, 0, 2, 3].into_iter().enumerate() {
        assert_eq!(&y[p * 4..p * 4 + 4], &table[id * 4..id * 4 + 4]);
    }
}

/// The host recurrence over `x` `[n, t, d]` with kernel `[d, g u]`, recurrent `[u, g u]`.
fn recurrent_host(cell: Cell, x: &[f32], (n, t, d, u): (usize, usize, usize, usize), p: &[Vec<f32>]) -> Vec<f32> {
    let g = match cell {
        Cell::Simple => 1,
        Cell::Lstm => 4,
        Cell::Gru => 3,
    };
    let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
    let mut out = Vec::new();
    for b in 0..n {
        let (mut h, mut c) = (vec![0.0f32; u], vec![0.0f32; u]);
        for s in 0..t {
            let xt = &x[(b * t + s) * d..(b * t + s + 1) * d];
            let xg: Vec<f32> =
                (0..g * u).map(|j| (0..d).map(|k| xt[k] * p[0][k * g * u + j]).sum::<f32>() + p[2][j]).collect();
            let mut hg: Vec<f32> =
                (0..g * u).map(|j| (0..u).map(|k| h[k] * p[1][k * g * u + j]).sum::<f32>()).collect();
            if cell == Cell::Gru {
                hg.iter_mut().zip(&p[3]).for_each(|(v, b)| *v += b);
            }
            h = match cell {
                Cell::Simple => (0..u).map(|j| (xg[j] + hg[j]).tanh()).collect(),
                Cell::Lstm => {
                    let a: Vec<f32> = xg.iter().zip(&hg).map(|(a, b)| a + b).collect();
                    c = (0..u).map(|j| sig(a[u + j]) * c[j] + sig(a[j]) * a[2 * u + j].tanh()).collect();
                    (0..u).map(|j| sig(a[3 * u + j]) * c[j].tanh()).collect()
                }
                Cell::Gru => (0..u)
                    .map(|j| {
                        let z = sig(xg[j] + hg[j]);
                        let r = sig(xg[u + j] + hg[u + j]);
                        let cand = (xg[2 * u + j] + r * hg[2 * u + j]).tanh();
                        z * h[j] + (1.0 - z) * cand
                    })
                    .collect(),
            };
        }
        out.extend(h);
    }
    out
}

#[test]
fn recurrent_layers_match_the_host_recurrence() {
    let (n, t, d, u) = (2, 4, 3, 5);
    let x = data(10, n * t * d);
    for cell in [Cell::Simple, Cell::Lstm, Cell::Gru] {
        let (net, y, shape) = run(Recurrent::new(cell, u), &[t, d], n, &x, false);
        assert_eq!(shape, [n, u]);
        let p: Vec<Vec<f32>> = net.params().iter().map(|p| p.var.to_vec().unwrap()).collect();
        assert_close(&y, &recurrent_host(cell, &x, (n, t, d, u), &p), 1e-4);
        let (_, _, shape) = run(Recurrent::new(cell, u).return_sequences(true), &[t, d], n, &x, false);
        assert_eq!(shape, [n, t, u]);
    }
}
