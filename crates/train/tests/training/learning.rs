//! Models that must learn: accuracy on held-out data from the same generator.

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

use crate::harness::dev;

fn quiet(epochs: usize, batch_size: usize) -> FitOptions {
    FitOptions { epochs, batch_size, verbose: false, ..Default::default() }
}

/// Two interleaved spirals: `n` points `[n, 2]` and labels 0/1.
pub(super) fn spirals(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let class = (i % 2) as u32;
        let t: f32 = rng.random_range(0.0..1.0);
        let angle = t * 3.0 * std::f32::consts::PI + class as f32 * std::f32::consts::PI;
        let r = 0.15 + t;
        x.extend([r * angle.cos() + rng.random_range(-0.02..0.02), r * angle.sin() + rng.random_range(-0.02..0.02)]);
        y.push(class);
    }
    (Tensor::from_slice(dev(), &x, &[n, 2]).unwrap(), Tensor::from_slice(dev(), &y, &[n]).unwrap())
}

/// `net` compiled as every classifier here is: Adam at 0.01, sparse cross-entropy on logits,
/// accuracy.
fn classifier(net: Sequential, seed: u64) -> Model {
    let mut model = Model::new(net).with_seed(seed);
    let accuracy: Vec<Box<dyn Metric>> = vec![Box::new(SparseCategoricalAccuracy::new())];
    model.compile(Adam::new(0.01), SparseCategoricalCrossEntropy::from_logits(), accuracy).unwrap();
    model
}

#[test]
fn an_mlp_separates_two_spirals() {
    let (x, y) = spirals(1000, 1);
    let (vx, vy) = spirals(400, 2);
    let net = Sequential::new(dev(), &[2])
        .seed(3)
        .add(Dense::new(64).relu())
        .and_then(|s| s.add(Dense::new(64).relu()))
        .and_then(|s| s.add(Dense::new(2)))
        .unwrap();
    let mut model = classifier(net, 4);
    let h = model.fit(&x, &y, quiet(60, 50)).unwrap();
    let logs = model.evaluate(&vx, &vy, 200).unwrap();
    let acc = logs.get("accuracy").unwrap();
    assert!(acc >= 0.95, "held-out accuracy {acc}, training losses {:?}", h.get("loss"));
}

/// 1x12x12 images with one bright 4x4 blob in a quadrant (the label) over noise.
pub(super) fn quadrants(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::with_capacity(n * 144), Vec::with_capacity(n));
    for _ in 0..n {
        let q: u32 = rng.random_range(0..4);
        let (oy, ox) = ((q / 2) as usize * 6 + rng.random_range(0..3), (q % 2) as usize * 6 + rng.random_range(0..3));
        for r in 0..12 {
            for c in 0..12 {
                let blob = (oy..oy + 4).contains(&r) && (ox..ox + 4).contains(&c);
                x.push(rng.random_range(0.0..0.5) + if blob { 0.6 } else { 0.0 });
            }
        }
        y.push(q);
    }
    (Tensor::from_slice(dev(), &x, &[n, 1, 12, 12]).unwrap(), Tensor::from_slice(dev(), &y, &[n]).unwrap())
}

#[test]
fn a_small_cnn_learns_where_the_blob_is() {
    let (x, y) = quadrants(512, 5);
    let (vx, vy) = quadrants(256, 6);
    let net = Sequential::new(dev(), &[1, 12, 12])
        .seed(7)
        .add(Conv2d::new(8, [3, 3]).relu())
        .and_then(|s| s.add(MaxPool2d::new([2, 2])))
        .and_then(|s| s.add(Conv2d::new(16, [3, 3]).relu()))
        .and_then(|s| s.add(Flatten::new()))
        .and_then(|s| s.add(Dense::new(4)))
        .unwrap();
    let mut model = classifier(net, 8);
    model.fit(&x, &y, quiet(6, 32)).unwrap();
    let acc = model.evaluate(&vx, &vy, 128).unwrap().get("accuracy").unwrap();
    assert!(acc >= 0.9, "held-out accuracy {acc}");
}

/// Sequences of 6 random bits `[n, 6, 1]`; the label is the first bit, which the model must
/// carry through five more steps.
fn first_bit(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let bits: Vec<f32> = (0..n * 6).map(|_| rng.random_range(0..2) as f32).collect();
    let y: Vec<u32> = (0..n).map(|i| bits[i * 6] as u32).collect();
    (Tensor::from_slice(dev(), &bits, &[n, 6, 1]).unwrap(), Tensor::from_slice(dev(), &y, &[n]).unwrap())
}

#[test]
fn an_lstm_remembers_the_first_bit_of_a_sequence() {
    let (x, y) = first_bit(512, 9);
    let (vx, vy) = first_bit(256, 10);
    let net = Sequential::new(dev(), &[6, 1]).seed(11).add(Lstm::new(16)).and_then(|s| s.add(Dense::new(2))).unwrap();
    let mut model = Model::new(net).with_seed(12);
    model
        .compile(
            Adam::new(0.02),
            SparseCategoricalCrossEntropy::from_logits(),
            vec![Box::new(SparseCategoricalAccuracy::new())],
        )
        .unwrap();
    let h = model.fit(&x, &y, quiet(12, 32)).unwrap();
    let acc = model.evaluate(&vx, &vy, 256).unwrap().get("accuracy").unwrap();
    assert!(acc >= 0.95, "held-out accuracy {acc}, losses {:?}", h.get("loss"));
}

#[test]
fn a_functional_two_input_model_with_a_shared_layer_and_a_skip_learns() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let n = 256;
    let a: Vec<f32> = (0..n * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
    let b: Vec<f32> = (0..n * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
    // Target: a smooth function of both inputs.
    let t: Vec<f32> = (0..n).map(|i| (0..4).map(|k| a[i * 4 + k] - 0.5 * b[i * 4 + k]).sum::<f32>()).collect();
    let (ta, tb) = (Tensor::from_slice(dev(), &a, &[n, 4]).unwrap(), Tensor::from_slice(dev(), &b, &[n, 4]).unwrap());
    let tt = Tensor::from_slice(dev(), &t, &[n, 1]).unwrap();

    let mut g = Functional::new(dev()).seed(14);
    let (ia, ib) = (g.input("a", &[4]), g.input("b", &[4]));
    let shared = g.layer(Dense::new(16).activation(Activation::Tanh));
    let (ha, hb) = (g.call(shared, ia).unwrap(), g.call(shared, ib).unwrap());
    let merged = g.add(&[ha, hb]).unwrap();
    let skip = g.concatenate(&[merged, ia, ib], -1).unwrap();
    let out = g.apply(Dense::new(1), skip).unwrap();
    g.set_outputs(&[out]).unwrap();
    let mut model = Model::new(g).with_seed(15);
    model.compile(Adam::new(0.01), MeanSquaredError, vec![]).unwrap();
    let inputs = [ta, tb];
    let before = model.evaluate_inputs(&inputs, &tt, 64).unwrap().get("loss").unwrap();
    model.fit_inputs(&inputs, &tt, quiet(15, 32)).unwrap();
    let after = model.evaluate_inputs(&inputs, &tt, 64).unwrap().get("loss").unwrap();
    assert!(after < 0.5 * before, "loss {before} -> {after}");
}
