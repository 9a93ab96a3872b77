//! `fit`, `evaluate` and `predict` on data larger than one storage binding. The device's
//! binding limit is lowered (on a device of this test's own) so that 144 KiB of data is "too
//! large", which takes the same path as 188 MB of Fashion-MNIST under lavapipe's 128 MiB.

use wgtrain::prelude::*;

const LIMIT: u64 = 64 * 1024;

fn model(dev: &Device) -> Model {
    let net = Sequential::new(dev, &[18]).seed(3).add(Dense::new(8).relu()).and_then(|s| s.add(Dense::new(3))).unwrap();
    let mut m = Model::new(net).with_seed(3);
    m.compile(
        Adam::new(0.01),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    )
    .unwrap();
    m
}

fn data(dev: &Device) -> (Tensor, Tensor) {
    let x = Tensor::rand_uniform(dev, &[2048, 18], -1.0, 1.0, 5).unwrap();
    // Class 0, 1 or 2 by the sign and size of the first feature.
    let first = x.slice(1, 0, 1, 1).unwrap();
    let y = first.gt_scalar(-0.33).unwrap().add(&first.gt_scalar(0.33).unwrap()).unwrap();
    let y = y.reshape(&[2048]).unwrap().cast(DType::U32).unwrap();
    (x, y)
}

fn weights(m: &Model) -> Vec<Vec<f32>> {
    m.params().iter().map(|p| p.var.to_vec().unwrap()).collect()
}

#[test]
fn fit_evaluate_and_predict_take_data_larger_than_one_binding() {
    let dev = Device::new().unwrap();
    let (x, y) = data(&dev);
    let opts =
        || FitOptions { epochs: 5, batch_size: 64, validation_split: 0.25, verbose: false, ..Default::default() };
    // Reference: the usual limit.
    let mut small = model(&dev);
    let h_small = small.fit(&x, &y, opts()).unwrap();
    let eval_small = small.evaluate(&x, &y, 100).unwrap();
    let pred_small = small.predict(&x, 100).unwrap().to_vec::<f32>().unwrap();

    dev.set_max_binding_bytes(LIMIT);
    assert!(!x.fits_one_binding(), "the test data must exceed the lowered limit");
    let mut large = model(&dev);
    let h_large = large.fit(&x, &y, opts()).unwrap();
    assert_eq!(weights(&large), weights(&small), "batches copied out differ from batches gathered by the kernel");
    assert_eq!(h_large.get("val_loss"), h_small.get("val_loss"));
    let acc = h_large.get("val_accuracy");
    assert!(acc[4] > 0.8, "learned: val_accuracy {acc:?}");
    assert_eq!(large.evaluate(&x, &y, 100).unwrap().get("loss"), eval_small.get("loss"));
    assert_eq!(large.predict(&x, 100).unwrap().to_vec::<f32>().unwrap(), pred_small);
    // In order too (no shuffle: one copy per batch).
    let mut in_order = model(&dev);
    in_order.fit(&x, &y, FitOptions { shuffle: false, ..opts() }).unwrap();
}

#[test]
fn take_rows_copies_the_rows_asked_for_and_refuses_bad_ones() {
    let dev = Device::new().unwrap();
    let values: Vec<f32> = (0..40).map(|v| v as f32).collect();
    let x = Tensor::from_slice(&dev, &values, &[10, 4]).unwrap();
    let got = x.take_rows(&[3, 4, 5, 0, 9, 9]).unwrap().to_vec::<f32>().unwrap();
    let want: Vec<f32> = [3, 4, 5, 0, 9, 9].iter().flat_map(|&r| (0..4).map(move |c| (r * 4 + c) as f32)).collect();
    assert_eq!(got, want);
    // A view with an offset: rows of the view, not of its storage.
    let tail = x.slice(0, 6, 10, 1).unwrap();
    assert_eq!(tail.take_rows(&[1]).unwrap().to_vec::<f32>().unwrap(), [28.0, 29.0, 30.0, 31.0]);
    let err = x.take_rows(&[2, 10]).unwrap_err().to_string();
    assert!(err.contains("take_rows") && err.contains("10") && err.contains("position 1"), "{err}");
    let odd = Tensor::zeros(&dev, &[4, 3], DType::F16).unwrap();
    assert!(odd.take_rows(&[0]).unwrap_err().to_string().contains("4-byte"));
}

#[test]
fn predict_returns_outputs_larger_than_one_binding() {
    // An autoencoder-shaped model: its output is as large as its input, over the limit.
    let dev = Device::new().unwrap();
    let (x, _) = data(&dev);
    let net = Sequential::new(&dev, &[18]).seed(4).add(Dense::new(18)).unwrap();
    let mut m = Model::new(net);
    let want = m.predict(&x, 256).unwrap().to_vec::<f32>().unwrap();
    dev.set_max_binding_bytes(LIMIT);
    let got = m.predict(&x, 256).unwrap();
    assert!(!got.fits_one_binding(), "the output must exceed the lowered limit");
    assert_eq!(got.to_vec::<f32>().unwrap(), want);
}
