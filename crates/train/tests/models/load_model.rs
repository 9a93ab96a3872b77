//! `load_model` without the code that built the model (issue 24, item 5): every built-in
//! layer, the optimizer and the compile settings round-trip through a checkpoint folder; a
//! layer of your own is rebuilt once registered; newer formats are refused.

use std::collections::BTreeSet;

use wgtrain::constraints::Constraint;
use wgtrain::layers::{LayerConfig, MergeMode, Padding};
use wgtrain::models::{load_model, load_model_uncompiled};
use wgtrain::optim::GradClip;
use wgtrain::prelude::*;

use crate::harness::{data, dev, scratch, tensor};

/// The model's parameters and buffers, by name, as host values.
fn state(m: &Model) -> Vec<(String, Vec<f32>)> {
    let mut out: Vec<_> = m.params().iter().map(|p| (p.name.clone(), p.var.to_vec().unwrap())).collect();
    out.extend(m.network().buffers().iter().map(|(n, t)| (n.clone(), t.to_vec::<f32>().unwrap())));
    out
}

/// Asserts two states are equal, naming the first tensor that differs.
#[track_caller]
fn same_state(got: &[(String, Vec<f32>)], want: &[(String, Vec<f32>)], what: &str) {
    let names = |s: &[(String, Vec<f32>)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(got), names(want), "{what}: the tensors");
    for ((name, g), (_, w)) in got.iter().zip(want) {
        assert!(g == w, "{what}: {name} differs");
    }
}

fn outputs(m: &mut Model, xs: &[Tensor]) -> Vec<Vec<f32>> {
    m.predict_outputs(xs, 8).unwrap().iter().map(|t| t.to_vec::<f32>().unwrap()).collect()
}

/// Trains `m` a step, saves it, loads it back without its code, and checks the copy is the
/// same model: architecture, summary, weights and buffers, predictions, the optimizer (the
/// next step moves both alike), the counters, the logs. Returns the layer types it holds.
fn round_trip(mut m: Model, xs: &[Tensor], ys: &[Tensor], name: &str) -> BTreeSet<String> {
    m.train_step_outputs(xs, ys, None).unwrap();
    let dir = scratch(name);
    m.save(&dir).unwrap();
    let mut loaded = load_model(&dir, dev()).unwrap();
    assert_eq!(loaded.network().config(), m.network().config(), "the architecture");
    assert_eq!(loaded.summary(), m.summary());
    same_state(&state(&loaded), &state(&m), "weights and buffers");
    assert_eq!(outputs(&mut loaded, xs), outputs(&mut m, xs), "predictions");
    assert_eq!((loaded.global_step(), loaded.learning_rate()), (m.global_step(), m.learning_rate()));
    let (a, b) = (m.evaluate_outputs(xs, ys, None, 8).unwrap(), loaded.evaluate_outputs(xs, ys, None, 8).unwrap());
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "the losses and metrics, by name");
    // The optimizer's kind, hyper-parameters and state came back: one more step agrees.
    m.train_step_outputs(xs, ys, None).unwrap();
    loaded.train_step_outputs(xs, ys, None).unwrap();
    same_state(&state(&loaded), &state(&m), "the next step");
    m.network().summary_rows().into_iter().map(|r| r.kind).collect()
}

fn images(n: usize) -> Tensor {
    tensor(&data(1, n * 3 * 8 * 8), &[n, 3, 8, 8])
}

fn labels(n: usize, classes: u32) -> Tensor {
    Tensor::from_slice(dev(), &(0..n as u32).map(|i| i % classes).collect::<Vec<_>>(), &[n]).unwrap()
}

fn image_model() -> Sequential {
    Sequential::new(dev(), &[3, 8, 8])
        .seed(2)
        .add(Normalization::new(&[0.1, 0.2, 0.3], &[1.0, 2.0, 0.5]))
        .unwrap()
        .add(
            Conv2d::new(4, [3, 3])
                .padding(Padding::Same)
                .relu()
                .kernel_regularizer(Regularizer::L2(1e-3))
                .kernel_constraint(Constraint::MaxNorm(2.0)),
        )
        .unwrap()
        .add(BatchNorm::new().momentum(0.9).eps(1e-4))
        .unwrap()
        .add(DepthwiseConv2d::new([3, 3]).depth_multiplier(2).padding(Padding::Explicit([1, 1])))
        .unwrap()
        .add(PRelu::per_channel())
        .unwrap()
        .add(MaxPool2d::new([2, 2]))
        .unwrap()
        .add(ConvTranspose2d::new(3, [2, 2]).strides([2, 2]).activation(Activation::Tanh))
        .unwrap()
        .add(AvgPool2d::new([2, 2]).strides([2, 2]))
        .unwrap()
        .add(Conv2d::new(5, [1, 1]).groups(1).use_bias(false).bias_constraint(Constraint::NonNeg))
        .unwrap()
        .add(Dropout::new(0.25))
        .unwrap()
        .add(Flatten::new())
        .unwrap()
        .add(Dense::new(6).activation(Activation::LeakyRelu(0.2)).bias_regularizer(Regularizer::L1(1e-3)))
        .unwrap()
        .add(LayerNorm::new().eps(1e-4))
        .unwrap()
        .add(Reshape::new(&[2, 3]))
        .unwrap()
        .add(ActivationLayer::new(Activation::Elu(0.5)))
        .unwrap()
        .add(Flatten::new())
        .unwrap()
        .add(Dense::new(3))
        .unwrap()
}

