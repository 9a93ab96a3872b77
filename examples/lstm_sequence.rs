//! An LSTM on a sequence task: read ten numbers one step at a time and say whether the first
//! five sum to more than the last five. The answer needs memory (the first half must be carried
//! to the end) and arithmetic, which a recurrent network learns; prints held-out accuracy.
//!
//! `cargo run --release -p wgtrain --example lstm_sequence` (a few minutes on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

const STEPS: usize = 10;

/// `n` sequences `[n, STEPS, 1]` of values in [-1, 1]; label 1 when the first half's sum is larger.
fn halves(dev: &Device, n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let x: Vec<f32> = (0..n * STEPS).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y: Vec<u32> = x
        .chunks(STEPS)
        .map(|s| (s[..STEPS / 2].iter().sum::<f32>() > s[STEPS / 2..].iter().sum::<f32>()) as u32)
        .collect();
    Ok((Tensor::from_slice(dev, &x, &[n, STEPS, 1])?, Tensor::from_slice(dev, &y, &[n])?))
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let (x, y) = halves(&dev, 2000, 1)?;
    let (vx, vy) = halves(&dev, 500, 2)?;
    let net = Sequential::new(&dev, &[STEPS, 1]).seed(3).add(Lstm::new(32))?.add(Dense::new(2))?;
    let mut model = Model::new(net).with_seed(4);
    model.compile(
        Adam::new(0.01),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    )?;
    println!("{}", model.summary());
    let options = FitOptions { epochs: 15, batch_size: 64, verbose: false, ..Default::default() }.validation(&vx, &vy);
    let history = model.fit(&x, &y, options)?;
    for (e, (loss, acc)) in history.get("loss").iter().zip(history.get("val_accuracy")).enumerate() {
        println!("epoch {:>2}: loss {loss:.4}, held-out accuracy {acc:.3}", e + 1);
    }
    plot_history(&history, "runs/examples/lstm_sequence.png")?;
    println!("curves: runs/examples/lstm_sequence.png");
    let acc = history.get("val_accuracy").last().copied().unwrap_or(f32::NAN);
    reached("held-out accuracy >= 0.85", acc >= 0.85, acc)
}
