//! Regression with outliers: fit y = 2x + 1 to data where one point in ten is corrupted, once with
//! mean squared error and once with the Huber loss. MSE's square lets the outliers drag the line;
//! Huber's linear tails do not. Prints both fitted lines and their error on clean held-out data,
//! and plots the held-out mean absolute error per epoch of both.
//!
//! `cargo run --release -p wgtrain --example regression_outliers` (under a minute on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::metrics::MeanAbsoluteErrorMetric;
use wgtrain::prelude::*;

/// `n` points on y = 2x + 1 with small noise; when `outliers`, every tenth target is raised by 15.
fn line(dev: &Device, n: usize, outliers: bool, seed: u64) -> Result<(Tensor, Tensor)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| 2.0 * v + 1.0 + rng.random_range(-0.1..0.1) + if outliers && i % 10 == 0 { 15.0 } else { 0.0 })
        .collect();
    Ok((Tensor::from_slice(dev, &x, &[n, 1])?, Tensor::from_slice(dev, &y, &[n, 1])?))
}

/// Trains a linear model with `loss`; returns (slope, intercept, held-out MAE per epoch).
fn fit_line(
    dev: &Device,
    loss: impl Loss + 'static,
    data: &(Tensor, Tensor),
    clean: &(Tensor, Tensor),
) -> Result<(f32, f32, Vec<f32>)> {
    let mut model = Model::new(Sequential::new(dev, &[1]).seed(7).add(Dense::new(1))?).with_seed(8);
    model.compile(Sgd::new(0.05).momentum(0.9), loss, vec![Box::new(MeanAbsoluteErrorMetric::new())])?;
    let options =
        FitOptions { epochs: 30, batch_size: 32, verbose: false, ..Default::default() }.validation(&clean.0, &clean.1);
    let history = model.fit(&data.0, &data.1, options)?;
    let params = model.params();
    Ok((params[0].var.to_vec()?[0], params[1].var.to_vec()?[0], history.get("val_mae")))
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let data = line(&dev, 1000, true, 1)?;
    let clean = line(&dev, 300, false, 2)?;
    let (ms, mi, mse_mae) = fit_line(&dev, MeanSquaredError, &data, &clean)?;
    let (hs, hi, huber_mae) = fit_line(&dev, Huber::new(1.0), &data, &clean)?;
    println!("true line:  y = 2.000 x + 1.000");
    println!("MSE fit:    y = {ms:.3} x + {mi:.3}   held-out MAE {:.3}", mse_mae.last().unwrap_or(&f32::NAN));
    println!("Huber fit:  y = {hs:.3} x + {hi:.3}   held-out MAE {:.3}", huber_mae.last().unwrap_or(&f32::NAN));
    let (mse_mae_last, huber_mae_last) =
        (&mse_mae.last().copied().unwrap_or(f32::NAN), &huber_mae.last().copied().unwrap_or(f32::NAN));
    let curves = [Curve::new("MSE", mse_mae.clone()), Curve::new("Huber (delta 1)", huber_mae.clone())];
    plot_curves("held-out mean absolute error", "epoch", &curves, "runs/examples/regression_outliers.png")?;
    println!("curves: runs/examples/regression_outliers.png");
    let (mse, huber) = (*mse_mae_last, *huber_mae_last);
    reached("Huber's slope within 0.1 of the true 2", (hs - 2.0).abs() < 0.1, hs)?;
    reached(
        "Huber's held-out MAE under a third of MSE's (outliers pull MSE)",
        huber < mse / 3.0,
        format!("{huber} vs {mse}"),
    )
}
