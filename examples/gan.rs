//! A small GAN with a custom training loop: a generator learns to turn 8 Gaussian numbers into
//! points on the unit circle, against a discriminator that tells its points from real ones.
//! Two models, two optimizers, and the loop written by hand with `Model::forward`, a loss,
//! `backward` and `Optimizer::step` (the PyTorch way), since `fit` trains one model on one loss.
//! Prints the radius of generated points (the target is 1) as training goes.
//!
//! `cargo run --release -p wgtrain --example gan` (a few minutes on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

const BATCH: usize = 128;
const NOISE: usize = 8;

/// Mean and standard deviation of the radius of points `[n, 2]`.
fn radius(points: &Tensor) -> Result<(f32, f32)> {
    let v = points.to_vec::<f32>()?;
    let r: Vec<f32> = v.chunks(2).map(|p| p[0].hypot(p[1])).collect();
    let mean = r.iter().sum::<f32>() / r.len() as f32;
    let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / r.len() as f32;
    Ok((mean, var.sqrt()))
}

/// One optimizer step of `opt` on `params` for `loss`, then every gradient of `models` cleared.
fn step(loss: &Var, opt: &mut dyn Optimizer, params: &[Param], models: [&Model; 2]) -> Result<()> {
    loss.backward()?;
    opt.step(params)?;
    models.iter().flat_map(|m| m.params()).for_each(|p| p.var.zero_grad());
    Ok(())
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut generator = Model::new(
        Sequential::new(&dev, &[NOISE])
            .seed(2)
            .add(Dense::new(64).relu())?
            .add(Dense::new(64).relu())?
            .add(Dense::new(2))?,
    );
    let leaky = Activation::LeakyRelu(0.2);
    let mut critic = Model::new(
        Sequential::new(&dev, &[2])
            .seed(3)
            .add(Dense::new(64).activation(leaky))?
            .add(Dense::new(64).activation(leaky))?
            .add(Dense::new(1))?,
    );
    let (mut g_opt, mut d_opt) = (Adam::new(1e-3).betas(0.5, 0.999), Adam::new(1e-3).betas(0.5, 0.999));
    let bce = BinaryCrossEntropy::from_logits();
    let (ones, zeros) = (Tensor::full(&dev, &[BATCH, 1], 1.0)?, Tensor::full(&dev, &[BATCH, 1], 0.0)?);

    let mut last = (f32::NAN, f32::NAN, f32::NAN);
    for it in 0..=1500u64 {
        let real: Vec<f32> = (0..BATCH)
            .flat_map(|_| {
                let a = rng.random_range(0.0..std::f32::consts::TAU);
                [a.cos(), a.sin()]
            })
            .collect();
        let real = Var::constant(Tensor::from_slice(&dev, &real, &[BATCH, 2])?);
        let z = Var::constant(Tensor::rand_normal(&dev, &[BATCH, NOISE], 0.0, 1.0, it)?);

        // The discriminator: real points are 1, generated ones 0 (the generator is not trained here).
        let fake = generator.forward(&z, true)?.detach();
        let d_loss = bce.forward(&critic.forward(&real, true)?, &ones, None)?.add(&bce.forward(
            &critic.forward(&fake, true)?,
            &zeros,
            None,
        )?)?;
        step(&d_loss, &mut d_opt, &critic.params(), [&generator, &critic])?;

        // The generator: make the discriminator answer 1 for generated points.
        let fake = generator.forward(&z, true)?;
        let g_loss = bce.forward(&critic.forward(&fake, true)?, &ones, None)?;
        step(&g_loss, &mut g_opt, &generator.params(), [&generator, &critic])?;

        if it % 250 == 0 {
            let (mean, std) = radius(fake.data())?;
            let (d, g) = (d_loss.item()?, g_loss.item()?);
            println!(
                "step {it:>4}: discriminator loss {d:.3}, generator loss {g:.3}, generated radius {mean:.3} +- {std:.3}"
            );
            last = (d, mean, std);
        }
    }
    // Neither wins: the discriminator's loss stays near its equilibrium, 2 ln 2 = 1.386 (a
    // discriminator that always wins has a loss near 0), and the points lie on the circle.
    let (d, mean, std) = last;
    reached("the discriminator's loss in [1.0, 1.7] (no side wins)", (1.0..=1.7).contains(&d), d)?;
    reached(
        "generated radius 1 +- 0.2, spread under 0.5",
        (mean - 1.0).abs() <= 0.2 && std < 0.5,
        format!("{mean} +- {std}"),
    )
}
