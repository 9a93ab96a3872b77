//! One task, four optimizers: SGD with momentum, Adam, RMSprop and Adagrad train the same MLP
//! (same initial weights, same batches) on a nonlinear 3-class problem; prints each one's
//! held-out accuracy and plots their training losses per epoch on one chart.
//!
//! `cargo run --release -p wgtrain --example compare_optimizers` (a few minutes on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

/// `n` points `[n, 2]` in the square [-1, 1]^2, labelled by which of three bands of
/// sin(3x) + y they fall in.
fn bands(dev: &Device, n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for _ in 0..n {
        let (a, b) = (rng.random_range(-1.0..1.0f32), rng.random_range(-1.0..1.0f32));
        let s = (3.0 * a).sin() * 0.5 + b;
        x.extend([a, b]);
        y.push(if s < -0.3 {
            0u32
        } else if s < 0.3 {
            1
        } else {
            2
        });
    }
    Ok((Tensor::from_slice(dev, &x, &[n, 2])?, Tensor::from_slice(dev, &y, &[n])?))
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let (x, y) = bands(&dev, 2000, 1)?;
    let (vx, vy) = bands(&dev, 500, 2)?;
    let optimizers: Vec<(&str, Box<dyn Optimizer>)> = vec![
        ("SGD + momentum", Box::new(Sgd::new(0.05).momentum(0.9))),
        ("Adam", Box::new(Adam::new(0.01))),
        ("RMSprop", Box::new(Rmsprop::new(0.005))),
        ("Adagrad", Box::new(Adagrad::new(0.1))),
    ];
    let mut curves = Vec::new();
    for (name, opt) in optimizers {
        // The same seeds give every optimizer the same initial weights and batch order.
        let net = Sequential::new(&dev, &[2])
            .seed(3)
            .add(Dense::new(32).relu())?
            .add(Dense::new(32).relu())?
            .add(Dense::new(3))?;
        let mut model = Model::new(net).with_seed(4);
        model.compile(
            opt,
            SparseCategoricalCrossEntropy::from_logits(),
            vec![Box::new(SparseCategoricalAccuracy::new())],
        )?;
        let history =
            model.fit(&x, &y, FitOptions { epochs: 25, batch_size: 64, verbose: false, ..Default::default() })?;
        let acc = model.evaluate(&vx, &vy, 500)?.get("accuracy").unwrap_or(f32::NAN);
        let loss = history.get("loss");
        println!("{name:<16} final training loss {:.4}, held-out accuracy {acc:.3}", loss.last().unwrap_or(&f32::NAN));
        reached(&format!("{name}: held-out accuracy >= 0.9"), acc >= 0.9, acc)?;
        curves.push(Curve::new(name, loss));
    }
    plot_curves("training loss by optimizer", "epoch", &curves, "runs/examples/compare_optimizers.png")?;
    println!("curves: runs/examples/compare_optimizers.png");
    Ok(())
}
