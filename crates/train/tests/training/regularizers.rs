//! Per-layer regularizers and constraints, as Keras': kernel, bias and activity penalties
//! added to (and logged in) the loss, against a host computation; their gradients against
//! finite differences; L1 driving irrelevant weights to zero; constraints holding after every
//! update, on Dense, Conv2d, ConvTranspose2d and Embedding; bad factors refused by name.

use wgtrain::autograd::gradcheck::{CheckInput, GradcheckOptions, gradcheck};
use wgtrain::constraints::Constraint;
use wgtrain::prelude::*;
use wgtrain::regularizers::Regularizer;

use crate::harness::{data, dev, tensor};

fn host_penalty(r: Regularizer, w: &[f32]) -> f64 {
    let (l1, l2) = match r {
        Regularizer::L1(a) => (a, 0.0),
        Regularizer::L2(b) => (0.0, b),
        Regularizer::L1L2 { l1, l2 } => (l1, l2),
    };
    w.iter().map(|&v| l1 as f64 * (v as f64).abs() + l2 as f64 * (v as f64).powi(2)).sum()
}

#[test]
fn kernel_bias_and_activity_penalties_are_added_to_the_logged_loss() {
    let (n, k) = (10, 4);
    let x = tensor(&data(1, n * k), &[n, k]);
    let y = tensor(&data(2, n * 2), &[n, 2]);
    let (kr, br, ar) = (Regularizer::L1L2 { l1: 0.01, l2: 0.02 }, Regularizer::L2(0.5), Regularizer::L1(0.1));
    let dense = Dense::new(2).kernel_regularizer(kr).bias_regularizer(br).activity_regularizer(ar);
    let net = Sequential::new(dev(), &[k]).seed(3).add(dense.bias_initializer(Initializer::Constant(0.3))).unwrap();
    let mut m = Model::new(net);
    m.compile(Sgd::new(0.0), MeanSquaredError, vec![]).unwrap();
    let pred = m.predict(&x, n).unwrap().to_vec::<f32>().unwrap();
    let (yv, params) = (y.to_vec::<f32>().unwrap(), m.params());
    let (kernel, bias) = (params[0].var.to_vec().unwrap(), params[1].var.to_vec().unwrap());
    let mse = pred.iter().zip(&yv).map(|(p, t)| ((p - t) as f64).powi(2)).sum::<f64>() / (n * 2) as f64;
    // Keras 3 adds the batch's activity penalty as it is (tf.keras 2 divided it by the batch size).
    let activity = host_penalty(ar, &pred);
    let want = mse + host_penalty(kr, &kernel) + host_penalty(br, &bias) + activity;
    let (loss, _) = m.train_step(&x, &y).unwrap();
    let got = loss.item::<f32>().unwrap() as f64;
    assert!((got - want).abs() < 1e-5 * want.max(1.0), "train_step {got} vs host {want}");
    // fit logs it, and evaluate adds it too (Keras' test_step adds model.losses).
    let h = m.fit(&x, &y, FitOptions { epochs: 1, batch_size: n, verbose: false, ..Default::default() }).unwrap();
    assert!((h.get("loss")[0] as f64 - want).abs() < 1e-5 * want.max(1.0));
    // Evaluated in batches of 4, 4, 2: each batch's activity penalty is its own, averaged by size.
    let e = m.evaluate(&x, &y, 4).unwrap().get("loss").unwrap() as f64;
    let per_batch: f64 = [(0, 4), (4, 8), (8, 10)]
        .iter()
        .map(|&(a, b)| host_penalty(ar, &pred[a * 2..b * 2]) * (b - a) as f64)
        .sum::<f64>()
        / n as f64;
    let want_eval = mse + host_penalty(kr, &kernel) + host_penalty(br, &bias) + per_batch;
    assert!((e - want_eval).abs() < 1e-4 * want_eval.max(1.0), "evaluate {e} vs {want_eval}");
    // A frozen layer's weights are not penalized (Keras penalizes trainable weights only).
    assert_eq!(m.network().weight_penalties().unwrap().len(), 2);
    m.freeze("dense_1").unwrap();
    assert!(m.network().weight_penalties().unwrap().is_empty());
}