fn sequence_model() -> Sequential {
    // Token ids [6] (0 is padding) -> embeddings [6, 8] -> recurrent and attention layers.
    Sequential::new(dev(), &[6])
        .seed(3)
        .add(Embedding::new(10, 8).mask_zero(true).embeddings_regularizer(Regularizer::L1L2 { l1: 1e-4, l2: 1e-3 }))
        .unwrap()
        .add(Masking::new(0.0))
        .unwrap()
        .add(Conv1d::new(8, 3).padding(Padding::Same).dilation(1).strides(1))
        .unwrap()
        .add(MultiHeadAttention::new(2, 4).value_dim(3).causal(true))
        .unwrap()
        .add(Bidirectional::new(Lstm::new(4).return_sequences(true)).merge_mode(MergeMode::Sum))
        .unwrap()
        .add(Gru::new(5).return_sequences(true).recurrent_regularizer(Regularizer::L2(1e-3)))
        .unwrap()
        .add(SimpleRnn::new(4).return_sequences(true).recurrent_constraint(Constraint::UnitNorm))
        .unwrap()
        .add(Lstm::new(4).return_sequences(true))
        .unwrap()
        .add(GlobalMaxPool1d::new())
        .unwrap()
        .add(Dense::new(2))
        .unwrap()
}

/// Two inputs, every merge, a concatenation, a model inside the model, two global pools and
/// two outputs compiled with named losses, loss weights and metrics.
fn graph_model() -> Model {
    let inner = Sequential::new(dev(), &[4]).seed(4).add(Dense::new(4).relu()).unwrap();
    let mut inner_graph = Functional::new(dev()).seed(6);
    let i = inner_graph.input("i", &[4]);
    let o = inner_graph.apply(Dense::new(4), i).unwrap();
    inner_graph.set_outputs(&[o]).unwrap();
    let mut g = Functional::new(dev()).seed(5);
    let (image, side) = (g.input("image", &[3, 8, 8]), g.input("side", &[4]));
    let avg = g.apply(GlobalAvgPool2d::new(), image).unwrap();
    let max = g.apply(GlobalMaxPool2d::new(), image).unwrap();
    let feats = g.concatenate(&[avg, max], -1).unwrap(); // [6]
    let proj = g.apply(Dense::new(4), feats).unwrap();
    let nested = g.apply(Nested::new(inner).named("inner"), side).unwrap();
    let nested_graph = g.apply(Nested::new(inner_graph), side).unwrap();
    let merges = [
        g.add(&[proj, nested, nested_graph]).unwrap(),
        g.subtract(proj, nested).unwrap(),
        g.multiply(&[proj, nested]).unwrap(),
        g.average(&[proj, nested]).unwrap(),
        g.maximum(&[proj, nested]).unwrap(),
        g.minimum(&[proj, nested]).unwrap(),
    ];
    let joined = g.concatenate(&merges, 0).unwrap(); // [24]
    let class = g.apply(Dense::new(3).named("class"), joined).unwrap();
    let score = g.apply(Dense::new(1).activation(Activation::Sigmoid).named("score"), joined).unwrap();
    g.set_outputs(&[class, score]).unwrap();
    let mut m = Model::new(g).with_seed(9);
    m.compile_outputs(
        Rmsprop::new(1e-2).momentum(0.5).centered(true).clip(GradClip::Norm(1.0)),
        vec![
            OutputLoss::named("score", BinaryCrossEntropy::new().pos_weight(2.0))
                .weight(0.3)
                .metric(BinaryAccuracy::new(0.5)),
            OutputLoss::named("class", SparseCategoricalCrossEntropy::from_logits().label_smoothing(0.1))
                .metric(SparseCategoricalAccuracy::new())
                .metric(TopKCategoricalAccuracy::new(2)),
        ],
    )
    .unwrap();
    m
}

