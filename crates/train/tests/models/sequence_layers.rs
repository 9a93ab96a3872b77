//! `Conv1d` (stride, padding, dilation), global max pooling over sequences and images,
//! `Bidirectional` (every merge mode, SimpleRNN, LSTM and GRU halves) and `MultiHeadAttention`
//! (causal or not, in a residual block with layer norm), each against host math and with a
//! finite-difference check of its backward.

use wgtrain::autograd::Var;
use wgtrain::autograd::gradcheck::{CheckInput, GradcheckOptions, gradcheck};
use wgtrain::layers::*;
use wgtrain::models::{Network, Sequential};

use crate::harness::{data, dev, tensor};

/// Keras' 1-D convolution on the host: x `[n, steps, c]`, w `[f, c, 1, k]`, b `[f]`, with
/// (kernel, stride, dilation, same padding).
fn host_conv1d(
    x: &[f64],
    (n, steps, c): (usize, usize, usize),
    w: &[f32],
    b: &[f32],
    (k, s, d, same): (usize, usize, usize, bool),
) -> Vec<f64> {
    let f = b.len();
    let span = (k - 1) * d + 1;
    let (out, lo) = if same {
        let out = steps.div_ceil(s);
        (out, ((out - 1) * s + span).saturating_sub(steps) / 2)
    } else {
        ((steps - span) / s + 1, 0)
    };
    let mut y = vec![0.0; n * out * f];
    for i in 0..n {
        for t in 0..out {
            for o in 0..f {
                let mut acc = b[o] as f64;
                for ch in 0..c {
                    for tap in 0..k {
                        let pos = (t * s + tap * d) as isize - lo as isize;
                        if pos >= 0 && (pos as usize) < steps {
                            acc += w[(o * c + ch) * k + tap] as f64 * x[(i * steps + pos as usize) * c + ch];
                        }
                    }
                }
                y[(i * out + t) * f + o] = acc;
            }
        }
    }
    y
}

const TOL: GradcheckOptions = GradcheckOptions { eps: 1e-6, atol: 2e-4, rtol: 2e-3, seed: 3 };

#[test]
fn conv1d_matches_the_host_with_stride_padding_and_dilation_and_its_gradient_checks() {
    let (n, steps, c, f, k) = (2, 11, 3, 4, 3);
    for (s, d, same) in [(1, 1, false), (2, 1, false), (1, 2, false), (2, 2, true), (1, 1, true)] {
        let layer = Conv1d::new(f, k).strides(s).dilation(d).padding(if same { Padding::Same } else { Padding::Valid });
        let net = Sequential::new(dev(), &[steps, c]).seed(4).add(layer).unwrap();
        let p = net.params();
        let (w, b) = (p[0].var.to_vec().unwrap(), p[1].var.to_vec().unwrap());
        assert_eq!(p[0].var.shape(), &[f, c, 1, k]);
        let xs = data(5, n * steps * c);
        let x64: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
        let want = host_conv1d(&x64, (n, steps, c), &w, &b, (k, s, d, same));
        let y = net.forward(&Var::constant(tensor(&xs, &[n, steps, c])), &mut Ctx::new(false, 0)).unwrap();
        let out = want.len() / (n * f);
        assert_eq!(y.shape(), &[n, out, f], "stride {s} dilation {d} same {same}");
        let got = y.to_vec().unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((*g as f64 - w).abs() < 1e-4, "stride {s} dilation {d} same {same}: element {i} {g} vs {w}");
        }
        let input = [CheckInput { data: xs.clone(), shape: vec![n, steps, c] }];
        let reference = |v: &[Vec<f64>]| host_conv1d(&v[0], (n, steps, c), &w, &b, (k, s, d, same));
        let forward = |v: &[Var]| {
            net.forward(&v[0], &mut Ctx::new(false, 0))
                .map_err(|e| wgtrain::autograd::AutogradError::Argument { op: "conv1d", why: e.to_string() })
        };
        gradcheck(dev(), &input, forward, reference, &TOL).unwrap_or_else(|e| panic!("stride {s} dilation {d}: {e}"));
    }
    let e = Sequential::new(dev(), &[2, 3]).add(Conv1d::new(2, 5)).err().unwrap().to_string();
    assert!(e.contains("conv1d"), "a window longer than the sequence: {e}");
}

