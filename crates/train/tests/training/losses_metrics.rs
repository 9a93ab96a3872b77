//! Losses against their formulas (and gradients by finite differences), metrics against host
//! counts over two batches.

use wgtrain::autograd::{CheckInput, GradcheckOptions, Var, gradcheck};
use wgtrain::losses::*;
use wgtrain::metrics::*;
use wgtrain::tensor::Tensor;

use crate::harness::{data, dev, tensor};

fn value(loss: &dyn Loss, pred: &[f32], shape: &[usize], target: &Tensor, w: Option<&Tensor>) -> f32 {
    loss.forward(&Var::constant(tensor(pred, shape)), target, w).unwrap().item().unwrap()
}

fn near(a: f32, b: f64, what: &str) {
    assert!((a as f64 - b).abs() <= 1e-5 * (1.0 + b.abs()), "{what}: {a} vs {b}");
}

#[test]
fn regression_losses_follow_their_formulas() {
    let (p, t) = ([0.5f32, -1.0, 2.0, 3.5], [1.0f32, -1.0, -1.0, 1.0]);
    let tt = tensor(&t, &[2, 2]);
    let d: Vec<f64> = p.iter().zip(&t).map(|(a, b)| (*a - *b) as f64).collect();
    near(value(&MeanSquaredError, &p, &[2, 2], &tt, None), d.iter().map(|v| v * v).sum::<f64>() / 4.0, "mse");
    near(value(&MeanAbsoluteError, &p, &[2, 2], &tt, None), d.iter().map(|v| v.abs()).sum::<f64>() / 4.0, "mae");
    let huber = |v: f64| if v.abs() <= 1.0 { 0.5 * v * v } else { v.abs() - 0.5 };
    near(value(&Huber::new(1.0), &p, &[2, 2], &tt, None), d.iter().map(|&v| huber(v)).sum::<f64>() / 4.0, "huber");
    let hinge: f64 = p.iter().zip(&t).map(|(y, t)| (1.0 - (*t * *y) as f64).max(0.0)).sum::<f64>() / 4.0;
    near(value(&Hinge, &p, &[2, 2], &tt, None), hinge, "hinge");
    // Per-sample weights: sum(w_i l_i) / n over per-sample means.
    let w = tensor(&[2.0, 0.0], &[2]);
    let s0 = (d[0] * d[0] + d[1] * d[1]) / 2.0;
    near(value(&MeanSquaredError, &p, &[2, 2], &tt, Some(&w)), 2.0 * s0 / 2.0, "weighted mse");
    // KL divergence of distributions.
    let (q, r) = ([0.2f32, 0.8, 0.5, 0.5], [0.1f32, 0.9, 0.7, 0.3]);
    let kl: f64 = (0..4).map(|i| r[i] as f64 * (r[i] as f64 / q[i] as f64).ln()).sum::<f64>() / 2.0;
    near(value(&KlDivergence, &q, &[2, 2], &tensor(&r, &[2, 2]), None), kl, "kl");
    // A target of the wrong shape names both shapes.
    let err =
        MeanSquaredError.forward(&Var::constant(tensor(&p, &[2, 2])), &tensor(&t, &[4]), None).unwrap_err().to_string();
    assert!(err.contains("[2, 2]") && err.contains("[4]"), "{err}");
}