#[test]
fn every_built_in_layer_the_optimizer_and_the_compile_settings_round_trip() {
    let n = 8;
    let mut kinds = BTreeSet::new();

    let mut m = Model::new(image_model()).with_seed(7);
    let sgd = Sgd::new(0.05).momentum(0.9).nesterov(true).weight_decay(1e-4).clip(GradClip::GlobalNorm(5.0));
    m.compile(sgd, SparseCategoricalCrossEntropy::from_logits(), vec![Box::new(SparseCategoricalAccuracy::new())])
        .unwrap();
    kinds.extend(round_trip(m, &[images(n)], &[labels(n, 3)], "load_model_images"));

    let mut m = Model::new(sequence_model()).with_seed(8);
    let adam = AdamW::new(1e-2, 0.01).betas(0.8, 0.99).eps(1e-6);
    m.compile(
        adam,
        CategoricalCrossEntropy::from_logits().class_weights(vec![1.0, 3.0]),
        vec![Box::new(CategoricalAccuracy::new())],
    )
    .unwrap();
    let tokens =
        Tensor::from_slice(dev(), &(0..n as u32 * 6).map(|i| (i * 7) % 10).collect::<Vec<_>>(), &[n, 6]).unwrap();
    let one_hot = tensor(&(0..n * 2).map(|i| ((i / 2 + i) % 2) as f32).collect::<Vec<_>>(), &[n, 2]);
    kinds.extend(round_trip(m, &[tokens], &[one_hot], "load_model_sequences"));

    let side = tensor(&data(2, n * 4), &[n, 4]);
    let score = tensor(&(0..n).map(|i| (i % 2) as f32).collect::<Vec<_>>(), &[n, 1]);
    kinds.extend(round_trip(graph_model(), &[images(n), side], &[labels(n, 3), score], "load_model_graph"));

    // Every layer type load_model knows was in one of the models above.
    let known: BTreeSet<String> = wgtrain::registry::built_in_layers().iter().map(|k| k.to_string()).collect();
    let missing: Vec<_> = known.difference(&kinds).collect();
    assert!(missing.is_empty(), "built-in layers without a round trip: {missing:?}");
}

/// A layer of the user's: multiplies by a fixed factor.
struct Scale {
    name: String,
    factor: f32,
}

impl Layer for Scale {
    fn kind(&self) -> &'static str {
        "Scale"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], _: &mut wgtrain::layers::BuildCtx<'_>) -> wgtrain::Result<Vec<usize>> {
        Ok(input.to_vec())
    }
    fn forward(&self, x: &Var, _: &mut wgtrain::layers::Ctx) -> wgtrain::Result<Var> {
        Ok(x.mul_scalar(self.factor)?)
    }
    fn config(&self) -> serde_json::Value {
        serde_json::json!({ "factor": self.factor })
    }
}

#[test]
fn a_layer_of_your_own_is_rebuilt_once_registered_and_an_unknown_one_is_named() {
    let net = Sequential::new(dev(), &[4]).add(Dense::new(3)).unwrap();
    let net = net.add(Scale { name: String::new(), factor: 2.5 }).unwrap();
    let mut m = Model::new(net);
    m.compile(Adam::new(1e-3), MeanSquaredError, vec![]).unwrap();
    let dir = scratch("load_model_user_layer");
    m.save(&dir).unwrap();
    let err = load_model(&dir, dev()).err().expect("Scale is not registered yet").to_string();
    assert!(err.contains("\"Scale\"") && err.contains("register_layer"), "{err}");

    let taken = wgtrain::registry::register_layer("Dense", |_: &LayerConfig<'_>| unreachable!());
    assert!(taken.expect_err("a built-in's name").to_string().contains("built-in"));
    wgtrain::registry::register_layer("Scale", |c: &LayerConfig<'_>| {
        Ok(Box::new(Scale { name: String::new(), factor: c.get("factor")? }))
    })
    .unwrap();
    let mut loaded = load_model(&dir, dev()).unwrap();
    let x = tensor(&data(3, 20), &[5, 4]);
    assert_eq!(
        loaded.predict(&x, 8).unwrap().to_vec::<f32>().unwrap(),
        m.predict(&x, 8).unwrap().to_vec::<f32>().unwrap()
    );
    assert_eq!(loaded.summary(), m.summary());
}

/// A loss of the user's, without a `config`: it can't be saved.
struct Halved;