#[test]
fn global_max_pooling_over_steps_and_pixels_matches_the_host_and_routes_the_gradient() {
    // Distinct values: one maximum per reduction.
    let (n, steps, feat) = (2, 5, 3);
    let xs: Vec<f32> = (0..n * steps * feat).map(|i| ((i * 37) % 29) as f32 * 0.1 - 1.0).collect();
    let net = Sequential::new(dev(), &[steps, feat]).add(GlobalMaxPool1d::new()).unwrap();
    let host1 = |x: &[f64]| -> Vec<f64> {
        (0..n * feat)
            .map(|j| (0..steps).map(|t| x[((j / feat) * steps + t) * feat + j % feat]).fold(f64::MIN, f64::max))
            .collect()
    };
    let y = net.forward(&Var::constant(tensor(&xs, &[n, steps, feat])), &mut Ctx::new(false, 0)).unwrap();
    let x64: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
    assert_eq!(y.to_vec().unwrap().iter().map(|&v| v as f64).collect::<Vec<_>>(), host1(&x64));
    let forward = |v: &[Var]| {
        net.forward(&v[0], &mut Ctx::new(false, 0))
            .map_err(|e| wgtrain::autograd::AutogradError::Argument { op: "pool", why: e.to_string() })
    };
    gradcheck(dev(), &[CheckInput { data: xs.clone(), shape: vec![n, steps, feat] }], forward, |v| host1(&v[0]), &TOL)
        .unwrap();

    let (c, h, w) = (3, 2, 4);
    let xs: Vec<f32> = (0..n * c * h * w).map(|i| ((i * 53) % 47) as f32 * 0.05 - 1.0).collect();
    let net = Sequential::new(dev(), &[c, h, w]).add(GlobalMaxPool2d::new()).unwrap();
    let host2 =
        |x: &[f64]| -> Vec<f64> { x.chunks(h * w).map(|p| p.iter().copied().fold(f64::MIN, f64::max)).collect() };
    let y = net.forward(&Var::constant(tensor(&xs, &[n, c, h, w])), &mut Ctx::new(false, 0)).unwrap();
    assert_eq!(y.shape(), &[n, c]);
    let x64: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
    assert_eq!(y.to_vec().unwrap().iter().map(|&v| v as f64).collect::<Vec<_>>(), host2(&x64));
    let forward = |v: &[Var]| {
        net.forward(&v[0], &mut Ctx::new(false, 0))
            .map_err(|e| wgtrain::autograd::AutogradError::Argument { op: "pool", why: e.to_string() })
    };
    gradcheck(dev(), &[CheckInput { data: xs, shape: vec![n, c, h, w] }], forward, |v| host2(&v[0]), &TOL).unwrap();
    assert!(Sequential::new(dev(), &[4]).add(GlobalMaxPool1d::new()).is_err());
}

/// A SimpleRNN on the host: `h_t = tanh(x_t W + h_{t-1} U + b)` over `x` `[n, t, f]`, every step's state.
fn host_rnn(x: &[f64], (n, t, f): (usize, usize, usize), w: &[f32], u: &[f32], b: &[f32]) -> Vec<f64> {
    let units = b.len();
    let mut out = vec![0.0; n * t * units];
    for i in 0..n {
        let mut h = vec![0.0f64; units];
        for s in 0..t {
            let next: Vec<f64> = (0..units)
                .map(|k| {
                    let from_x: f64 = (0..f).map(|j| x[(i * t + s) * f + j] * w[j * units + k] as f64).sum();
                    let from_h: f64 = (0..units).map(|j| h[j] * u[j * units + k] as f64).sum();
                    (from_x + from_h + b[k] as f64).tanh()
                })
                .collect();
            out[(i * t + s) * units..(i * t + s + 1) * units].copy_from_slice(&next);
            h = next;
        }
    }
    out
}

/// `v` `[n, t, k]` reversed in time.
fn reverse_time(v: &[f64], (n, t, k): (usize, usize, usize)) -> Vec<f64> {
    (0..n * t * k).map(|i| v[((i / (t * k)) * t + (t - 1 - (i / k) % t)) * k + i % k]).collect()
}

