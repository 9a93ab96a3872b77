//! Mixed precision learns as well as f32: an MLP and a small CNN trained from the same seed
//! under `float32` and `mixed_float16` reach held-out accuracies within a point, with close
//! loss curves; the weights stay f32 masters and the summary says what each layer computes in.
//! A training step casts no weight: the update refreshes the f16 copies layers compute with.

use wgtrain::prelude::*;

use super::learning::{quadrants, spirals};
use crate::harness::dev;

fn train(
    net: Sequential,
    policy: Policy,
    data: (&Tensor, &Tensor, &Tensor, &Tensor),
    epochs: usize,
) -> (f32, Vec<f32>, Model) {
    let (x, y, vx, vy) = data;
    let mut model = Model::new(net).with_seed(21);
    model.set_policy(policy).unwrap();
    let metrics: Vec<Box<dyn Metric>> = vec![Box::new(SparseCategoricalAccuracy::new())];
    model.compile(Adam::new(0.01), SparseCategoricalCrossEntropy::from_logits(), metrics).unwrap();
    let h = model.fit(x, y, FitOptions { epochs, batch_size: 50, verbose: false, ..Default::default() }).unwrap();
    let acc = model.evaluate(vx, vy, 200).unwrap().get("accuracy").unwrap();
    (acc, h.get("loss"), model)
}

fn close_curves(a: &[f32], b: &[f32], what: &str) {
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!(
            (p - q).abs() <= 0.05 + 0.15 * p.abs(),
            "{what}: epoch {i} loss {p} (f32) vs {q} (mixed)\n{a:?}\n{b:?}"
        );
    }
}

#[test]
fn an_mlp_learns_as_well_in_mixed_precision() {
    if !dev().has_f16() {
        return;
    }
    let (x, y) = spirals(1000, 1);
    let (vx, vy) = spirals(400, 2);
    let net = || {
        Sequential::new(dev(), &[2])
            .seed(3)
            .add(Dense::new(64).relu())
            .and_then(|s| s.add(Dense::new(64).relu()))
            .and_then(|s| s.add(Dense::new(2)))
            .unwrap()
    };
    let (acc32, loss32, _) = train(net(), Policy::float32(), (&x, &y, &vx, &vy), 40);
    let (acc16, loss16, model) = train(net(), Policy::mixed_float16(), (&x, &y, &vx, &vy), 40);
    eprintln!("spirals: f32 {acc32} {loss32:?}\nmixed {acc16} {loss16:?}");
    assert!(acc32 >= 0.9 && (acc32 - acc16).abs() <= 0.01, "accuracy f32 {acc32}, mixed {acc16}");
    close_curves(&loss32, &loss16, "spirals");
    assert!(model.params().iter().all(|p| p.var.dtype() == DType::F32), "the masters stay f32");
    let summary = model.summary();
    assert!(summary.contains("float16") && summary.contains("Policy: mixed_float16"), "{summary}");
}

#[test]
fn a_small_cnn_learns_as_well_in_mixed_precision() {
    if !dev().has_f16() {
        return;
    }
    let (x, y) = quadrants(512, 5);
    let (vx, vy) = quadrants(256, 6);
    let net = || {
        Sequential::new(dev(), &[1, 12, 12])
            .seed(7)
            .add(Conv2d::new(8, [3, 3]).relu())
            .and_then(|s| s.add(MaxPool2d::new([2, 2])))
            .and_then(|s| s.add(Conv2d::new(16, [3, 3]).relu()))
            .and_then(|s| s.add(Flatten::new()))
            .and_then(|s| s.add(Dense::new(4)))
            .unwrap()
    };
    let (acc32, loss32, _) = train(net(), Policy::float32(), (&x, &y, &vx, &vy), 6);
    let (acc16, loss16, mut model) = train(net(), Policy::mixed_float16(), (&x, &y, &vx, &vy), 6);
    eprintln!("quadrants: f32 {acc32} {loss32:?}\nmixed {acc16} {loss16:?}");
    assert!(acc32 >= 0.9 && (acc32 - acc16).abs() <= 0.01, "accuracy f32 {acc32}, mixed {acc16}");
    close_curves(&loss32, &loss16, "quadrants");
    let scale = model.optimizer().unwrap().loss_scale().unwrap().read().unwrap();
    assert!(scale.scale >= 1.0, "compile gave the optimizer a loss scale: {scale:?}");
}