impl Loss for Halved {
    fn name(&self) -> &str {
        "halved"
    }
    fn forward(&self, pred: &Var, target: &Tensor, w: Option<&Tensor>) -> wgtrain::Result<Var> {
        Ok(MeanSquaredError.forward(pred, target, w)?.mul_scalar(0.5)?)
    }
}

#[test]
fn a_loss_that_was_not_saved_and_a_newer_format_are_refused_with_what_to_do() {
    let net = Sequential::new(dev(), &[4]).add(Dense::new(2)).unwrap();
    let mut m = Model::new(net);
    m.compile(Sgd::new(0.1), Halved, vec![]).unwrap();
    let dir = scratch("load_model_own_loss");
    m.save(&dir).unwrap();
    let err = load_model(&dir, dev()).err().expect("the loss was not saved").to_string();
    assert!(err.contains("register_loss") && err.contains("load_model_uncompiled"), "{err}");
    // Uncompiled, it loads: the weights and the network.
    let mut loaded = load_model_uncompiled(&dir, dev()).unwrap();
    let x = tensor(&data(4, 12), &[3, 4]);
    assert_eq!(
        loaded.predict(&x, 4).unwrap().to_vec::<f32>().unwrap(),
        m.predict(&x, 4).unwrap().to_vec::<f32>().unwrap()
    );
    assert!(loaded.learning_rate().is_none(), "not compiled");

    let manifest = dir.join("training.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("wgtrain-checkpoint-2", "wgtrain-checkpoint-3")).unwrap();
    for err in [load_model(&dir, dev()).err(), load_model_uncompiled(&dir, dev()).err()] {
        let err = err.expect("a newer format").to_string();
        assert!(err.contains("newer wgtrain") && err.contains("upgrade"), "{err}");
    }
}

#[test]
fn the_mixed_precision_policy_comes_back() {
    if !dev().has_f16() {
        return;
    }
    let net = Sequential::new(dev(), &[4]).add(Dense::new(8).relu()).unwrap().add(Dense::new(2)).unwrap();
    let mut m = Model::new(net);
    m.set_policy(Policy::mixed_float16()).unwrap();
    m.compile(Adam::new(1e-3), MeanSquaredError, vec![]).unwrap();
    let (x, y) = (tensor(&data(5, 32), &[8, 4]), tensor(&data(6, 16), &[8, 2]));
    m.train_step(&x, &y).unwrap();
    let dir = scratch("load_model_mixed");
    m.save(&dir).unwrap();
    let mut loaded = load_model(&dir, dev()).unwrap();
    assert_eq!(loaded.policy(), Policy::mixed_float16());
    assert!(loaded.optimizer().unwrap().loss_scale().is_some(), "a loss scale, as compile gives one");
    assert_eq!(
        loaded.predict(&x, 8).unwrap().to_vec::<f32>().unwrap(),
        m.predict(&x, 8).unwrap().to_vec::<f32>().unwrap()
    );
}

#[test]
fn frozen_layers_stay_frozen_and_old_explicit_paddings_still_load() {
    let net = Sequential::new(dev(), &[2, 6, 6])
        .add(Conv2d::new(3, [3, 3]).padding(Padding::Explicit([1, 1])).named("base"))
        .unwrap()
        .add(Flatten::new())
        .unwrap()
        .add(Dense::new(2).named("head"))
        .unwrap();
    let mut m = Model::new(net);
    m.compile(Adam::new(1e-3), MeanSquaredError, vec![]).unwrap();
    m.freeze("base").unwrap();
    let dir = scratch("load_model_frozen");
    m.save(&dir).unwrap();
    let trainable = |m: &Model| m.params().iter().map(|p| (p.name.clone(), p.var.requires_grad())).collect::<Vec<_>>();
    let loaded = load_model(&dir, dev()).unwrap();
    assert_eq!(trainable(&loaded), trainable(&m));
    assert!(!trainable(&loaded)[0].1, "the base stays frozen");

    // A checkpoint from before paddings were written by serde: `Explicit([1, 1])`.
    let manifest = dir.join("training.json");
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let padding = &mut meta["architecture"]["layers"][0]["config"]["padding"];
    assert_eq!(*padding, serde_json::json!({ "Explicit": [1, 1] }));
    *padding = serde_json::json!("Explicit([1, 1])");
    std::fs::write(&manifest, serde_json::to_string(&meta).unwrap()).unwrap();
    let old = load_model_uncompiled(&dir, dev()).unwrap();
    assert_eq!(old.network().config(), m.network().config());
}
