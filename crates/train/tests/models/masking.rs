//! Masking of padded sequences (issue 24, item 6): `Embedding::mask_zero` and `Masking` mark
//! padded steps, recurrent layers (and Bidirectional) skip them, attention gives them no
//! weight, and the loss leaves them out. Each is checked against the same model run on the
//! sequences without their padding: padding must change nothing, forward or backward.

use wgtrain::layers::Recurrent;
use wgtrain::prelude::*;

use crate::harness::{assert_close, dev, tensor};

fn ids(rows: &[&[u32]]) -> Tensor {
    let t = rows[0].len();
    Tensor::from_slice(dev(), &rows.concat(), &[rows.len(), t]).unwrap()
}

/// `[n, t, ...]` predictions of `m`, rows `0..keep` of each sequence's steps.
fn first_steps(m: &mut Model, x: &Tensor, keep: usize) -> Vec<f32> {
    let y = m.predict(x, 8).unwrap();
    y.slice(1, 0, keep, 1).unwrap().contiguous().unwrap().to_vec().unwrap()
}

/// Embedding (masked or not) -> `layer` -> Dense(2), for sequences of `t` ids. The weights do
/// not depend on `t`, so one seed gives every length the same model.
fn model(t: usize, mask_zero: bool, layer: impl Layer + 'static) -> Model {
    let net = Sequential::new(dev(), &[t])
        .seed(11)
        .add(Embedding::new(10, 4).mask_zero(mask_zero))
        .unwrap()
        .add(layer)
        .unwrap()
        .add(Dense::new(2))
        .unwrap();
    Model::new(net)
}

#[test]
fn recurrent_layers_and_bidirectional_ones_skip_padded_steps() {
    let padded = ids(&[&[3, 5, 7, 0, 0], &[1, 2, 9, 0, 0]]);
    let short = ids(&[&[3, 5, 7], &[1, 2, 9]]);
    let cells: [fn() -> Recurrent; 3] = [|| SimpleRnn::new(6), || Lstm::new(6), || Gru::new(6)];
    for cell in cells {
        for bidirectional in [false, true] {
            let wrap = |layer: Recurrent| -> Box<dyn Layer> {
                if bidirectional { Box::new(Bidirectional::new(layer)) } else { Box::new(layer) }
            };
            let kind = format!("{} (bidirectional: {bidirectional})", cell().kind());
            let (mut a, mut b) = (model(5, true, Boxed(wrap(cell()))), model(3, true, Boxed(wrap(cell()))));
            let want = b.predict(&short, 8).unwrap().to_vec::<f32>().unwrap();
            assert_close(&a.predict(&padded, 8).unwrap().to_vec::<f32>().unwrap(), &want, 1e-5);
            // Without the mask the padding is read as words: the test can tell.
            let mut unmasked = model(5, false, Boxed(wrap(cell())));
            let got = unmasked.predict(&padded, 8).unwrap().to_vec::<f32>().unwrap();
            assert!(got.iter().zip(&want).any(|(g, w)| (g - w).abs() > 1e-4), "{kind}: padding mattered unmasked");
        }
    }
    // Sequences of other lengths in one batch: each as its own unpadded run.
    let mut a = model(4, true, Gru::new(6).return_sequences(true));
    let mixed = ids(&[&[4, 0, 0, 0], &[6, 8, 0, 0]]);
    let y = a.predict(&mixed, 8).unwrap().to_vec::<f32>().unwrap(); // [2, 4, 2]
    let mut one = model(1, true, Gru::new(6).return_sequences(true));
    let mut two = model(2, true, Gru::new(6).return_sequences(true));
    assert_close(&y[0..2], &one.predict(&ids(&[&[4]]), 1).unwrap().to_vec::<f32>().unwrap(), 1e-5);
    assert_close(&y[8..12], &two.predict(&ids(&[&[6, 8]]), 1).unwrap().to_vec::<f32>().unwrap(), 1e-5);
    // A padded step repeats the last real output (Keras' carried state).
    assert_close(&y[2..8], &[y[0], y[1], y[0], y[1], y[0], y[1]], 0.0);
}