#[test]
fn bidirectional_runs_a_copy_backwards_and_merges_each_way() {
    let (n, t, f, u) = (2, 5, 2, 3);
    let xs = data(31, n * t * f);
    let x64: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
    for return_sequences in [false, true] {
        for mode in [MergeMode::Concat, MergeMode::Sum, MergeMode::Mul, MergeMode::Ave] {
            let bi = Bidirectional::new(SimpleRnn::new(u).return_sequences(return_sequences)).merge_mode(mode);
            let net = Sequential::new(dev(), &[t, f]).seed(32).add(bi).unwrap();
            let p: Vec<Vec<f32>> = net.params().iter().map(|p| p.var.to_vec().unwrap()).collect();
            assert_eq!(p.len(), 6, "two halves of kernel, recurrent kernel, bias");
            assert!(net.params()[3].name.contains("backward"), "{}", net.params()[3].name);
            assert_ne!(p[0], p[3], "the backward half has weights of its own");
            let host = |x: &[f64]| -> Vec<f64> {
                let ahead = host_rnn(x, (n, t, f), &p[0], &p[1], &p[2]);
                let behind =
                    reverse_time(&host_rnn(&reverse_time(x, (n, t, f)), (n, t, f), &p[3], &p[4], &p[5]), (n, t, u));
                // The last state of each direction: the forward one's at step t-1, the backward one's
                // (reversed back) at step 0.
                let (a, b): (Vec<f64>, Vec<f64>) = if return_sequences {
                    (ahead, behind)
                } else {
                    let last = |v: &[f64], s: usize| {
                        (0..n).flat_map(|i| v[(i * t + s) * u..(i * t + s + 1) * u].to_vec()).collect::<Vec<_>>()
                    };
                    (last(&ahead, t - 1), last(&behind, 0))
                };
                match mode {
                    MergeMode::Concat => a
                        .chunks(u)
                        .zip(b.chunks(u))
                        .flat_map(|(x, y)| x.iter().chain(y).copied().collect::<Vec<_>>())
                        .collect(),
                    MergeMode::Sum => a.iter().zip(&b).map(|(x, y)| x + y).collect(),
                    MergeMode::Mul => a.iter().zip(&b).map(|(x, y)| x * y).collect(),
                    MergeMode::Ave => a.iter().zip(&b).map(|(x, y)| (x + y) / 2.0).collect(),
                }
            };
            let y = net.forward(&Var::constant(tensor(&xs, &[n, t, f])), &mut Ctx::new(false, 0)).unwrap();
            let width = if mode == MergeMode::Concat { 2 * u } else { u };
            let want_shape = if return_sequences { vec![n, t, width] } else { vec![n, width] };
            assert_eq!(y.shape(), &want_shape[..], "{mode:?} sequences {return_sequences}");
            let want = host(&x64);
            for (i, (g, w)) in y.to_vec().unwrap().iter().zip(&want).enumerate() {
                assert!((*g as f64 - w).abs() < 1e-4, "{mode:?} sequences {return_sequences}: element {i} {g} vs {w}");
            }
            let forward = |v: &[Var]| {
                net.forward(&v[0], &mut Ctx::new(false, 0))
                    .map_err(|e| wgtrain::autograd::AutogradError::Argument { op: "bidirectional", why: e.to_string() })
            };
            let input = [CheckInput { data: xs.clone(), shape: vec![n, t, f] }];
            gradcheck(dev(), &input, forward, |v| host(&v[0]), &TOL).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        }
    }
    // LSTM and GRU halves: shapes, and each half's own weights.
    for layer in [Lstm::new(4), Gru::new(4)] {
        let net = Sequential::new(dev(), &[t, f]).seed(33).add(Bidirectional::new(layer)).unwrap();
        let y = net.forward(&Var::constant(tensor(&xs, &[n, t, f])), &mut Ctx::new(false, 0)).unwrap();
        assert_eq!(y.shape(), &[n, 8]);
        let names: Vec<String> = net.params().iter().map(|p| p.name.clone()).collect();
        assert!(names.iter().filter(|n| n.contains("/forward/")).count() == names.len() / 2, "{names:?}");
    }
    assert!(Sequential::new(dev(), &[5]).add(Bidirectional::new(SimpleRnn::new(2))).is_err());
}

