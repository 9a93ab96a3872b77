//! Sample and class weights, the Keras way: each sample's loss times its weight, the batch
//! loss the mean over the batch. `fit`, `train_step` and `evaluate` against a host computation
//! of the weighted loss; class weights from labels, one-hot and binary targets; BCE's
//! `pos_weight` and categorical cross-entropy's class weights against their formulas; and class
//! weights changing what an imbalanced problem learns.

use wgtrain::prelude::*;

use crate::harness::{data, dev, tensor};

/// A 4 -> 3 linear classifier with a fixed seed, compiled with plain SGD at `lr`.
fn classifier(lr: f32) -> Model {
    let net = Sequential::new(dev(), &[4]).seed(3).add(Dense::new(3)).unwrap();
    let mut m = Model::new(net).with_seed(4);
    m.compile(Sgd::new(lr), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    m
}

/// Softmax cross-entropy of each row of `logits` `[n, 3]` against `labels`, on the host.
fn host_xent(logits: &[f32], labels: &[u32]) -> Vec<f64> {
    logits
        .chunks(3)
        .zip(labels)
        .map(|(z, &y)| {
            let m = z.iter().fold(f32::MIN, |a, &b| a.max(b)) as f64;
            let lse = m + z.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
            lse - z[y as usize] as f64
        })
        .collect()
}

fn labels(n: usize) -> Vec<u32> {
    (0..n as u32).map(|i| (i * 7 + 1) % 3).collect()
}

#[test]
fn train_step_and_evaluate_weight_each_samples_loss_and_average_over_the_batch() {
    let n = 12;
    let x = tensor(&data(1, n * 4), &[n, 4]);
    let y_host = labels(n);
    let y = Tensor::from_slice(dev(), &y_host, &[n]).unwrap();
    let w_host: Vec<f32> = (0..n).map(|i| [0.0, 0.5, 1.0, 3.0][i % 4]).collect();
    let w = tensor(&w_host, &[n]);
    let mut model = classifier(0.0);
    let logits = model.predict(&x, n).unwrap().to_vec::<f32>().unwrap();
    let per = host_xent(&logits, &y_host);
    let want = per.iter().zip(&w_host).map(|(l, &w)| l * w as f64).sum::<f64>() / n as f64;
    let (loss, _) = model.train_step_weighted(&x, &y, &w).unwrap();
    assert!((loss.item::<f32>().unwrap() as f64 - want).abs() < 1e-5, "{} vs {want}", loss.item::<f32>().unwrap());
    // evaluate: in batches of 5, still sum(w l) / n over every sample.
    let got = model.evaluate_weighted(&x, &y, &w, 5).unwrap().get("loss").unwrap();
    assert!((got as f64 - want).abs() < 1e-5, "{got} vs {want}");
    let plain = model.evaluate(&x, &y, 5).unwrap().get("loss").unwrap();
    assert!((plain as f64 - per.iter().sum::<f64>() / n as f64).abs() < 1e-5);
    // One weight per sample, f32.
    let e = model.train_step_weighted(&x, &y, &tensor(&[1.0; 5], &[5])).unwrap_err().to_string();
    assert!(e.contains("sample_weight") && e.contains("[12]") && e.contains("[5]"), "{e}");
}

#[test]
fn fit_logs_the_weighted_loss_with_sample_and_class_weights_multiplied() {
    let n = 16;
    let x = tensor(&data(2, n * 4), &[n, 4]);
    let y_host = labels(n);
    let y = Tensor::from_slice(dev(), &y_host, &[n]).unwrap();
    let sw: Vec<f32> = (0..n).map(|i| 1.0 + (i % 3) as f32).collect();
    let cw = vec![0.5f32, 2.0, 1.0];
    let mut model = classifier(0.0);
    let logits = model.predict(&x, n).unwrap().to_vec::<f32>().unwrap();
    let per = host_xent(&logits, &y_host);
    let weight = |i: usize| sw[i] as f64 * cw[y_host[i] as usize] as f64;
    let want = per.iter().enumerate().map(|(i, l)| l * weight(i)).sum::<f64>() / n as f64;
    // lr 0: the weights do not move, so the logged loss is the weighted loss of the model
    // above, whatever the (shuffled) order of its batches of 4.
    let o = FitOptions {
        epochs: 1,
        batch_size: 4,
        verbose: false,
        sample_weight: Some(tensor(&sw, &[n])),
        class_weight: Some(cw.clone()),
        ..Default::default()
    };
    let h = model.fit(&x, &y, o).unwrap();
    let got = h.get("loss")[0] as f64;
    assert!((got - want).abs() < 1e-5, "fit logged {got}, the host {want}");
    // A class weight per class, and one sample weight per sample.
    let bad = |o: FitOptions| classifier(0.0).fit(&x, &y, o).unwrap_err().to_string();
    let e = bad(FitOptions { class_weight: Some(vec![1.0, 2.0]), verbose: false, ..Default::default() });
    // Two weights for labels up to 2.
    assert!(e.contains("class_weight") && e.contains("label 2") && e.contains("sample 1"), "{e}");
    let e = bad(FitOptions { sample_weight: Some(tensor(&[1.0; 3], &[3])), verbose: false, ..Default::default() });
    assert!(e.contains("sample_weight") && e.contains("[16]"), "{e}");
    let e = bad(FitOptions { class_weight: Some(vec![1.0, -1.0, 1.0]), verbose: false, ..Default::default() });
    assert!(e.contains("class_weight") && e.contains(">= 0"), "{e}");
}

#[test]
fn class_weights_follow_one_hot_and_binary_targets_too() {
    let n = 6;
    let x = tensor(&data(3, n * 4), &[n, 4]);
    // One-hot targets and a categorical cross-entropy.
    let y_host = labels(n);
    let mut onehot = vec![0.0f32; n * 3];
    y_host.iter().enumerate().for_each(|(i, &c)| onehot[i * 3 + c as usize] = 1.0);
    let net = Sequential::new(dev(), &[4]).seed(3).add(Dense::new(3)).unwrap();
    let mut model = Model::new(net);
    model.compile(Sgd::new(0.0), CategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    let logits = model.predict(&x, n).unwrap().to_vec::<f32>().unwrap();
    let per = host_xent(&logits, &y_host);
    let cw = [3.0f32, 1.0, 0.25];
    let want = per.iter().zip(&y_host).map(|(l, &c)| l * cw[c as usize] as f64).sum::<f64>() / n as f64;
    let o =
        FitOptions { epochs: 1, batch_size: n, verbose: false, class_weight: Some(cw.to_vec()), ..Default::default() };
    let got = model.fit(&x, &tensor(&onehot, &[n, 3]), o).unwrap().get("loss")[0] as f64;
    assert!((got - want).abs() < 1e-5, "one-hot: {got} vs {want}");
    // The same weights on the loss itself.
    let mut model2 = Model::new(Sequential::new(dev(), &[4]).seed(3).add(Dense::new(3)).unwrap());
    model2.compile(Sgd::new(0.0), CategoricalCrossEntropy::from_logits().class_weights(cw.to_vec()), vec![]).unwrap();
    let got = model2.evaluate(&x, &tensor(&onehot, &[n, 3]), n).unwrap().get("loss").unwrap() as f64;
    assert!((got - want).abs() < 1e-5, "CategoricalCrossEntropy::class_weights: {got} vs {want}");
    // Binary targets [n, 1] with two class weights, and a BCE on logits.
    let t: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
    let net = Sequential::new(dev(), &[4]).seed(5).add(Dense::new(1)).unwrap();
    let mut bin = Model::new(net);
    bin.compile(Sgd::new(0.0), BinaryCrossEntropy::from_logits(), vec![]).unwrap();
    let z = bin.predict(&x, n).unwrap().to_vec::<f32>().unwrap();
    let bce = |z: f32, t: f32| (z.max(0.0) + (-z.abs()).exp().ln_1p() - t * z) as f64;
    let cw = [0.5f32, 4.0];
    let want = z.iter().zip(&t).map(|(&z, &t)| bce(z, t) * cw[t as usize] as f64).sum::<f64>() / n as f64;
    let o =
        FitOptions { epochs: 1, batch_size: n, verbose: false, class_weight: Some(cw.to_vec()), ..Default::default() };
    let got = bin.fit(&x, &tensor(&t, &[n, 1]), o).unwrap().get("loss")[0] as f64;
    assert!((got - want).abs() < 1e-5, "binary: {got} vs {want}");
}

#[test]
fn pos_weight_weights_the_positive_term_on_logits_and_probabilities() {
    let z = [-3.0f32, -0.5, 0.0, 0.7, 2.5, 8.0];
    let t = [1.0f32, 0.0, 1.0, 1.0, 0.0, 1.0];
    let pw = 3.0;
    let sig = |z: f32| 1.0 / (1.0 + (-z as f64).exp());
    let want = z.iter().zip(&t).map(|(&z, &t)| {
        let p = sig(z);
        -(pw * t as f64 * p.ln() + (1.0 - t as f64) * (1.0 - p).ln())
    });
    let want = want.sum::<f64>() / z.len() as f64;
    let logits = Var::constant(tensor(&z, &[6, 1]));
    let target = tensor(&t, &[6, 1]);
    let got = BinaryCrossEntropy::from_logits().pos_weight(pw as f32).forward(&logits, &target, None).unwrap();
    assert!((got.item().unwrap() as f64 - want).abs() < 1e-5, "logits: {} vs {want}", got.item().unwrap());
    let probs: Vec<f32> = z.iter().map(|&z| sig(z) as f32).collect();
    let got =
        BinaryCrossEntropy::new().pos_weight(pw as f32).forward(&Var::constant(tensor(&probs, &[6, 1])), &target, None);
    assert!((got.unwrap().item().unwrap() as f64 - want).abs() < 1e-4);
    // Its gradient flows: d/dz on a positive is pw (sigmoid(z) - 1) / n.
    let zv = Var::parameter(tensor(&z, &[6, 1]));
    BinaryCrossEntropy::from_logits().pos_weight(pw as f32).forward(&zv, &target, None).unwrap().backward().unwrap();
    let g = zv.grad().unwrap().to_vec::<f32>().unwrap();
    let expect = (pw * (sig(z[0]) - 1.0) / 6.0) as f32;
    assert!((g[0] - expect).abs() < 1e-6, "{} vs {expect}", g[0]);
    let e = BinaryCrossEntropy::new().pos_weight(0.0).forward(&logits, &target, None).unwrap_err().to_string();
    assert!(e.contains("pos_weight"), "{e}");
}

#[test]
fn class_weights_make_an_imbalanced_problem_find_its_rare_class() {
    // 1 in 20 samples is class 1; the classes overlap, so an unweighted model mostly says 0.
    let n = 800;
    let xs = Tensor::rand_uniform(dev(), &[n, 2], -1.0, 1.0, 21).unwrap().to_vec::<f32>().unwrap();
    let noise = Tensor::rand_uniform(dev(), &[n], -0.35, 0.35, 22).unwrap().to_vec::<f32>().unwrap();
    let y: Vec<u32> = (0..n).map(|i| u32::from(xs[2 * i] + noise[i] > 0.9)).collect();
    let rare = y.iter().filter(|&&c| c == 1).count();
    assert!(rare > 10 && rare < n / 10, "{rare} rare samples");
    let (x, yt) = (tensor(&xs, &[n, 2]), Tensor::from_slice(dev(), &y, &[n]).unwrap());
    let recall = |class_weight: Option<Vec<f32>>| {
        let net = Sequential::new(dev(), &[2]).seed(8).add(Dense::new(2)).unwrap();
        let mut m = Model::new(net).with_seed(9);
        m.compile(Adam::new(0.05), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
        let o = FitOptions { epochs: 30, batch_size: 64, verbose: false, class_weight, ..Default::default() };
        m.fit(&x, &yt, o).unwrap();
        let pred = m.predict(&x, n).unwrap().argmax(-1, false).unwrap().to_vec::<u32>().unwrap();
        let hits = pred.iter().zip(&y).filter(|(p, t)| **t == 1 && **p == 1).count();
        hits as f32 / rare as f32
    };
    let (plain, weighted) = (recall(None), recall(Some(vec![1.0, (n - rare) as f32 / rare as f32])));
    eprintln!("recall of the rare class: {plain} unweighted, {weighted} with class weights");
    assert!(weighted >= plain + 0.2 && weighted >= 0.7, "unweighted {plain}, weighted {weighted}");
}

#[test]
fn a_validation_split_keeps_the_held_out_samples_weights() {
    let n = 20;
    let x = tensor(&data(4, n * 4), &[n, 4]);
    let y = Tensor::from_slice(dev(), &labels(n), &[n]).unwrap();
    let sw: Vec<f32> = (0..n).map(|i| (i % 5) as f32).collect();
    let mut model = classifier(0.0);
    let o = FitOptions {
        epochs: 1,
        batch_size: 8,
        verbose: false,
        validation_split: 0.25,
        sample_weight: Some(tensor(&sw, &[n])),
        ..Default::default()
    };
    let h = model.fit(&x, &y, o).unwrap();
    let (vx, vy) = (x.slice(0, 15, 20, 1).unwrap(), y.slice(0, 15, 20, 1).unwrap());
    let want = model.evaluate_weighted(&vx, &vy, &tensor(&sw[15..], &[5]), 5).unwrap().get("loss").unwrap();
    let unweighted = model.evaluate(&vx, &vy, 5).unwrap().get("loss").unwrap();
    assert!(
        (h.get("val_loss")[0] - want).abs() < 1e-6 && (want - unweighted).abs() > 1e-3,
        "{:?} {want} {unweighted}",
        h.get("val_loss")
    );
}
