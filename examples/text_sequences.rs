//! Two small text models on generated data, with the sequence layers: a sentiment classifier
//! over padded sentences of different lengths (Embedding with `mask_zero` -> Bidirectional
//! LSTM -> Dense), and a causal attention model that learns to copy each token one step later
//! (token and position embeddings -> LayerNorm -> causal MultiHeadAttention with a residual ->
//! LayerNorm -> Dense per step). Each states what it must reach on held-out data.
//!
//! `cargo run --release -p wgtrain --example text_sequences` (a minute or two on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

/// Sentences pad to this many words; id 0 is padding.
const LONGEST: usize = 12;
/// Ids 1..=8 are positive words, 9..=16 negative ones, 17 is "not" (it flips the word after
/// it, so word order matters), 18..VOCAB are neutral.
const VOCAB: usize = 30;
const NOT: u32 = 17;

/// `n` padded sentences `[n, LONGEST]` of 4 to 12 words, and whether each says more good than
/// bad (a positive word counts +1, a negative one -1, either negated by a "not" before it the
/// other way; ties are drawn again).
fn sentences(dev: &Device, n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut ids, mut labels) = (Vec::with_capacity(n * LONGEST), Vec::with_capacity(n));
    while labels.len() < n {
        let len = rng.random_range(4..=LONGEST);
        let words: Vec<u32> = (0..len)
            .map(|_| match rng.random_range(0..6) {
                0 | 1 => rng.random_range(1..=8),
                2 | 3 => rng.random_range(9..=16),
                4 => NOT,
                _ => rng.random_range(NOT + 1..VOCAB as u32),
            })
            .collect();
        let polarity = |w: u32| i32::from(w <= 8) - i32::from((9..=16).contains(&w));
        let score: i32 =
            (0..len).map(|i| if i > 0 && words[i - 1] == NOT { -polarity(words[i]) } else { polarity(words[i]) }).sum();
        if score == 0 {
            continue;
        }
        ids.extend(words.iter().copied().chain(std::iter::repeat_n(0, LONGEST - len)));
        labels.push(u32::from(score > 0));
    }
    Ok((Tensor::from_slice(dev, &ids, &[n, LONGEST])?, Tensor::from_slice(dev, &labels, &[n])?))
}

fn sentiment(dev: &Device) -> Result<f32> {
    let (x, y) = sentences(dev, 3000, 1)?;
    let (vx, vy) = sentences(dev, 500, 2)?;
    let net = Sequential::new(dev, &[LONGEST])
        .seed(3)
        .add(Embedding::new(VOCAB, 16).mask_zero(true))?
        .add(Bidirectional::new(Lstm::new(16)))?
        .add(Dense::new(2))?;
    let mut model = Model::new(net).with_seed(4);
    model.compile(
        Adam::new(0.01),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    )?;
    println!("{}", model.summary());
    let options = FitOptions { epochs: 6, batch_size: 64, verbose: false, ..Default::default() }.validation(&vx, &vy);
    let history = model.fit(&x, &y, options)?;
    for (e, acc) in history.get("val_accuracy").iter().enumerate() {
        println!("sentiment epoch {:>2}: held-out accuracy {acc:.3}", e + 1);
    }
    Ok(history.get("val_accuracy").last().copied().unwrap_or(f32::NAN))
}

/// Steps of a copied sequence; tokens are 1..=9, and 0 means "nothing yet".
const STEPS: usize = 8;

/// `n` sequences of tokens `[n, STEPS]`, their positions `[n, STEPS]`, and the targets: each
/// step's token one step later (0 at the first step).
fn delayed(dev: &Device, n: usize, seed: u64) -> Result<(Vec<Tensor>, Tensor)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let tokens: Vec<u32> = (0..n * STEPS).map(|_| rng.random_range(1..=9)).collect();
    let targets: Vec<u32> =
        tokens.chunks(STEPS).flat_map(|s| std::iter::once(0).chain(s[..STEPS - 1].iter().copied())).collect();
    let positions: Vec<u32> = (0..n * STEPS).map(|i| (i % STEPS) as u32).collect();
    let x = vec![Tensor::from_slice(dev, &tokens, &[n, STEPS])?, Tensor::from_slice(dev, &positions, &[n, STEPS])?];
    Ok((x, Tensor::from_slice(dev, &targets, &[n, STEPS])?))
}

fn copier(dev: &Device) -> Result<f32> {
    let (x, y) = delayed(dev, 1000, 5)?;
    let (vx, vy) = delayed(dev, 400, 6)?;
    let mut g = Functional::new(dev).seed(7);
    let (tokens, positions) = (g.input("tokens", &[STEPS]), g.input("positions", &[STEPS]));
    let (t, p) = (g.apply(Embedding::new(10, 32), tokens)?, g.apply(Embedding::new(STEPS, 32), positions)?);
    let h = g.add(&[t, p])?;
    let normed = g.apply(LayerNorm::new(), h)?;
    let attended = g.apply(MultiHeadAttention::new(2, 16).causal(true), normed)?;
    let h = g.add(&[h, attended])?; // the residual around attention
    let h = g.apply(LayerNorm::new(), h)?;
    let next = g.apply(Dense::new(10), h)?; // logits of every step's token [STEPS, 10]
    g.set_outputs(&[next])?;
    let mut model = Model::new(g).with_seed(8);
    model.compile(
        Adam::new(0.005),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    )?;
    println!("{}", model.summary());
    let options = FitOptions {
        epochs: 5,
        batch_size: 64,
        verbose: false,
        validation_data: Some((vx, vec![vy])),
        ..Default::default()
    };
    let history = model.fit_inputs(&x, &y, options)?;
    for (e, acc) in history.get("val_accuracy").iter().enumerate() {
        println!("copy epoch {:>2}: held-out accuracy per token {acc:.3}", e + 1);
    }
    Ok(history.get("val_accuracy").last().copied().unwrap_or(f32::NAN))
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let sentiment = sentiment(&dev)?;
    let copy = copier(&dev)?;
    reached("sentiment held-out accuracy >= 0.9", sentiment >= 0.9, sentiment)?;
    reached("copy held-out accuracy per token >= 0.95", copy >= 0.95, copy)
}
