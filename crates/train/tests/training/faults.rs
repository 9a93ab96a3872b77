//! Bad labels and non-finite numbers in training (issue 20, items 3 and 4): a label out of range
//! stops `fit` at its next loss read-back with an error naming it; only `ignore_index` is
//! skipped; `check_numerics` stops `fit` naming the first non-finite parameter.
//!
//! Faults are device-wide (the next read-back of anything reports them), so every test here
//! trains on a device of its own rather than the shared one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wgtrain::prelude::*;
use wgtrain::tensor::TensorError;

fn own_device() -> Device {
    Device::new().expect("a GPU adapter")
}

/// Counts the batches `fit` begins.
struct CountBatches(Arc<AtomicUsize>);

impl Callback for CountBatches {
    fn on_train_batch_begin(&mut self, _model: &mut Model, _batch: usize) -> wgtrain::Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A 2 -> 8 -> 3 classifier.
fn classifier(dev: &Device, loss: SparseCategoricalCrossEntropy) -> Model {
    let net = Sequential::new(dev, &[2]).seed(1).add(Dense::new(8).relu()).and_then(|s| s.add(Dense::new(3))).unwrap();
    let mut model = Model::new(net).with_seed(2);
    model.compile(Sgd::new(0.1), loss, vec![]).unwrap();
    model
}

fn points(dev: &Device, n: usize) -> Tensor {
    let x: Vec<f32> = (0..2 * n).map(|i| ((i * 37 % 11) as f32 - 5.0) / 5.0).collect();
    Tensor::from_slice(dev, &x, &[n, 2]).unwrap()
}

#[test]
fn fit_stops_at_the_next_loss_read_back_naming_the_bad_label() {
    let dev = own_device();
    let x = points(&dev, 16);
    // Batch 0 (samples 0..4) holds label 7 of 3 classes at position 2 of the batch.
    let mut labels = vec![0u32, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
    labels[2] = 7;
    let y = Tensor::from_slice(&dev, &labels, &[16]).unwrap();
    let mut model = classifier(&dev, SparseCategoricalCrossEntropy::from_logits());
    let begun = Arc::new(AtomicUsize::new(0));
    let o = FitOptions {
        epochs: 1,
        batch_size: 4,
        shuffle: false,
        verbose: false,
        log_every: 2,
        callbacks: vec![Box::new(CountBatches(begun.clone()))],
        ..Default::default()
    };
    let e = model.fit(&x, &y, o).unwrap_err().to_string();
    assert!(e.contains("cross_entropy: label 7 at position 2 is out of range 0..3"), "{e}");
    // Found by the read-back after step 2 (log_every), not by a wait after every step.
    assert_eq!(begun.load(Ordering::SeqCst), 2, "fit stopped at the first read-back after the bad step");
    assert_eq!(model.global_step(), 2);
}

#[test]
fn the_probabilities_path_refuses_bad_labels_too() {
    let dev = own_device();
    let probs = Tensor::from_slice(&dev, &[0.2f32, 0.3, 0.5, 0.6, 0.3, 0.1], &[2, 3]).unwrap();
    let loss = SparseCategoricalCrossEntropy::new();
    for (labels, value, position) in [(vec![0i32, -1], -1i64, 1u64), (vec![3, 0], 3, 0)] {
        let y = Tensor::from_slice(&dev, &labels, &[2]).unwrap();
        let out = loss.forward(&Var::constant(probs.clone()), &y, None).unwrap();
        match out.item() {
            Err(wgtrain::autograd::AutogradError::Tensor(TensorError::IndexOutOfRange {
                op,
                value: v,
                position: p,
                ..
            })) => assert_eq!((op, v, p), ("sparse_categorical_crossentropy", value, position)),
            other => panic!("expected a label fault, got {other:?}"),
        }
    }
    let y = Tensor::from_slice(&dev, &[u32::MAX, 0], &[2]).unwrap();
    let e = loss.forward(&Var::constant(probs), &y, None).unwrap().item().unwrap_err().to_string();
    assert!(e.contains(&format!("label {} at position 0", u32::MAX)), "{e}");
}

#[test]
fn only_ignore_index_is_skipped_on_both_paths() {
    let dev = own_device();
    let z = [1.0f32, -0.5, 2.0, 0.3, 0.1, -1.2, -0.7, 0.9, 0.4];
    let logits = Tensor::from_slice(&dev, &z, &[3, 3]).unwrap();
    let probs = logits.softmax(-1).unwrap();
    let p = probs.to_vec::<f32>().unwrap();
    let nll = |row: usize, label: usize| -(p[row * 3 + label] as f64).ln();
    let y = Tensor::from_slice(&dev, &[2i32, -100, 1], &[3]).unwrap();
    let kept = (nll(0, 2) + nll(2, 1)) / 2.0;
    for (name, loss, pred) in [
        ("logits", SparseCategoricalCrossEntropy::from_logits().ignore_index(-100), &logits),
        ("probabilities", SparseCategoricalCrossEntropy::new().ignore_index(-100), &probs),
    ] {
        let got = loss.forward(&Var::constant(pred.clone()), &y, None).unwrap().item().unwrap() as f64;
        assert!((got - kept).abs() < 1e-5, "{name}: {got} vs the mean over kept samples {kept}");
        // Sample weights: sum(w l) over kept samples / number kept.
        let w = Tensor::from_slice(&dev, &[2.0f32, 5.0, 0.5], &[3]).unwrap();
        let got = loss.forward(&Var::constant(pred.clone()), &y, Some(&w)).unwrap().item().unwrap() as f64;
        let want = (2.0 * nll(0, 2) + 0.5 * nll(2, 1)) / 2.0;
        assert!((got - want).abs() < 1e-5, "{name} weighted: {got} vs {want}");
        // A batch of ignored labels gives 0 (Keras), not NaN, and a finite gradient.
        let pad = Tensor::from_slice(&dev, &[-100i32; 3], &[3]).unwrap();
        let v = Var::parameter(pred.clone());
        let l = loss.forward(&v, &pad, None).unwrap();
        l.backward().unwrap();
        assert_eq!(l.item().unwrap(), 0.0, "{name}");
        assert!(v.grad().unwrap().to_vec::<f32>().unwrap().iter().all(|g| *g == 0.0), "{name}");
        // Any other out-of-range label still stops training.
        let bad = Tensor::from_slice(&dev, &[2i32, -100, -5], &[3]).unwrap();
        let e = loss.forward(&Var::constant(pred.clone()), &bad, None).unwrap().item().unwrap_err().to_string();
        assert!(e.contains("label -5 at position 2"), "{name}: {e}");
    }
    // Without ignore_index, -100 is an error like any other bad label.
    let e = SparseCategoricalCrossEntropy::from_logits()
        .forward(&Var::constant(logits), &y, None)
        .unwrap()
        .item()
        .unwrap_err()
        .to_string();
    assert!(e.contains("label -100 at position 1"), "{e}");
}

/// A model whose second layer's kernel is NaN, the first layer frozen (so its parameters stay
/// finite and the NaN one is the first parameter concerned), and `fit` options.
fn poisoned(dev: &Device, check_numerics: bool) -> (Model, String, FitOptions) {
    let mut model = classifier(dev, SparseCategoricalCrossEntropy::from_logits());
    let params = model.params();
    let target = &params[2];
    let shape = target.var.data().shape().to_vec();
    target.var.data().assign(&Tensor::full(dev, &shape, f32::NAN).unwrap()).unwrap();
    let first_layer = params[0].name.split('/').next().unwrap().to_string();
    model.freeze(&first_layer).unwrap();
    let o =
        FitOptions { epochs: 1, batch_size: 4, shuffle: false, verbose: false, check_numerics, ..Default::default() };
    (model, target.name.clone(), o)
}

#[test]
fn check_numerics_stops_fit_naming_the_first_non_finite_parameter() {
    let dev = own_device();
    let x = points(&dev, 8);
    let y = Tensor::from_slice(&dev, &[0u32, 1, 2, 0, 1, 2, 0, 1], &[8]).unwrap();
    let (mut model, name, o) = poisoned(&dev, true);
    let e = model.fit(&x, &y, o).unwrap_err();
    assert!(matches!(&e, TrainError::NonFinite { param, .. } if *param == name), "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&name) && msg.contains("NaN or infinity") && msg.contains("check_numerics"), "{msg}");

    // Off (the default): fit runs to the end as before, logging a NaN loss.
    let (mut model, _, o) = poisoned(&dev, false);
    let h = model.fit(&x, &y, o).unwrap();
    assert!(h.get("loss").iter().all(|l| l.is_nan()), "{:?}", h.get("loss"));
    assert_eq!(model.global_step(), 2);
}
