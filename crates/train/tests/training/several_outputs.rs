//! Models of several outputs (issue 24, item 1): a loss, a loss weight and metrics per output,
//! a target per output, and logs named after each output, checked against host math.

use wgtrain::prelude::*;

use crate::harness::{data, dev, tensor};

const N: usize = 96;

/// Inputs `[n, 6]`; the class is the largest of the first three features; the size is the
/// mean of all six.
fn task(n: usize, seed: u64) -> (Tensor, Tensor, Tensor) {
    let x = data(seed, n * 6);
    let labels: Vec<u32> = x.chunks(6).map(|r| (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap() as u32).collect();
    let sizes: Vec<f32> = x.chunks(6).map(|r| r.iter().sum::<f32>() / 6.0).collect();
    (tensor(&x, &[n, 6]), Tensor::from_slice(dev(), &labels, &[n]).unwrap(), tensor(&sizes, &[n, 1]))
}

/// A shared trunk (with an L2 kernel penalty) and two heads: `digit` (3 logits) and `size`.
fn two_heads(seed: u64) -> Functional {
    let mut g = Functional::new(dev()).seed(seed);
    let x = g.input("x", &[6]);
    let trunk = g.apply(Dense::new(16).relu().named("trunk").kernel_regularizer(Regularizer::L2(1e-3)), x).unwrap();
    let digit = g.apply(Dense::new(3).named("digit"), trunk).unwrap();
    let size = g.apply(Dense::new(1).named("size"), trunk).unwrap();
    g.set_outputs(&[digit, size]).unwrap();
    g
}

/// Compiled by name, in the other order than the outputs', with `size` weighted `size_weight`.
fn model(lr: f32, size_weight: f32) -> Model {
    let mut m = Model::new(two_heads(3)).with_seed(3);
    m.compile_outputs(
        Adam::new(lr),
        vec![
            OutputLoss::named("size", MeanSquaredError).weight(size_weight),
            OutputLoss::named("digit", SparseCategoricalCrossEntropy::from_logits())
                .metric(SparseCategoricalAccuracy::new()),
        ],
    )
    .unwrap();
    m
}

/// The host's figures of predictions: (cross-entropy, accuracy, mean squared error).
fn host_losses(logits: &[f32], labels: &[u32], sizes_pred: &[f32], sizes: &[f32]) -> (f32, f32, f32) {
    let n = labels.len();
    let mut ce = 0.0;
    let mut right = 0;
    for (row, &l) in logits.chunks(3).zip(labels) {
        let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f32>().ln();
        ce += lse - row[l as usize];
        let best = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        right += usize::from(best == l as usize);
    }
    let mse = sizes_pred.iter().zip(sizes).map(|(p, t)| (p - t) * (p - t)).sum::<f32>() / n as f32;
    (ce / n as f32, right as f32 / n as f32, mse)
}

fn trunk_penalty(m: &Model) -> f32 {
    let kernel = m.params().into_iter().find(|p| p.name == "trunk/kernel").unwrap();
    1e-3 * kernel.var.to_vec().unwrap().iter().map(|w| w * w).sum::<f32>()
}

#[track_caller]
fn close(got: f32, want: f32) {
    assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "got {got}, want {want}");
}

#[test]
fn the_total_loss_is_the_weighted_sum_of_each_outputs_loss_plus_the_penalties() {
    let (x, labels, sizes) = task(N, 1);
    let mut m = model(1e-2, 0.5);
    let preds = m.predict_outputs(std::slice::from_ref(&x), 32).unwrap();
    assert_eq!((preds[0].shape(), preds[1].shape()), (&[N, 3][..], &[N, 1][..]));
    let host_labels = labels.to_vec::<u32>().unwrap();
    let host_sizes = sizes.to_vec::<f32>().unwrap();
    let (ce, acc, mse) =
        host_losses(&preds[0].to_vec().unwrap(), &host_labels, &preds[1].to_vec().unwrap(), &host_sizes);
    let logs = m.evaluate_outputs(std::slice::from_ref(&x), &[labels.clone(), sizes.clone()], None, 40).unwrap();
    close(logs.get("digit_loss").unwrap(), ce);
    close(logs.get("size_loss").unwrap(), mse);
    close(logs.get("digit_accuracy").unwrap(), acc);
    close(logs.get("loss").unwrap(), ce + 0.5 * mse + trunk_penalty(&m));
    assert!(logs.get("accuracy").is_none() && logs.get("size_accuracy").is_none(), "{logs:?}");

    // A training step returns the same total, of the predictions it trained on.
    let penalty = trunk_penalty(&m);
    let (loss, step_preds) = m.train_step_outputs(std::slice::from_ref(&x), &[labels, sizes], None).unwrap();
    let (ce, _, mse) =
        host_losses(&step_preds[0].to_vec().unwrap(), &host_labels, &step_preds[1].to_vec().unwrap(), &host_sizes);
    close(loss.item::<f32>().unwrap(), ce + 0.5 * mse + penalty);
}