#[test]
fn cross_entropies_follow_their_formulas() {
    let z = [0.3f32, -1.2, 2.0, 0.1, 0.5, -0.4];
    let t = [1.0f32, 0.0, 1.0, 0.0, 0.0, 1.0];
    let tt = tensor(&t, &[6]);
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let bce: f64 = z
        .iter()
        .zip(&t)
        .map(|(&z, &t)| {
            let p = sig(z as f64);
            -(t as f64 * p.ln() + (1.0 - t as f64) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / 6.0;
    near(value(&BinaryCrossEntropy::from_logits(), &z, &[6], &tt, None), bce, "bce logits");
    let probs: Vec<f32> = z.iter().map(|&v| sig(v as f64) as f32).collect();
    near(value(&BinaryCrossEntropy::new(), &probs, &[6], &tt, None), bce, "bce probs");
    let focal: f64 = z
        .iter()
        .zip(&t)
        .map(|(&z, &t)| {
            let p = sig(z as f64);
            let pt = if t == 1.0 { p } else { 1.0 - p };
            -(1.0 - pt).powi(2) * pt.ln()
        })
        .sum::<f64>()
        / 6.0;
    near(value(&FocalLoss { from_logits: true, ..FocalLoss::new() }, &z, &[6], &tt, None), focal, "focal");
    // Categorical: 2 samples x 3 classes.
    let onehot = tensor(&[0.0, 0.0, 1.0, 1.0, 0.0, 0.0], &[2, 3]);
    let lse = |r: &[f32]| r.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
    let cce = ((lse(&z[..3]) - z[2] as f64) + (lse(&z[3..]) - z[3] as f64)) / 2.0;
    near(value(&CategoricalCrossEntropy::from_logits(), &z, &[2, 3], &onehot, None), cce, "cce");
    let labels = Tensor::from_slice(dev(), &[2u32, 0], &[2]).unwrap();
    near(value(&SparseCategoricalCrossEntropy::from_logits(), &z, &[2, 3], &labels, None), cce, "scce");
    let sm: Vec<f32> = [&z[..3], &z[3..]]
        .iter()
        .flat_map(|r| r.iter().map(|&v| ((v as f64).exp() / lse(r).exp()) as f32).collect::<Vec<_>>())
        .collect();
    near(value(&SparseCategoricalCrossEntropy::new(), &sm, &[2, 3], &labels, None), cce, "scce probs");
    let w = tensor(&[1.0, 3.0], &[2]);
    let weighted = ((lse(&z[..3]) - z[2] as f64) + 3.0 * (lse(&z[3..]) - z[3] as f64)) / 2.0;
    near(
        value(&SparseCategoricalCrossEntropy::from_logits(), &z, &[2, 3], &labels, Some(&w)),
        weighted,
        "scce weighted",
    );
}

#[test]
fn composed_losses_have_correct_gradients() {
    let o = GradcheckOptions { eps: 1e-6, atol: 2e-4, rtol: 2e-3, seed: 3 };
    let t: Vec<f32> = data(1, 8).iter().map(|&v| (v > 0.0) as u8 as f32).collect();
    let tt = tensor(&t, &[8]);
    let t64: Vec<f64> = t.iter().map(|&v| v as f64).collect();
    let x = CheckInput::new(data(2, 8).iter().map(|v| 2.0 * v).collect(), &[8]);
    let huber = Huber::new(0.5);
    gradcheck(
        dev(),
        std::slice::from_ref(&x),
        |v| Ok(huber.forward(&v[0], &tt, None).unwrap()),
        |h| {
            vec![
                h[0].iter()
                    .zip(&t64)
                    .map(|(p, t)| {
                        let a = (p - t).abs();
                        if a <= 0.5 { 0.5 * a * a } else { 0.5 * (a - 0.25) }
                    })
                    .sum::<f64>()
                    / 8.0,
            ]
        },
        &o,
    )
    .unwrap();
    let focal = FocalLoss { gamma: 2.0, alpha: Some(0.25), from_logits: true };
    gradcheck(
        dev(),
        &[x],
        |v| Ok(focal.forward(&v[0], &tt, None).unwrap()),
        |h| {
            vec![
                h[0].iter()
                    .zip(&t64)
                    .map(|(z, t)| {
                        let p = 1.0 / (1.0 + (-z).exp());
                        let pt = t * p + (1.0 - t) * (1.0 - p);
                        let at = t * 0.25 + (1.0 - t) * 0.75;
                        -at * (1.0 - pt).powi(2) * pt.ln()
                    })
                    .sum::<f64>()
                    / 8.0,
            ]
        },
        &o,
    )
    .unwrap();
}

#[test]
fn metrics_accumulate_over_batches_and_reset() {
    let batches: [(Vec<f32>, Vec<u32>); 2] = [
        (vec![0.1, 0.9, 0.0, 0.8, 0.1, 0.1, 0.2, 0.3, 0.5], vec![1, 0, 1]),
        (vec![0.6, 0.3, 0.1, 0.1, 0.1, 0.8], vec![0, 2]),
    ];
    let mut acc = SparseCategoricalAccuracy::new();
    let mut top2 = TopKCategoricalAccuracy::new(2);
    let mut cm = ConfusionMatrix::new(3);
    let mut f1 = F1Score::macro_average(3);
    for (p, y) in &batches {
        let n = y.len();
        let (pt, yt) = (tensor(p, &[n, 3]), Tensor::from_slice(dev(), y, &[n]).unwrap());
        for m in [&mut acc as &mut dyn Metric, &mut top2, &mut cm, &mut f1] {
            m.update(&pt, &yt).unwrap();
        }
    }
    // Arg-max predictions: 1, 0, 2, 0, 2 against labels 1, 0, 1, 0, 2.
    assert_eq!(acc.result().unwrap(), 0.8);
    // Sample 3 (label 1, scores .2 .3 .5): 1 is second: within the top 2; all are.
    assert_eq!(top2.result().unwrap(), 1.0);
    assert_eq!(cm.matrix().unwrap(), vec![vec![2, 0, 0], vec![0, 1, 1], vec![0, 0, 1]]);
    // Per-class F1: class 0 1.0, class 1 (p 1, r .5) 2/3, class 2 (p .5, r 1) 2/3.
    assert!((f1.result().unwrap() - (1.0 + 4.0 / 3.0) / 3.0).abs() < 1e-6);
    acc.reset();
    assert_eq!(acc.result().unwrap(), 0.0);

    // Binary metrics on probabilities.
    let (p, t) = (tensor(&[0.9, 0.2, 0.7, 0.4, 0.6], &[5]), tensor(&[1.0, 0.0, 0.0, 1.0, 1.0], &[5]));
    let mut prec = Precision::new(0.5);
    let mut rec = Recall::new(0.5);
    let mut bin = BinaryAccuracy::new(0.5);
    for m in [&mut prec as &mut dyn Metric, &mut rec, &mut bin] {
        m.update(&p, &t).unwrap();
    }
    // Predicted positive: .9 .7 .6 -> tp 2, fp 1, fn 1.
    assert!((prec.result().unwrap() - 2.0 / 3.0).abs() < 1e-6);
    assert!((rec.result().unwrap() - 2.0 / 3.0).abs() < 1e-6);
    assert!((bin.result().unwrap() - 0.6).abs() < 1e-6);
    // AUC: the fraction of (positive, negative) pairs ranked correctly: 4 of 6.
    let mut auc = Auc::new(1001);
    auc.update(&p, &t).unwrap();
    assert!((auc.result().unwrap() - 4.0 / 6.0).abs() < 1e-3, "{}", auc.result().unwrap());
}

#[test]
fn sparse_cross_entropy_and_accuracy_take_a_label_per_step() {
    // Logits [2 sequences, 3 steps, 4 classes], labels [2, 3].
    let logits = data(9, 24);
    let labels = [0u32, 3, 1, 2, 2, 0];
    let y = Tensor::from_slice(dev(), &labels, &[2, 3]).unwrap();
    let ce = |row: &[f32], l: u32| {
        let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
        max + row.iter().map(|v| (*v as f64 - max).exp()).sum::<f64>().ln() - row[l as usize] as f64
    };
    let steps: Vec<f64> = logits.chunks(4).zip(labels).map(|(r, l)| ce(r, l)).collect();
    let loss = SparseCategoricalCrossEntropy::from_logits();
    near(value(&loss, &logits, &[2, 3, 4], &y, None), steps.iter().sum::<f64>() / 6.0, "per-step mean");
    // A sample weight weighs a whole sequence.
    let w = tensor(&[2.0, 0.5], &[2]);
    let want = (2.0 * steps[..3].iter().sum::<f64>() + 0.5 * steps[3..].iter().sum::<f64>()) / 6.0;
    near(value(&loss, &logits, &[2, 3, 4], &y, Some(&w)), want, "weighted by sequence");
    assert!(loss.forward(&Var::constant(tensor(&logits, &[2, 3, 4])), &y, Some(&tensor(&[1.0; 6], &[6]))).is_err());

    let mut acc = SparseCategoricalAccuracy::new();
    acc.update(&tensor(&logits, &[2, 3, 4]), &y).unwrap();
    let hits = logits
        .chunks(4)
        .zip(labels)
        .filter(|(r, l)| (0..4).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap() == *l as usize)
        .count();
    assert_eq!(acc.result().unwrap(), hits as f32 / 6.0);
}
