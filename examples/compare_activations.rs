//! One network, three activations: the same 4-layer MLP with ReLU, sigmoid and tanh hidden
//! units learns two interleaved spirals; prints each one's held-out accuracy and plots their
//! training losses per epoch. With this depth and budget ReLU separates the spirals while the
//! saturating sigmoid and tanh are still near chance (a NumPy re-implementation of the same
//! network, initialization and Adam settings behaves the same way).
//!
//! `cargo run --release -p wgtrain --example compare_activations` (a few minutes on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

/// Two interleaved spirals: `n` points `[n, 2]` and labels 0/1.
fn spirals(dev: &Device, n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for i in 0..n {
        let class = (i % 2) as u32;
        let t = rng.random_range(0.0..1.0f32);
        let angle = t * 3.0 * std::f32::consts::PI + class as f32 * std::f32::consts::PI;
        x.extend([(0.15 + t) * angle.cos(), (0.15 + t) * angle.sin()]);
        y.push(class);
    }
    Ok((Tensor::from_slice(dev, &x, &[n, 2])?, Tensor::from_slice(dev, &y, &[n])?))
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let (x, y) = spirals(&dev, 1000, 1)?;
    let (vx, vy) = spirals(&dev, 400, 2)?;
    let mut curves = Vec::new();
    let mut accuracy = Vec::new();
    for act in [Activation::Relu, Activation::Sigmoid, Activation::Tanh] {
        let mut net = Sequential::new(&dev, &[2]).seed(3);
        for _ in 0..3 {
            net = net.add(Dense::new(48).activation(act))?;
        }
        let mut model = Model::new(net.add(Dense::new(2))?).with_seed(4);
        model.compile(
            Adam::new(0.01),
            SparseCategoricalCrossEntropy::from_logits(),
            vec![Box::new(SparseCategoricalAccuracy::new())],
        )?;
        let history =
            model.fit(&x, &y, FitOptions { epochs: 40, batch_size: 50, verbose: false, ..Default::default() })?;
        let acc = model.evaluate(&vx, &vy, 400)?.get("accuracy").unwrap_or(f32::NAN);
        let loss = history.get("loss");
        println!(
            "{:<8} final training loss {:.4}, held-out accuracy {acc:.3}",
            act.name(),
            loss.last().unwrap_or(&f32::NAN)
        );
        curves.push(Curve::new(act.name(), loss));
        accuracy.push(acc);
    }
    plot_curves("training loss by activation", "epoch", &curves, "runs/examples/compare_activations.png")?;
    println!("curves: runs/examples/compare_activations.png");
    // The lesson: in a deep stack, ReLU learns the spirals where the saturating ones stall.
    reached("ReLU's held-out accuracy >= 0.95", accuracy[0] >= 0.95, accuracy[0])?;
    let best_saturating = accuracy[1].max(accuracy[2]);
    reached("ReLU beats sigmoid and tanh by 0.2", accuracy[0] >= best_saturating + 0.2, format!("{accuracy:?}"))
}