#[test]
fn a_functional_graph_merges_f16_and_f32_branches_and_set_policy_after_compile_wraps_the_optimizer() {
    if !dev().has_f16() {
        return;
    }
    // The concatenation meets an f16 branch (a Dense) and an f32 one (the raw input), as a
    // skip connection does under a mixed policy.
    let mut g = Functional::new(dev()).seed(31);
    let (ia, ib) = (g.input("a", &[4]), g.input("b", &[4]));
    let shared = g.layer(Dense::new(8).relu());
    let (ha, hb) = (g.call(shared, ia).unwrap(), g.call(shared, ib).unwrap());
    let merged = g.add(&[ha, hb]).unwrap();
    let skip = g.concatenate(&[merged, ia, ib], -1).unwrap();
    let out = g.apply(Dense::new(1), skip).unwrap();
    g.set_outputs(&[out]).unwrap();
    let mut model = Model::new(g).with_seed(32);
    model.compile(Adam::new(0.01), MeanSquaredError, vec![]).unwrap();
    assert!(model.optimizer().unwrap().loss_scale().is_none());
    model.set_policy(Policy::mixed_float16()).unwrap();
    assert!(model.optimizer().unwrap().loss_scale().is_some(), "set_policy after compile adds a loss scale");
    let a = Tensor::rand_uniform(dev(), &[128, 4], -1.0, 1.0, 33).unwrap();
    let b = Tensor::rand_uniform(dev(), &[128, 4], -1.0, 1.0, 34).unwrap();
    let t = a.sub(&b).unwrap().sum(&[1], true).unwrap();
    let inputs = [a, b];
    let before = model.evaluate_inputs(&inputs, &t, 64).unwrap().get("loss").unwrap();
    let o = FitOptions { epochs: 15, batch_size: 32, verbose: false, check_numerics: true, ..Default::default() };
    model.fit_inputs(&inputs, &t, o).unwrap();
    let after = model.evaluate_inputs(&inputs, &t, 64).unwrap().get("loss").unwrap();
    assert!(after < 0.5 * before, "loss {before} -> {after}");
}

#[test]
fn a_mixed_training_step_casts_no_weight_the_update_refreshes_the_f16_copies() {
    // A device of its own: profiling counts every dispatch on it.
    let dev = Device::new().unwrap();
    if !dev.has_f16() {
        return;
    }
    let net = Sequential::new(&dev, &[4])
        .seed(5)
        .add(Dense::new(16).relu())
        .and_then(|s| s.add(Dense::new(16).relu()))
        .and_then(|s| s.add(Dense::new(3)))
        .unwrap();
    let mut model = Model::new(net).with_seed(6);
    model.set_policy(Policy::mixed_float16()).unwrap();
    model.compile(Adam::new(0.01), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    let x = Tensor::rand_uniform(&dev, &[32, 4], -1.0, 1.0, 7).unwrap();
    let y = Tensor::from_slice(&dev, &(0..32u32).map(|i| i % 3).collect::<Vec<_>>(), &[32]).unwrap();
    model.train_step(&x, &y).unwrap(); // the first forward casts each weight once, and keeps it
    let params = model.params();
    assert_eq!(params.len(), 6);
    let copy = |p: &Param| p.var.current_copy(DType::F16).unwrap_or_else(|| panic!("{}: no current f16 copy", p.name));
    let first: Vec<Tensor> = params.iter().map(copy).collect();
    for _ in 0..2 {
        model.train_step(&x, &y).unwrap();
    }
    // Widening f16 to f32 is exact, so equal f32 bits are equal f16 bits.
    let bits = |t: &Tensor| {
        t.cast(DType::F32).unwrap().to_vec::<f32>().unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    for (p, first) in params.iter().zip(&first) {
        let now = copy(p);
        assert!(
            now.shares_storage(first),
            "{}: the steps cast the weight again instead of refreshing its copy",
            p.name
        );
        let fresh = p.var.data().cast(DType::F16).unwrap();
        assert_eq!(bits(&now), bits(&fresh), "{}: the copy is the cast of the updated master", p.name);
    }
    let casts =
        |dev: &Device| dev.profile().iter().filter(|k| k.kernel == "cast_f32_f16").map(|k| k.calls).sum::<u64>();
    dev.set_profiling(true);
    model.predict(&x, 32).unwrap();
    assert_eq!(casts(&dev), 1, "a forward pass casts its input batch and no weight");
    dev.set_profiling(false);
    // A write by other means (a checkpoint load, an assign) retires the copy: the next cast is fresh.
    let w = &params[0].var;
    w.data().assign(&w.data().mul_scalar(0.5).unwrap()).unwrap();
    assert!(w.current_copy(DType::F16).is_none(), "an assigned master has no current copy");
    model.train_step(&x, &y).unwrap();
    assert!(!copy(&params[0]).shares_storage(&first[0]), "the assigned weight was cast afresh");
    assert!(copy(&params[1]).shares_storage(&first[1]), "the others were not");
}
