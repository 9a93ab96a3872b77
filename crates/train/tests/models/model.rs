//! Sequential: shape checking at build time, naming, summary, freezing, errors.

use wgtrain::TrainError;
use wgtrain::layers::*;
use wgtrain::models::{Model, Network, Sequential};

use crate::harness::dev;

fn cnn() -> Sequential {
    Sequential::new(dev(), &[3, 32, 32])
        .add(Conv2d::new(32, [3, 3]).relu())
        .and_then(|s| s.add(MaxPool2d::new([2, 2])))
        .and_then(|s| s.add(Conv2d::new(64, [3, 3]).relu()))
        .and_then(|s| s.add(MaxPool2d::new([2, 2])))
        .and_then(|s| s.add(Conv2d::new(64, [3, 3]).relu()))
        .and_then(|s| s.add(Flatten::new()))
        .and_then(|s| s.add(Dense::new(64).relu()))
        .and_then(|s| s.add(Dense::new(10)))
        .unwrap()
}

#[test]
fn shapes_are_inferred_and_checked_when_layers_are_added() {
    let net = cnn();
    assert_eq!(net.output_shape(), &[10]);
    let rows = net.summary_rows();
    let shapes: Vec<Vec<usize>> = rows.iter().map(|r| r.output.clone()).collect();
    assert_eq!(shapes[0], [32, 30, 30]);
    assert_eq!(shapes[4], [64, 4, 4]);
    assert_eq!(shapes[5], [1024]);
    // The peers' CNN has 122,570 parameters.
    assert_eq!(rows.iter().map(|r| r.trainable).sum::<usize>(), 122_570);

    // A convolution on a flat input fails at add, naming the layer and both shapes.
    let err = Sequential::new(dev(), &[784]).add(Conv2d::new(8, [3, 3])).err().expect("a shape error");
    assert!(matches!(err, TrainError::Shape { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("conv2d_1") && msg.contains("[784]"), "{msg}");
    // A kernel larger than the image.
    assert!(Sequential::new(dev(), &[1, 2, 2]).add(Conv2d::new(1, [3, 3])).is_err());
    // A reshape that does not fit.
    assert!(Sequential::new(dev(), &[10]).add(Reshape::new(&[3, -1])).is_err());
}

#[test]
fn summary_lists_layers_shapes_and_counts_like_keras() {
    let net = Sequential::new(dev(), &[8])
        .add(Dense::new(4).relu())
        .unwrap()
        .add(BatchNorm::new())
        .unwrap()
        .add(Dense::new(2))
        .unwrap();
    let mut model = Model::new(net);
    model.freeze("dense_2").unwrap();
    let s = model.summary();
    assert!(s.contains("dense_1 (Dense)") && s.contains("(None, 4)") && s.contains("36"), "{s}");
    assert!(s.contains("batch_normalization_1 (BatchNormalization)"), "{s}");
    // 36 + 8 (gamma, beta) trainable; dense_2 (10) frozen and 8 running statistics not trainable.
    assert!(
        s.contains("Total params: 62") && s.contains("Trainable params: 44") && s.contains("Non-trainable params: 18"),
        "{s}"
    );
    assert!(model.freeze("nope").is_err());
}

#[test]
fn a_model_rejects_inputs_of_the_wrong_shape() {
    let mut model = Model::new(Sequential::new(dev(), &[4]).add(Dense::new(2)).unwrap());
    let x = wgtrain::tensor::Tensor::zeros(dev(), &[3, 5], wgtrain::tensor::DType::F32).unwrap();
    let err = model.predict(&x, 2).unwrap_err().to_string();
    assert!(err.contains("[3, 5]"), "{err}");
    let ok = wgtrain::tensor::Tensor::zeros(dev(), &[5, 4], wgtrain::tensor::DType::F32).unwrap();
    assert_eq!(model.predict(&ok, 2).unwrap().shape(), &[5, 2]);
    assert!(model.predict(&ok, 0).is_err());
}

#[test]
fn functional_graphs_share_weights_merge_and_check_shapes() {
    use wgtrain::autograd::Var;
    use wgtrain::models::Functional;
    use wgtrain::tensor::Tensor;

    let mut g = Functional::new(dev()).seed(5);
    let (a, b) = (g.input("left", &[4]), g.input("right", &[4]));
    let shared = g.layer(Dense::new(3).relu());
    let (ha, hb) = (g.call(shared, a).unwrap(), g.call(shared, b).unwrap());
    let sum = g.add(&[ha, hb]).unwrap();
    let skip = g.concatenate(&[sum, a], -1).unwrap();
    let out = g.apply(Dense::new(1), skip).unwrap();
    g.set_outputs(&[out, ha]).unwrap();
    // Shape errors at build time: a shared layer on another shape, mismatched merges.
    let c = g.input("odd", &[5]);
    assert!(g.call(shared, c).is_err());
    assert!(g.add(&[ha, c]).is_err());
    assert!(g.concatenate(&[ha, c], 1).is_err()); // no axis 1 in a rank-1 sample

    // One set of shared weights: 4*3+3, plus the head (3+4)*1+1.
    let rows = g.summary_rows();
    assert_eq!(rows.iter().map(|r| r.trainable).sum::<usize>(), 15 + 8);
    assert_eq!(g.params().len(), 4);

    let x = Var::constant(Tensor::rand_uniform(dev(), &[2, 4], -1.0, 1.0, 1).unwrap());
    let z = Var::constant(Tensor::zeros(dev(), &[2, 5], wgtrain::tensor::DType::F32).unwrap());
    let outs = g.forward_all(&[x.clone(), x.clone(), z], &mut Ctx::new(false, 0)).unwrap();
    assert_eq!(outs[0].shape(), &[2, 1]);
    // Both branches see the same input here, so the shared layer gives the same values.
    let w = g.params();
    let (k, bias) = (w[0].var.to_vec().unwrap(), w[1].var.to_vec().unwrap());
    let xs = x.to_vec().unwrap();
    let h: Vec<f32> = (0..6)
        .map(|i| ((0..4).map(|t| xs[(i / 3) * 4 + t] * k[t * 3 + i % 3]).sum::<f32>() + bias[i % 3]).max(0.0))
        .collect();
    let got = outs[1].to_vec().unwrap();
    assert!(got.iter().zip(&h).all(|(g, w)| (g - w).abs() < 1e-5), "{got:?} vs {h:?}");
    let (k2, b2) = (w[2].var.to_vec().unwrap(), w[3].var.to_vec().unwrap());
    for r in 0..2 {
        let feats: Vec<f32> = (0..3).map(|j| 2.0 * h[r * 3 + j]).chain((0..4).map(|t| xs[r * 4 + t])).collect();
        let want = feats.iter().zip(&k2).map(|(f, w)| f * w).sum::<f32>() + b2[0];
        let got = outs[0].to_vec().unwrap()[r];
        assert!((got - want).abs() < 1e-4, "row {r}: {got} vs {want}");
    }
}

#[test]
fn the_merges_compute_keras_meanings_pass_gradients_and_check_their_inputs() {
    use wgtrain::autograd::Var;
    use wgtrain::models::{Functional, Merge};
    use wgtrain::tensor::Tensor;

    let mut g = Functional::new(dev());
    let (a, b, c) = (g.input("a", &[3]), g.input("b", &[3]), g.input("c", &[3]));
    let outs = [
        g.add(&[a, b, c]).unwrap(),
        g.subtract(a, b).unwrap(),
        g.multiply(&[a, b, c]).unwrap(),
        g.average(&[a, b, c]).unwrap(),
        g.maximum(&[a, b, c]).unwrap(),
        g.minimum(&[a, b, c]).unwrap(),
    ];
    g.set_outputs(&outs).unwrap();
    let names: Vec<String> = g.summary_rows().iter().skip(3).map(|r| r.kind.clone()).collect();
    assert_eq!(names, ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]);
    let (va, vb, vc) =
        ([1.0f32, -2.0, 0.5, 3.0, 0.0, -1.0], [2.0f32, 1.0, -4.0, 0.5, 0.0, 2.0], [0.5f32, 0.5, 1.0, -1.0, 3.0, 1.0]);
    let var = |v: &[f32]| Var::parameter(Tensor::from_slice(dev(), v, &[2, 3]).unwrap());
    let (xa, xb, xc) = (var(&va), var(&vb), var(&vc));
    let got = g.forward_all(&[xa.clone(), xb.clone(), xc.clone()], &mut Ctx::new(false, 0)).unwrap();
    type F = fn(f32, f32, f32) -> f32;
    let want: [F; 6] = [
        |a, b, c| a + b + c,
        |a, b, _| a - b,
        |a, b, c| a * b * c,
        |a, b, c| (a + b + c) / 3.0,
        |a, b, c| a.max(b).max(c),
        |a, b, c| a.min(b).min(c),
    ];
    for (k, (out, f)) in got.iter().zip(want).enumerate() {
        let v = out.to_vec().unwrap();
        for i in 0..6 {
            assert!((v[i] - f(va[i], vb[i], vc[i])).abs() < 1e-6, "merge {k} element {i}: {}", v[i]);
        }
    }
    // Gradients: the sum of every merge's output, d/da on element 0 (a=1, b=2, c=0.5):
    // add 1, subtract 1, multiply b c = 1, average 1/3, maximum 0 (b wins), minimum 0 (c wins).
    let total = got.iter().map(|o| o.sum_all().unwrap()).reduce(|x, y| x.add(&y).unwrap()).unwrap();
    total.backward().unwrap();
    let ga = xa.grad().unwrap().to_vec::<f32>().unwrap();
    assert!((ga[0] - (1.0 + 1.0 + 1.0 + 1.0 / 3.0)).abs() < 1e-5, "{ga:?}");
    // Subtract takes exactly two; every merge needs one shape.
    let d = g.input("d", &[4]);
    let e = g.merge(Merge::Subtract, &[a, b, c]).unwrap_err().to_string();
    assert!(e.contains("subtract") && e.contains("exactly two"), "{e}");
    let e = g.multiply(&[a, d]).unwrap_err().to_string();
    assert!(e.contains("multiply") && e.contains("[4]"), "{e}");
}

#[test]
fn a_model_inside_a_model_shares_its_weights_freezes_and_checkpoints_by_its_name() {
    use wgtrain::autograd::Var;
    use wgtrain::models::Nested;
    use wgtrain::tensor::Tensor;

    let build = |seed: u64| {
        let base =
            Sequential::new(dev(), &[4]).seed(seed).add(Dense::new(8).relu()).unwrap().add(Dense::new(6)).unwrap();
        Sequential::new(dev(), &[4]).seed(seed + 1).add(Nested::new(base)).unwrap().add(Dense::new(2)).unwrap()
    };
    let net = build(7);
    let names: Vec<String> = net.params().iter().map(|p| p.name.clone()).collect();
    assert_eq!(
        names,
        [
            "sequential_1/dense_1/kernel",
            "sequential_1/dense_1/bias",
            "sequential_1/dense_2/kernel",
            "sequential_1/dense_2/bias",
            "dense_1/kernel",
            "dense_1/bias"
        ]
    );
    // The forward pass is the inner network's, then the head's.
    let p: Vec<Vec<f32>> = net.params().iter().map(|p| p.var.to_vec().unwrap()).collect();
    let xs: Vec<f32> = (0..8).map(|i| (i as f32 * 0.37).sin()).collect();
    let y =
        net.forward(&Var::constant(Tensor::from_slice(dev(), &xs, &[2, 4]).unwrap()), &mut Ctx::new(false, 0)).unwrap();
    let dense = |x: &[f32], w: &[f32], b: &[f32], relu: bool| -> Vec<f32> {
        let (inn, out) = (x.len(), b.len());
        (0..out)
            .map(|o| (0..inn).map(|j| x[j] * w[j * out + o]).sum::<f32>() + b[o])
            .map(|v| if relu { v.max(0.0) } else { v })
            .collect()
    };
    for r in 0..2 {
        let h = dense(&xs[r * 4..r * 4 + 4], &p[0], &p[1], true);
        let want = dense(&dense(&h, &p[2], &p[3], false), &p[4], &p[5], false);
        let got = &y.to_vec().unwrap()[r * 2..r * 2 + 2];
        assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-5), "{got:?} vs {want:?}");
    }
    // Freezing the nested layer freezes every inner weight; the head trains.
    let mut model = Model::new(net);
    model.compile(wgtrain::optim::Adam::new(0.05), wgtrain::losses::MeanSquaredError, vec![]).unwrap();
    model.freeze("sequential_1").unwrap();
    let summary = model.summary();
    assert!(summary.contains("sequential_1 (Sequential)") && summary.contains("Non-trainable params: 94"), "{summary}");
    let x = Tensor::rand_uniform(dev(), &[16, 4], -1.0, 1.0, 8).unwrap();
    let t = Tensor::rand_uniform(dev(), &[16, 2], -1.0, 1.0, 9).unwrap();
    let before: Vec<Vec<f32>> = model.params().iter().map(|p| p.var.to_vec().unwrap()).collect();
    for _ in 0..3 {
        model.train_step(&x, &t).unwrap();
    }
    let after: Vec<Vec<f32>> = model.params().iter().map(|p| p.var.to_vec().unwrap()).collect();
    assert_eq!(before[..4], after[..4], "the frozen inner model");
    assert_ne!(before[4], after[4], "the head");
    // A checkpoint keeps the nesting in its names and loads into the same structure.
    let dir = crate::harness::scratch("nested-weights");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("w.safetensors");
    model.save_weights(&file).unwrap();
    let mut other = Model::new(build(70));
    let report = other.load_weights(&file, true).unwrap();
    assert_eq!(report.loaded.len(), 6);
    assert_eq!(
        other.predict(&x, 16).unwrap().to_vec::<f32>().unwrap(),
        model.predict(&x, 16).unwrap().to_vec::<f32>().unwrap()
    );
    let _ = std::fs::remove_dir_all(dir);
    // The outer model must feed the inner one the shape it was built for.
    let base = Sequential::new(dev(), &[4]).add(Dense::new(3)).unwrap();
    let e = Sequential::new(dev(), &[5]).add(Nested::new(base)).err().unwrap().to_string();
    assert!(e.contains("[4]") && e.contains("[5]"), "{e}");
}

#[test]
fn a_functional_graph_refuses_two_layers_of_one_name_and_numbers_around_taken_names() {
    use wgtrain::models::Functional;
    use wgtrain::prelude::Named;

    let mut g = Functional::new(dev());
    let x = g.input("x", &[4]);
    let a = g.apply(Dense::new(3).named("dense_1"), x).unwrap();
    // An unnamed Dense skips the name taken by hand.
    let b = g.apply(Dense::new(3), a).unwrap();
    let names: Vec<String> = g.summary_rows().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["x", "dense_1", "dense_2"]);
    let err = g.apply(Dense::new(3).named("dense_2"), b).expect_err("a second dense_2").to_string();
    assert!(err.contains("dense_2") && err.contains("two layers"), "{err}");
}