#[test]
fn conv_and_embedding_penalties_follow_their_weights() {
    let conv = Conv2d::new(3, [3, 3]).kernel_regularizer(Regularizer::L2(0.01)).bias_regularizer(Regularizer::L1(0.2));
    let net = Sequential::new(dev(), &[2, 6, 6]).seed(4).add(conv).unwrap();
    let params = net.params();
    let want = host_penalty(Regularizer::L2(0.01), &params[0].var.to_vec().unwrap())
        + host_penalty(Regularizer::L1(0.2), &params[1].var.to_vec().unwrap());
    let got: f64 = net.weight_penalties().unwrap().iter().map(|p| p.item().unwrap() as f64).sum();
    assert!((got - want).abs() < 1e-6 * want.max(1.0), "conv: {got} vs {want}");
    let deconv = ConvTranspose2d::new(2, [2, 2]).kernel_regularizer(Regularizer::L1(0.05));
    let net = Sequential::new(dev(), &[3, 4, 4]).seed(6).add(deconv).unwrap();
    let want = host_penalty(Regularizer::L1(0.05), &net.params()[0].var.to_vec().unwrap());
    let got = net.weight_penalties().unwrap()[0].item().unwrap() as f64;
    assert!((got - want).abs() < 1e-6 * want.max(1.0), "conv transpose: {got} vs {want}");
    let emb = Embedding::new(7, 3).embeddings_regularizer(Regularizer::L1L2 { l1: 0.1, l2: 0.3 });
    let net = Sequential::new(dev(), &[2]).seed(5).add(emb).unwrap();
    let table = net.params()[0].var.to_vec().unwrap();
    let want = host_penalty(Regularizer::L1L2 { l1: 0.1, l2: 0.3 }, &table);
    let got = net.weight_penalties().unwrap()[0].item().unwrap() as f64;
    assert!((got - want).abs() < 1e-6, "embedding: {got} vs {want}");
}

#[test]
fn penalties_have_the_gradients_of_their_formulas() {
    // Values away from 0, where |w| is differentiable.
    let w: Vec<f32> = data(6, 12).iter().map(|v| if v.abs() < 0.1 { v + 0.3 } else { *v }).collect();
    let input = [CheckInput { data: w, shape: vec![3, 4] }];
    let o = GradcheckOptions { eps: 1e-6, atol: 2e-4, rtol: 2e-3, seed: 9 };
    for r in [Regularizer::L1(0.3), Regularizer::L2(0.7), Regularizer::L1L2 { l1: 0.2, l2: 0.5 }] {
        let reference = move |v: &[Vec<f64>]| {
            let (l1, l2) = match r {
                Regularizer::L1(a) => (a as f64, 0.0),
                Regularizer::L2(b) => (0.0, b as f64),
                Regularizer::L1L2 { l1, l2 } => (l1 as f64, l2 as f64),
            };
            vec![v[0].iter().map(|x| l1 * x.abs() + l2 * x * x).sum::<f64>()]
        };
        let penalty = |v: &[Var]| {
            r.penalty(&v[0])
                .map_err(|e| wgtrain::autograd::AutogradError::Argument { op: "penalty", why: e.to_string() })
        };
        gradcheck(dev(), &input, penalty, reference, &o).unwrap_or_else(|e| panic!("{r:?}: {e}"));
    }
}

