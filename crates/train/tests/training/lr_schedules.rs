//! Cyclic learning rates and Keras' closure `LearningRateScheduler` (issue 24, item 9),
//! against their formulas.

use wgtrain::optim::{CyclicLr, CyclicMode, LrSchedule};
use wgtrain::prelude::*;

use crate::harness::{data, dev, tensor};

/// PyTorch's CyclicLR, written out in f64 from its documentation.
fn pytorch(base: f64, max: f64, step: f64, t: f64, mode: CyclicMode) -> f64 {
    let cycle = (1.0 + t / (2.0 * step)).floor();
    let x = (t / step - 2.0 * cycle + 1.0).abs();
    let scale = match mode {
        CyclicMode::Triangular => 1.0,
        CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
        CyclicMode::ExpRange(g) => (g as f64).powf(t),
    };
    base + (max - base) * (1.0 - x).max(0.0) * scale
}

#[test]
fn cyclic_rates_rise_fall_and_scale_their_cycles_as_pytorch() {
    for mode in [CyclicMode::Triangular, CyclicMode::Triangular2, CyclicMode::ExpRange(0.99)] {
        let s = CyclicLr { base: 0.001, max: 0.1, step_size: 4, mode };
        for t in 0..40 {
            let want = pytorch(0.001, 0.1, 4.0, t as f64, mode) as f32;
            assert!((s.lr(t) - want).abs() <= 1e-6, "{mode:?} t={t}: {} vs {want}", s.lr(t));
        }
    }
    // The shape itself: base at the start of each cycle, max at its middle.
    let tri = CyclicLr { base: 0.1, max: 0.5, step_size: 5, mode: CyclicMode::Triangular };
    assert_eq!([tri.lr(0), tri.lr(5), tri.lr(10), tri.lr(15)], [0.1, 0.5, 0.1, 0.5]);
    let halving = CyclicLr { mode: CyclicMode::Triangular2, ..tri };
    assert!((halving.lr(15) - 0.3).abs() < 1e-6, "the second cycle's peak is half as high");
}

#[test]
fn a_closure_schedule_gets_the_epoch_and_the_current_rate() {
    let net = Sequential::new(dev(), &[3]).add(Dense::new(1)).unwrap();
    let mut m = Model::new(net);
    m.compile(Sgd::new(0.1), MeanSquaredError, vec![]).unwrap();
    let (x, y) = (tensor(&data(1, 48), &[16, 3]), tensor(&data(2, 16), &[16, 1]));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let halve_after_two = move |epoch: usize, lr: f32| {
        log.lock().unwrap().push((epoch, lr));
        if epoch < 2 { lr } else { lr * 0.5 }
    };
    let o = FitOptions {
        epochs: 5,
        verbose: false,
        callbacks: vec![Box::new(LearningRateScheduler::new(halve_after_two))],
        ..Default::default()
    };
    let h = m.fit(&x, &y, o).unwrap();
    assert_eq!(h.get("lr"), [0.1, 0.1, 0.05, 0.025, 0.0125]);
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls, [(0, 0.1), (1, 0.1), (2, 0.1), (3, 0.05), (4, 0.025)]);
    // A rate that makes no sense stops the run, naming it.
    let o = FitOptions {
        verbose: false,
        callbacks: vec![Box::new(LearningRateScheduler::new(|_, _| f32::NAN))],
        ..Default::default()
    };
    assert!(m.fit(&x, &y, o).expect_err("a NaN rate").to_string().contains("NaN"));
}