#[test]
fn a_loss_weight_of_zero_leaves_its_head_untrained_and_sample_weights_weight_every_output() {
    let (x, labels, sizes) = task(N, 2);
    let mut m = model(1e-2, 0.0);
    let size_kernel =
        |m: &Model| m.params().into_iter().find(|p| p.name == "size/kernel").unwrap().var.to_vec().unwrap();
    let before = size_kernel(&m);
    m.train_step_outputs(std::slice::from_ref(&x), &[labels.clone(), sizes.clone()], None).unwrap();
    assert_eq!(size_kernel(&m), before, "no loss reaches the size head");

    // Sample weights multiply every output's per-sample loss; the mean stays over the batch.
    let mut m = model(1e-2, 0.5);
    let w: Vec<f32> = (0..N).map(|i| (i % 3) as f32).collect();
    let logs = m
        .evaluate_outputs(std::slice::from_ref(&x), &[labels.clone(), sizes.clone()], Some(&tensor(&w, &[N])), 32)
        .unwrap();
    let preds = m.predict_outputs(std::slice::from_ref(&x), 32).unwrap();
    let (logits, sp) = (preds[0].to_vec::<f32>().unwrap(), preds[1].to_vec::<f32>().unwrap());
    let (host_labels, host_sizes) = (labels.to_vec::<u32>().unwrap(), sizes.to_vec::<f32>().unwrap());
    let (mut ce, mut mse) = (0.0, 0.0);
    for i in 0..N {
        let (c, _, e) = host_losses(&logits[i * 3..i * 3 + 3], &host_labels[i..=i], &sp[i..=i], &host_sizes[i..=i]);
        ce += w[i] * c / N as f32;
        mse += w[i] * e / N as f32;
    }
    close(logs.get("digit_loss").unwrap(), ce);
    close(logs.get("size_loss").unwrap(), mse);
}

#[test]
fn fit_trains_both_heads_and_logs_them_by_name_for_callbacks() {
    let (x, labels, sizes) = task(4 * N, 4);
    let mut m = model(1e-2, 1.0);
    let stop = EarlyStopping::new("val_digit_loss").patience(50);
    let o = FitOptions {
        epochs: 12,
        batch_size: 32,
        validation_split: 0.25,
        verbose: false,
        callbacks: vec![Box::new(stop)],
        ..Default::default()
    };
    let h = m.fit_outputs(std::slice::from_ref(&x), &[labels.clone(), sizes.clone()], o).unwrap();
    for key in ["loss", "digit_loss", "size_loss", "digit_accuracy", "val_loss", "val_digit_loss", "val_size_loss"] {
        assert_eq!(h.get(key).len(), 12, "{key} in every epoch's logs");
    }
    let (d0, d1) = (h.get("val_digit_loss")[0], *h.get("val_digit_loss").last().unwrap());
    let (s0, s1) = (h.get("val_size_loss")[0], *h.get("val_size_loss").last().unwrap());
    assert!(d1 < 0.6 * d0 && s1 < 0.6 * s0, "both heads learn: digit {d0} -> {d1}, size {s0} -> {s1}");
    assert!(*h.get("val_digit_accuracy").last().unwrap() > 0.8, "{:?}", h.get("val_digit_accuracy"));
    // The held-out figures are evaluate_outputs' on the last quarter.
    let tail = |t: &Tensor| t.slice(0, 3 * N, 4 * N, 1).unwrap();
    let logs = m.evaluate_outputs(&[tail(&x)], &[tail(&labels), tail(&sizes)], None, 32).unwrap();
    close(logs.get("size_loss").unwrap(), s1);
    close(logs.get("loss").unwrap(), *h.get("val_loss").last().unwrap());
}

#[test]
fn several_outputs_refuse_what_cannot_describe_them() {
    let (x, labels, sizes) = task(16, 5);
    let refused = |r: wgtrain::Result<()>, words: &[&str]| {
        let err = r.expect_err("refused").to_string();
        assert!(words.iter().all(|w| err.contains(w)), "{err}");
    };
    let mut m = Model::new(two_heads(1));
    refused(m.compile(Sgd::new(0.1), MeanSquaredError, vec![]), &["2 outputs", "digit, size", "compile_outputs"]);
    let one = vec![OutputLoss::new(MeanSquaredError)];
    refused(m.compile_outputs(Sgd::new(0.1), one), &["1 losses", "2 outputs"]);
    let unknown = vec![OutputLoss::named("digit", MeanSquaredError), OutputLoss::named("area", MeanSquaredError)];
    refused(m.compile_outputs(Sgd::new(0.1), unknown), &["\"area\"", "digit, size"]);
    let mixed = vec![OutputLoss::named("digit", MeanSquaredError), OutputLoss::new(MeanSquaredError)];
    refused(m.compile_outputs(Sgd::new(0.1), mixed), &["OutputLoss::named"]);
    let twice = vec![OutputLoss::named("size", MeanSquaredError), OutputLoss::named("size", MeanSquaredError)];
    refused(m.compile_outputs(Sgd::new(0.1), twice), &["\"size\"", "two losses"]);
    let negative = vec![OutputLoss::new(MeanSquaredError).weight(-1.0), OutputLoss::new(MeanSquaredError)];
    refused(m.compile_outputs(Sgd::new(0.1), negative), &["-1", ">= 0"]);

    let mut m = model(0.1, 1.0);
    let xs = std::slice::from_ref(&x);
    refused(
        m.fit(&x, &labels, FitOptions { verbose: false, ..Default::default() }).map(|_| ()),
        &["1 targets", "2 outputs"],
    );
    refused(m.train_step(&x, &labels).map(|_| ()), &["1 targets", "digit, size"]);
    let short = sizes.slice(0, 0, 8, 1).unwrap();
    refused(m.evaluate_outputs(xs, &[labels.clone(), short], None, 8).map(|_| ()), &["size", "16 rows"]);
    let weighted = FitOptions { class_weight: Some(vec![1.0, 2.0, 1.0]), verbose: false, ..Default::default() };
    refused(
        m.fit_outputs(xs, &[labels.clone(), sizes.clone()], weighted).map(|_| ()),
        &["class_weight", "class_weights"],
    );
    refused(m.predict(&x, 8).map(|_| ()), &["2 outputs", "predict_outputs"]);
    // Nothing trained: the refusals come before any step.
    assert_eq!(m.global_step(), 0);
}