#[test]
fn l1_drives_the_weights_of_irrelevant_features_to_zero() {
    // y = 2 x0 - 3 x1; features 2..10 are noise.
    let n = 256;
    let xs = Tensor::rand_uniform(dev(), &[n, 10], -1.0, 1.0, 7).unwrap();
    let xv = xs.to_vec::<f32>().unwrap();
    let noise = Tensor::rand_uniform(dev(), &[n], -0.1, 0.1, 8).unwrap().to_vec::<f32>().unwrap();
    let y: Vec<f32> = (0..n).map(|i| 2.0 * xv[i * 10] - 3.0 * xv[i * 10 + 1] + noise[i]).collect();
    let y = tensor(&y, &[n, 1]);
    let fit = |reg: Option<Regularizer>| {
        let mut dense = Dense::new(1);
        if let Some(r) = reg {
            dense = dense.kernel_regularizer(r);
        }
        let mut m = Model::new(Sequential::new(dev(), &[10]).seed(9).add(dense).unwrap()).with_seed(10);
        m.compile(Sgd::new(0.05), MeanSquaredError, vec![]).unwrap();
        m.fit(&xs, &y, FitOptions { epochs: 60, batch_size: 32, verbose: false, ..Default::default() }).unwrap();
        m.params()[0].var.to_vec().unwrap()
    };
    let (plain, l1) = (fit(None), fit(Some(Regularizer::L1(0.02))));
    let largest_irrelevant = |w: &[f32]| w[2..].iter().fold(0.0f32, |a, v| a.max(v.abs()));
    eprintln!(
        "irrelevant weights: largest {} without L1, {} with",
        largest_irrelevant(&plain),
        largest_irrelevant(&l1)
    );
    // Plain SGD on an L1 penalty steps by lr * l1 = 0.001 across zero: that close to it.
    assert!(largest_irrelevant(&l1) <= 2e-3, "{l1:?}");
    assert!(largest_irrelevant(&plain) > 3.0 * largest_irrelevant(&l1), "{plain:?}");
    assert!(l1[0] > 1.5 && l1[1] < -2.5, "the relevant weights stay: {l1:?}");
}

/// Each unit's norm: over the axes a constraint takes.
fn unit_norms(w: &Tensor, axes: &[isize]) -> Vec<f32> {
    w.square().unwrap().sum(axes, false).unwrap().sqrt().unwrap().to_vec::<f32>().unwrap()
}

#[test]
fn constraints_hold_after_every_update() {
    let (x, y) = (
        Tensor::rand_uniform(dev(), &[64, 6], -1.0, 1.0, 11).unwrap(),
        Tensor::rand_uniform(dev(), &[64, 3], -2.0, 2.0, 12).unwrap(),
    );
    let net = Sequential::new(dev(), &[6])
        .seed(13)
        .add(Dense::new(8).relu().kernel_constraint(Constraint::MaxNorm(0.5)).bias_constraint(Constraint::NonNeg))
        .unwrap()
        .add(Dense::new(3).kernel_constraint(Constraint::NonNeg))
        .unwrap();
    let mut m = Model::new(net);
    m.compile(Adam::new(0.05), MeanSquaredError, vec![]).unwrap();
    for _ in 0..20 {
        m.train_step(&x, &y).unwrap();
        let p = m.params();
        assert!(unit_norms(p[0].var.data(), &[0]).iter().all(|&n| n <= 0.5 + 1e-5));
        assert!(p[1].var.to_vec().unwrap().iter().all(|&b| b >= 0.0));
        assert!(p[2].var.to_vec().unwrap().iter().all(|&w| w >= 0.0));
    }
    // A unit norm on every conv filter and embedding row.
    let conv = Conv2d::new(4, [3, 3]).kernel_constraint(Constraint::UnitNorm);
    let mut cm =
        Model::new(Sequential::new(dev(), &[2, 5, 5]).seed(14).add(conv).unwrap().add(Flatten::new()).unwrap());
    cm.compile(Sgd::new(0.1), MeanSquaredError, vec![]).unwrap();
    let xi = Tensor::rand_uniform(dev(), &[4, 2, 5, 5], -1.0, 1.0, 15).unwrap();
    cm.train_step(&xi, &Tensor::rand_uniform(dev(), &[4, 36], -1.0, 1.0, 16).unwrap()).unwrap();
    let norms = unit_norms(cm.params()[0].var.data(), &[1, 2, 3]);
    assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-5), "{norms:?}");
    // Each output filter of a transposed convolution: axes 0, 2 and 3 of [channels, filters, kh, kw].
    let deconv = ConvTranspose2d::new(3, [2, 2]).kernel_constraint(Constraint::UnitNorm);
    let mut dm =
        Model::new(Sequential::new(dev(), &[2, 3, 3]).seed(18).add(deconv).unwrap().add(Flatten::new()).unwrap());
    dm.compile(Sgd::new(0.1), MeanSquaredError, vec![]).unwrap();
    let xd = Tensor::rand_uniform(dev(), &[2, 2, 3, 3], -1.0, 1.0, 19).unwrap();
    dm.train_step(&xd, &Tensor::rand_uniform(dev(), &[2, 48], -1.0, 1.0, 20).unwrap()).unwrap();
    let norms = unit_norms(dm.params()[0].var.data(), &[0, 2, 3]);
    assert!(norms.len() == 3 && norms.iter().all(|n| (n - 1.0).abs() < 1e-5), "{norms:?}");
    let emb = Embedding::new(5, 4).embeddings_constraint(Constraint::MaxNorm(0.01));
    let mut em = Model::new(Sequential::new(dev(), &[3]).seed(17).add(emb).unwrap().add(Flatten::new()).unwrap());
    em.compile(Sgd::new(1.0), MeanSquaredError, vec![]).unwrap();
    let ids = Tensor::from_slice(dev(), &[0u32, 1, 2, 3, 4, 0], &[2, 3]).unwrap();
    em.train_step(&ids, &Tensor::full(dev(), &[2, 12], 5.0).unwrap()).unwrap();
    let norms = unit_norms(em.params()[0].var.data(), &[1]);
    assert!(norms.iter().all(|&n| n <= 0.01 + 1e-6), "{norms:?}");
}