/// A boxed layer as a layer (the test picks plain or bidirectional at run time).
struct Boxed(Box<dyn Layer>);

impl Layer for Boxed {
    fn kind(&self) -> &'static str {
        self.0.kind()
    }
    fn name(&self) -> &str {
        self.0.name()
    }
    fn set_name(&mut self, name: String) {
        self.0.set_name(name);
    }
    fn build(&mut self, input: &[usize], ctx: &mut wgtrain::layers::BuildCtx<'_>) -> wgtrain::Result<Vec<usize>> {
        self.0.build(input, ctx)
    }
    fn forward(&self, x: &Var, ctx: &mut wgtrain::layers::Ctx) -> wgtrain::Result<Var> {
        self.0.forward(x, ctx)
    }
    fn params(&self) -> Vec<Param> {
        self.0.params()
    }
    fn compute_mask(&self, x: &Var, mask: Option<&Tensor>) -> wgtrain::Result<Option<Tensor>> {
        self.0.compute_mask(x, mask)
    }
    fn config(&self) -> serde_json::Value {
        self.0.config()
    }
}

#[test]
fn masking_zeroes_the_steps_equal_to_its_value_and_the_lstm_skips_them() {
    let real = [0.5, -1.0, 2.0, 0.25, 0.0, 1.5];
    let mut padded = real.to_vec();
    padded.extend([-1.0; 6]); // two steps of the mask value
    let x = tensor(&padded, &[1, 4, 3]);
    let build = |t| {
        let net = Sequential::new(dev(), &[t, 3]).seed(5).add(Masking::new(-1.0)).unwrap();
        let net = net.add(Lstm::new(4)).unwrap().add(Dense::new(2)).unwrap();
        Model::new(net)
    };
    let (mut a, mut b) = (build(4), build(2));
    let want = b.predict(&tensor(&real, &[1, 2, 3]), 1).unwrap().to_vec::<f32>().unwrap();
    assert_close(&a.predict(&x, 1).unwrap().to_vec::<f32>().unwrap(), &want, 1e-5);
    // The layer's own output: the padded steps zeroed, a real step with a -1 kept.
    let only = Sequential::new(dev(), &[4, 3]).add(Masking::new(-1.0)).unwrap();
    let mut only = Model::new(only);
    let mut partly = padded.clone();
    partly[6] = 3.0; // step 2 now has one real feature
    let got = only.predict(&tensor(&partly, &[1, 4, 3]), 1).unwrap().to_vec::<f32>().unwrap();
    let mut want = partly.clone();
    want[9..12].fill(0.0);
    assert_eq!(got, want);
}

#[test]
fn attention_gives_padded_keys_no_weight() {
    let build = |t: usize| {
        let net = Sequential::new(dev(), &[t]).seed(6).add(Embedding::new(10, 8).mask_zero(true)).unwrap();
        Model::new(net.add(MultiHeadAttention::new(2, 4)).unwrap())
    };
    let (mut a, mut b) = (build(5), build(3));
    let padded = ids(&[&[3, 5, 7, 0, 0], &[1, 2, 9, 0, 0]]);
    let short = ids(&[&[3, 5, 7], &[1, 2, 9]]);
    let want = b.predict(&short, 8).unwrap().to_vec::<f32>().unwrap();
    assert_close(&first_steps(&mut a, &padded, 3), &want, 1e-5);
}

