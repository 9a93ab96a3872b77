//! Binary classification with binary cross-entropy: is a point inside the inner circle or on
//! the outer ring? A small MLP, BCE from logits, binary accuracy, held-out evaluation and a PNG
//! of the training curves.
//!
//! `cargo run --release -p wgtrain --example binary_classification` (about a minute on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

/// `n` points `[n, 2]`: label 1 inside radius 0.5, label 0 on a ring between 0.7 and 1.0.
fn circles(dev: &Device, n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for i in 0..n {
        let inner = i % 2 == 0;
        let r = if inner { rng.random_range(0.0..0.5f32) } else { rng.random_range(0.7..1.0f32) };
        let angle = rng.random_range(0.0..std::f32::consts::TAU);
        x.extend([r * angle.cos(), r * angle.sin()]);
        y.push(inner as u32 as f32);
    }
    Ok((Tensor::from_slice(dev, &x, &[n, 2])?, Tensor::from_slice(dev, &y, &[n, 1])?))
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let (x, y) = circles(&dev, 2000, 1)?;
    let (vx, vy) = circles(&dev, 500, 2)?;

    let net = Sequential::new(&dev, &[2])
        .seed(3)
        .add(Dense::new(16).relu())?
        .add(Dense::new(16).relu())?
        .add(Dense::new(1))?;
    let mut model = Model::new(net).with_seed(4);
    // Logits out, so the accuracy threshold is 0 (a probability of 0.5).
    model.compile(Adam::new(0.01), BinaryCrossEntropy::from_logits(), vec![Box::new(BinaryAccuracy::new(0.0))])?;
    println!("{}", model.summary());

    let options = FitOptions { epochs: 20, batch_size: 64, verbose: false, ..Default::default() }.validation(&vx, &vy);
    let history = model.fit(&x, &y, options)?;
    let logs = model.evaluate(&vx, &vy, 500)?;
    println!("held-out: {}", logs.line());
    plot_history(&history, "runs/examples/binary_classification.png")?;
    println!("curves: runs/examples/binary_classification.png");
    let acc = logs.get("binary_accuracy").unwrap_or(f32::NAN);
    reached("held-out accuracy >= 0.95", acc >= 0.95, acc)
}