#[test]
fn bad_factors_and_bounds_are_refused_by_name() {
    let build = |d: Dense| Sequential::new(dev(), &[3]).add(d).err().map(|e| e.to_string()).unwrap_or_default();
    let e = build(Dense::new(2).kernel_regularizer(Regularizer::L1(-0.1)));
    assert!(e.contains("dense") && e.contains("regularizer") && e.contains(">= 0"), "{e}");
    let e = build(Dense::new(2).activity_regularizer(Regularizer::L2(f32::NAN)));
    assert!(e.contains("regularizer"), "{e}");
    let e = build(Dense::new(2).kernel_constraint(Constraint::MaxNorm(0.0)));
    assert!(e.contains("MaxNorm") && e.contains("> 0"), "{e}");
}

#[test]
fn recurrent_layers_take_kernel_recurrent_and_bias_rules() {
    let (kr, rr, br) = (Regularizer::L2(0.01), Regularizer::L1(0.02), Regularizer::L2(0.3));
    for layer in [
        Lstm::new(3).kernel_regularizer(kr).recurrent_regularizer(rr).bias_regularizer(br),
        Gru::new(3).kernel_regularizer(kr).recurrent_regularizer(rr).bias_regularizer(br),
    ] {
        let net = Sequential::new(dev(), &[4, 2]).seed(18).add(layer).unwrap();
        let p: Vec<(String, Vec<f32>)> =
            net.params().iter().map(|p| (p.name.clone(), p.var.to_vec().unwrap())).collect();
        let want: f64 = p
            .iter()
            .map(|(name, w)| match name.rsplit('/').next().unwrap() {
                "kernel" => host_penalty(kr, w),
                "recurrent_kernel" => host_penalty(rr, w),
                _ => host_penalty(br, w), // bias, and a GRU's recurrent_bias
            })
            .sum();
        let got: f64 = net.weight_penalties().unwrap().iter().map(|v| v.item().unwrap() as f64).sum();
        assert!(
            (got - want).abs() < 1e-5 * want.max(1.0),
            "{:?}: {got} vs {want}",
            p.iter().map(|x| &x.0).collect::<Vec<_>>()
        );
    }
    let gru = Gru::new(3).recurrent_constraint(Constraint::UnitNorm).kernel_constraint(Constraint::NonNeg);
    let mut m = Model::new(Sequential::new(dev(), &[4, 2]).seed(19).add(gru).unwrap());
    m.compile(Sgd::new(0.5), MeanSquaredError, vec![]).unwrap();
    let x = Tensor::rand_uniform(dev(), &[5, 4, 2], -1.0, 1.0, 20).unwrap();
    m.train_step(&x, &Tensor::rand_uniform(dev(), &[5, 3], -1.0, 1.0, 21).unwrap()).unwrap();
    let p = m.params();
    assert!(p[0].var.to_vec().unwrap().iter().all(|&w| w >= 0.0), "kernel NonNeg");
    let norms = unit_norms(p[1].var.data(), &[0]);
    assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-5), "recurrent UnitNorm: {norms:?}");
}