/// A sequence labeller: Embedding(mask_zero) -> GRU(return_sequences) -> Dense(3) per step.
fn labeller(t: usize) -> Model {
    let net = Sequential::new(dev(), &[t])
        .seed(8)
        .add(Embedding::new(10, 6).mask_zero(true))
        .unwrap()
        .add(Gru::new(5).return_sequences(true))
        .unwrap()
        .add(Dense::new(3))
        .unwrap();
    let mut m = Model::new(net);
    m.compile(Sgd::new(0.5), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    m
}

#[test]
fn the_loss_leaves_padded_steps_out_and_so_do_the_gradients() {
    let padded = ids(&[&[3, 5, 7, 0, 0], &[1, 2, 9, 0, 0], &[4, 4, 8, 0, 0]]);
    let short = ids(&[&[3, 5, 7], &[1, 2, 9], &[4, 4, 8]]);
    let labels = |rows: &[&[u32]]| ids(rows);
    let y_padded = labels(&[&[0, 1, 2, 2, 2], &[2, 1, 0, 1, 1], &[1, 1, 0, 0, 2]]);
    let y_other = labels(&[&[0, 1, 2, 0, 1], &[2, 1, 0, 2, 0], &[1, 1, 0, 1, 1]]);
    let y_short = labels(&[&[0, 1, 2], &[2, 1, 0], &[1, 1, 0]]);
    let (mut a, mut b) = (labeller(5), labeller(3));

    // The loss: the mean cross-entropy over the 9 real steps, whatever the padded labels say.
    let loss = |m: &mut Model, x: &Tensor, y: &Tensor| m.evaluate(x, y, 8).unwrap().get("loss").unwrap();
    let logits = a.predict(&padded, 8).unwrap().to_vec::<f32>().unwrap();
    let flat = y_padded.to_vec::<u32>().unwrap();
    let mut host = 0.0;
    for (step, row) in logits.chunks(3).enumerate().filter(|(s, _)| s % 5 < 3) {
        let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        host += max + row.iter().map(|v| (v - max).exp()).sum::<f32>().ln() - row[flat[step] as usize];
    }
    let got = loss(&mut a, &padded, &y_padded);
    assert!((got - host / 9.0).abs() < 1e-5, "{got} vs {}", host / 9.0);
    assert_eq!(got, loss(&mut a, &padded, &y_other));
    assert!((got - loss(&mut b, &short, &y_short)).abs() < 1e-5);

    // The gradients: a step from the padded batch moves every weight as the unpadded one does.
    a.train_step(&padded, &y_padded).unwrap();
    b.train_step(&short, &y_short).unwrap();
    for (pa, pb) in a.params().iter().zip(b.params()) {
        assert_close(&pa.var.to_vec().unwrap(), &pb.var.to_vec().unwrap(), 1e-5);
    }
}

#[test]
fn metrics_score_real_steps_and_self_normalizing_losses_stay_exact_under_a_mask() {
    let padded = ids(&[&[3, 5, 7, 0, 0], &[1, 2, 9, 0, 0], &[4, 4, 8, 0, 0]]);
    let short = ids(&[&[3, 5, 7], &[1, 2, 9], &[4, 4, 8]]);
    // Padded labels: whatever (here the ignored label -100 where the loss ignores one).
    let y_padded =
        Tensor::from_slice(dev(), &[0i32, 1, 2, -100, -100, 2, 1, 0, -100, -100, 1, 1, 0, -100, -100], &[3, 5])
            .unwrap();
    let y_short = Tensor::from_slice(dev(), &[0i32, 1, 2, 2, 1, 0, 1, 1, 0], &[3, 3]).unwrap();
    type Make = fn() -> SparseCategoricalCrossEntropy;
    let losses: [(&str, Make); 3] = [
        ("plain", SparseCategoricalCrossEntropy::from_logits),
        ("ignore_index", || SparseCategoricalCrossEntropy::from_logits().ignore_index(-100)),
        ("class_weights", || {
            SparseCategoricalCrossEntropy::from_logits()
                .class_weights(Tensor::from_slice(dev(), &[1.0f32, 3.0, 0.5], &[3]).unwrap())
        }),
    ];
    for (what, loss) in losses {
        let compiled = |t: usize| {
            let mut m = labeller(t);
            m.compile(Sgd::new(0.5), loss(), vec![Box::new(SparseCategoricalAccuracy::new())]).unwrap();
            m
        };
        let (mut a, mut b) = (compiled(5), compiled(3));
        let (la, lb) = (a.evaluate(&padded, &y_padded, 8).unwrap(), b.evaluate(&short, &y_short, 8).unwrap());
        let (l_a, l_b) = (la.get("loss").unwrap(), lb.get("loss").unwrap());
        assert!((l_a - l_b).abs() < 1e-5, "{what}: loss {l_a} padded vs {l_b}");
        assert_eq!(la.get("accuracy"), lb.get("accuracy"), "{what}: accuracy of the real steps");
    }
}

#[test]
fn a_model_inside_a_model_passes_its_mask_on() {
    let build = |t: usize| {
        let inner = Sequential::new(dev(), &[t]).seed(2).add(Embedding::new(10, 4).mask_zero(true)).unwrap();
        let net = Sequential::new(dev(), &[t]).seed(3).add(Nested::new(inner)).unwrap();
        Model::new(net.add(Lstm::new(5)).unwrap().add(Dense::new(2)).unwrap())
    };
    let (mut a, mut b) = (build(5), build(3));
    let want = b.predict(&ids(&[&[3, 5, 7], &[1, 2, 9]]), 8).unwrap().to_vec::<f32>().unwrap();
    let got = a.predict(&ids(&[&[3, 5, 7, 0, 0], &[1, 2, 9, 0, 0]]), 8).unwrap().to_vec::<f32>().unwrap();
    assert_close(&got, &want, 1e-5);
}

#[test]
fn cross_attention_ignores_the_values_padded_steps() {
    // The same layers (same seeds by position) for values of 5 steps, 2 padded, and of 3.
    let build = |tv: usize| {
        let mut g = Functional::new(dev()).seed(12);
        let (q, v) = (g.input("q", &[3]), g.input("v", &[tv]));
        let eq = g.apply(Embedding::new(10, 8), q).unwrap();
        let ev = g.apply(Embedding::new(10, 8).mask_zero(true), v).unwrap();
        let out = g.apply_pair(MultiHeadAttention::new(2, 4), eq, ev).unwrap();
        g.set_outputs(&[out]).unwrap();
        Model::new(g)
    };
    let queries = ids(&[&[1, 2, 3], &[4, 5, 6]]);
    let (mut a, mut b) = (build(5), build(3));
    let padded = [queries.clone(), ids(&[&[7, 8, 9, 0, 0], &[2, 2, 1, 0, 0]])];
    let short = [queries, ids(&[&[7, 8, 9], &[2, 2, 1]])];
    let want = b.predict_inputs(&short, 8).unwrap().to_vec::<f32>().unwrap();
    assert_close(&a.predict_inputs(&padded, 8).unwrap().to_vec::<f32>().unwrap(), &want, 1e-5);
}

#[test]
fn categorical_and_binary_accuracy_score_real_steps_only() {
    // Two sequences of 3 steps; step 2 of the first and steps 1..3 of the second are padding.
    let mask = tensor(&[1.0, 1.0, 0.0, 1.0, 0.0, 0.0], &[2, 3]);
    // Categorical: 2 classes per step; hits at (0,0), (1,0); a miss at (0,1); padding misses.
    let pred = tensor(&[0.9, 0.1, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4, 0.9, 0.1, 0.9, 0.1], &[2, 3, 2]);
    let onehot = tensor(&[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0], &[2, 3, 2]);
    let mut cat = CategoricalAccuracy::new();
    cat.update_masked(&pred, &onehot, &mask).unwrap();
    assert!((cat.result().unwrap() - 2.0 / 3.0).abs() < 1e-6, "{}", cat.result().unwrap());
    // Binary: one output per step; real steps (0,0) hit, (0,1) miss, (1,0) hit.
    let prob = tensor(&[0.9, 0.2, 0.9, 0.7, 0.9, 0.9], &[2, 3, 1]);
    let truth = tensor(&[1.0, 1.0, 0.0, 1.0, 0.0, 0.0], &[2, 3, 1]);
    let mut bin = BinaryAccuracy::new(0.5);
    bin.update_masked(&prob, &truth, &mask).unwrap();
    assert!((bin.result().unwrap() - 2.0 / 3.0).abs() < 1e-6, "{}", bin.result().unwrap());
    // Unmasked, the padded steps count (all three miss): 2 of 6.
    bin.reset();
    bin.update(&prob, &truth).unwrap();
    assert!((bin.result().unwrap() - 1.0 / 3.0).abs() < 1e-6, "{}", bin.result().unwrap());
}