/// Self-attention on the host: x `[n, t, e]` with `p` = (kernel, bias) x (query, key, value,
/// output), `heads` of `dk`.
fn host_attention(
    x: &[f64],
    (n, t, e): (usize, usize, usize),
    p: &[Vec<f32>],
    heads: usize,
    dk: usize,
    causal: bool,
) -> Vec<f64> {
    host_cross(x, x, (n, t, e), (t, e), p, heads, dk, causal)
}

/// Attention on the host: queries `[n, tq, eq]` attending to values (and keys) `[n, tv, ev]`.
#[allow(clippy::too_many_arguments)]
fn host_cross(
    query: &[f64],
    value: &[f64],
    (n, tq, eq): (usize, usize, usize),
    (tv, ev): (usize, usize),
    p: &[Vec<f32>],
    heads: usize,
    dk: usize,
    causal: bool,
) -> Vec<f64> {
    let proj = |w: &[f32], b: &[f32], rows: &[f64], inn: usize| -> Vec<f64> {
        let out = b.len();
        rows.chunks(inn)
            .flat_map(|r| {
                (0..out)
                    .map(|o| b[o] as f64 + (0..inn).map(|j| r[j] * w[j * out + o] as f64).sum::<f64>())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (q, k, v) = (proj(&p[0], &p[1], query, eq), proj(&p[2], &p[3], value, ev), proj(&p[4], &p[5], value, ev));
    let hd = heads * dk;
    let mut merged = vec![0.0; n * tq * hd];
    for i in 0..n {
        for h in 0..heads {
            for a in 0..tq {
                let at = |m: &[f64], t: usize, s: usize, d: usize| m[(i * t + s) * hd + h * dk + d];
                let scores: Vec<f64> = (0..tv)
                    .map(|s| {
                        if causal && s > a {
                            f64::NEG_INFINITY
                        } else {
                            (0..dk).map(|d| at(&q, tq, a, d) * at(&k, tv, s, d)).sum::<f64>() / (dk as f64).sqrt()
                        }
                    })
                    .collect();
                let m = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = scores.iter().map(|s| (s - m).exp()).sum();
                for d in 0..dk {
                    merged[(i * tq + a) * hd + h * dk + d] =
                        (0..tv).map(|s| (scores[s] - m).exp() / z * at(&v, tv, s, d)).sum();
                }
            }
        }
    }
    proj(&p[6], &p[7], &merged, hd)
}

#[test]
fn cross_attention_attends_from_a_query_to_a_value_and_round_trips() {
    use wgtrain::models::{Functional, Model, load_model};
    use wgtrain::prelude::{Adam, MeanSquaredError};

    let (n, tq, eq, tv, ev, heads, dk) = (2, 3, 4, 5, 6, 2, 3);
    let (qs, vs) = (data(51, n * tq * eq), data(52, n * tv * ev));
    for causal in [false, true] {
        let mut g = Functional::new(dev()).seed(53);
        let (query, value) = (g.input("query", &[tq, eq]), g.input("value", &[tv, ev]));
        let out = g.apply_pair(MultiHeadAttention::new(heads, dk).causal(causal), query, value).unwrap();
        g.set_outputs(&[out]).unwrap();
        for p in g.params() {
            if p.name.ends_with("bias") {
                p.var.data().assign(&tensor(&data(54, p.var.len()), p.var.shape())).unwrap();
            }
        }
        let p: Vec<Vec<f32>> = g.params().iter().map(|p| p.var.to_vec().unwrap()).collect();
        assert_eq!(g.summary_rows()[2].output, [tq, eq], "the query's shape");
        let host = |v: &[Vec<f64>]| host_cross(&v[0], &v[1], (n, tq, eq), (tv, ev), &p, heads, dk, causal);
        let forward = |v: &[Var]| {
            let outs = g.forward_all(v, &mut Ctx::new(false, 0));
            outs.map(|mut o| o.swap_remove(0))
                .map_err(|err| wgtrain::autograd::AutogradError::Argument { op: "attention", why: err.to_string() })
        };
        let inputs = [
            CheckInput { data: qs.clone(), shape: vec![n, tq, eq] },
            CheckInput { data: vs.clone(), shape: vec![n, tv, ev] },
        ];
        gradcheck(dev(), &inputs, forward, host, &TOL).unwrap_or_else(|err| panic!("causal {causal}: {err}"));

        // load_model rebuilds the pair call.
        let mut m = Model::new(g);
        m.compile(Adam::new(1e-3), MeanSquaredError, vec![]).unwrap();
        let dir = std::env::temp_dir().join(format!("wgtrain-cross-{}-{causal}", std::process::id()));
        m.save(&dir).unwrap();
        let mut loaded = load_model(&dir, dev()).unwrap();
        let xs = [tensor(&qs, &[n, tq, eq]), tensor(&vs, &[n, tv, ev])];
        let (a, b) = (m.predict_inputs(&xs, 8).unwrap(), loaded.predict_inputs(&xs, 8).unwrap());
        assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    }
    // A layer of one input refuses two.
    let mut g = Functional::new(dev());
    let (a, b) = (g.input("a", &[2, 3]), g.input("b", &[2, 3]));
    let err = g.apply_pair(Dense::new(2), a, b).expect_err("Dense takes one input").to_string();
    assert!(err.contains("one input"), "{err}");
    // A zero extent is refused for two inputs as for one; a layer is called alike every time.
    let empty = g.input("empty", &[0, 3]);
    assert!(g.apply_pair(MultiHeadAttention::new(1, 2), a, empty).is_err());
    let shared = g.layer(MultiHeadAttention::new(1, 2));
    g.call_pair(shared, a, b).unwrap();
    let err = g.call(shared, a).expect_err("built for two inputs").to_string();
    assert!(err.contains("[[2, 3], [2, 3]]") && err.contains("[[2, 3]]"), "{err}");
}

#[test]
fn multi_head_attention_matches_the_host_masks_the_future_and_trains_in_a_block() {
    let (n, t, e, heads, dk) = (2, 4, 6, 2, 3);
    let xs = data(41, n * t * e);
    let x64: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
    for causal in [false, true] {
        let net =
            Sequential::new(dev(), &[t, e]).seed(42).add(MultiHeadAttention::new(heads, dk).causal(causal)).unwrap();
        let names: Vec<String> = net.params().iter().map(|p| p.name.clone()).collect();
        assert_eq!(names.len(), 8);
        assert!(names[0].ends_with("query/kernel") && names[7].ends_with("attention_output/bias"), "{names:?}");
        // Nonzero biases, so the host must add them.
        for p in net.params() {
            if p.name.ends_with("bias") {
                let b = data(43, p.var.len());
                p.var.data().assign(&tensor(&b, p.var.shape())).unwrap();
            }
        }
        let p: Vec<Vec<f32>> = net.params().iter().map(|p| p.var.to_vec().unwrap()).collect();
        let y = net.forward(&Var::constant(tensor(&xs, &[n, t, e])), &mut Ctx::new(false, 0)).unwrap();
        assert_eq!(y.shape(), &[n, t, e]);
        let want = host_attention(&x64, (n, t, e), &p, heads, dk, causal);
        for (i, (g, w)) in y.to_vec().unwrap().iter().zip(&want).enumerate() {
            assert!((*g as f64 - w).abs() < 1e-4, "causal {causal}: element {i} {g} vs {w}");
        }
        let forward = |v: &[Var]| {
            net.forward(&v[0], &mut Ctx::new(false, 0))
                .map_err(|err| wgtrain::autograd::AutogradError::Argument { op: "attention", why: err.to_string() })
        };
        let input = [CheckInput { data: xs.clone(), shape: vec![n, t, e] }];
        gradcheck(dev(), &input, forward, |v| host_attention(&v[0], (n, t, e), &p, heads, dk, causal), &TOL)
            .unwrap_or_else(|err| panic!("causal {causal}: {err}"));
        if causal {
            // Step 0 sees only step 0: changing the last step leaves it as it was.
            let mut changed = xs.clone();
            changed[(t - 1) * e..t * e].iter_mut().for_each(|v| *v += 1.0);
            let y2 = net.forward(&Var::constant(tensor(&changed, &[n, t, e])), &mut Ctx::new(false, 0)).unwrap();
            assert_eq!(y.to_vec().unwrap()[..e], y2.to_vec().unwrap()[..e]);
        }
    }
    // A transformer block: attention, a residual sum, layer norm; it trains.
    use wgtrain::losses::MeanSquaredError;
    use wgtrain::models::{Functional, Model};
    use wgtrain::optim::Adam;
    let mut g = Functional::new(dev()).seed(44);
    let x = g.input("x", &[t, e]);
    let a = g.apply(MultiHeadAttention::new(heads, dk).causal(true), x).unwrap();
    let sum = g.add(&[x, a]).unwrap();
    let out = g.apply(LayerNorm::new(), sum).unwrap();
    g.set_outputs(&[out]).unwrap();
    let mut model = Model::new(g);
    model.compile(Adam::new(0.01), MeanSquaredError, vec![]).unwrap();
    let xt = tensor(&xs, &[n, t, e]);
    let target = tensor(&data(45, n * t * e), &[n, t, e]);
    let first = model.train_step(&xt, &target).unwrap().0.item::<f32>().unwrap();
    let mut last = first;
    for _ in 0..30 {
        last = model.train_step(&xt, &target).unwrap().0.item::<f32>().unwrap();
    }
    assert!(last < first, "{first} -> {last}");
}

/// An LSTM or a GRU layer (Keras' gate orders: i, f, c, o and z, r, c with the recurrent bias
/// inside the reset gate) on the host, every step returned.
fn host_recurrent(lstm: bool, x: &[f32], (n, t, f): (usize, usize, usize), u: usize, p: &[Vec<f32>]) -> Vec<f32> {
    let g = if lstm { 4 } else { 3 };
    let (w, rk, b) = (&p[0], &p[1], &p[2]);
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let mut out = vec![0.0f32; n * t * u];
    for s in 0..n {
        let (mut h, mut c) = (vec![0f64; u], vec![0f64; u]);
        for step in 0..t {
            let xt = &x[(s * t + step) * f..(s * t + step + 1) * f];
            let xw: Vec<f64> = (0..g * u)
                .map(|o| b[o] as f64 + (0..f).map(|k| xt[k] as f64 * w[k * g * u + o] as f64).sum::<f64>())
                .collect();
            let hu: Vec<f64> = (0..g * u)
                .map(|o| {
                    let rb = if lstm { 0.0 } else { p[3][o] as f64 };
                    rb + (0..u).map(|k| h[k] * rk[k * g * u + o] as f64).sum::<f64>()
                })
                .collect();
            for j in 0..u {
                if lstm {
                    let a = |q: usize| xw[q * u + j] + hu[q * u + j];
                    c[j] = sig(a(1)) * c[j] + sig(a(0)) * a(2).tanh();
                    out[(s * t + step) * u + j] = (sig(a(3)) * c[j].tanh()) as f32;
                } else {
                    let z = sig(xw[j] + hu[j]);
                    let r = sig(xw[u + j] + hu[u + j]);
                    let cand = (xw[2 * u + j] + r * hu[2 * u + j]).tanh();
                    out[(s * t + step) * u + j] = (cand + z * (h[j] - cand)) as f32;
                }
            }
            for j in 0..u {
                h[j] = out[(s * t + step) * u + j] as f64;
            }
        }
    }
    out
}

#[test]
fn lstm_and_gru_layers_on_their_fused_cells_match_the_host() {
    let (n, t, f, u) = (2, 4, 3, 5);
    let xs = data(61, n * t * f);
    for lstm in [true, false] {
        let layer = if lstm { Lstm::new(u).return_sequences(true) } else { Gru::new(u).return_sequences(true) };
        let net = Sequential::new(dev(), &[t, f]).seed(62).add(layer).unwrap();
        // Nonzero biases, so the host must place them.
        for p in net.params() {
            if p.name.contains("bias") {
                p.var.data().assign(&tensor(&data(63, p.var.len()), p.var.shape())).unwrap();
            }
        }
        let p: Vec<Vec<f32>> = net.params().iter().map(|p| p.var.to_vec().unwrap()).collect();
        let y = net.forward(&Var::constant(tensor(&xs, &[n, t, f])), &mut Ctx::new(false, 0)).unwrap();
        let want = host_recurrent(lstm, &xs, (n, t, f), u, &p);
        for (i, (g, w)) in y.to_vec().unwrap().iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-5, "lstm {lstm}: element {i}: {g} vs {w}");
        }
    }
}
