//! An autoencoder: squeeze 16x16 images of two soft blobs through an 8-number bottleneck and
//! back, trained with mean squared error to reproduce its input. Prints the held-out
//! reconstruction error against the baseline of always answering the mean image, and draws a
//! few originals and reconstructions as text.
//!
//! `cargo run --release -p wgtrain --example autoencoder` (a few minutes on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

const SIDE: usize = 16;
const PIXELS: usize = SIDE * SIDE;

/// `n` flattened images `[n, PIXELS]` in [0, 1], each two Gaussian blobs at random places.
fn blobs(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = vec![0.0f32; n * PIXELS];
    for img in x.chunks_mut(PIXELS) {
        for _ in 0..2 {
            let (cy, cx) = (rng.random_range(2.0..14.0f32), rng.random_range(2.0..14.0f32));
            for (k, v) in img.iter_mut().enumerate() {
                let (dy, dx) = ((k / SIDE) as f32 - cy, (k % SIDE) as f32 - cx);
                *v = v.max((-(dy * dy + dx * dx) / 6.0).exp());
            }
        }
    }
    x
}

/// An image as rows of characters, darker for larger values.
fn ascii(img: &[f32]) -> Vec<String> {
    img.chunks(SIDE)
        .map(|row| row.iter().map(|&v| [' ', '.', ':', '*', '#'][(v.clamp(0.0, 0.99) * 5.0) as usize]).collect())
        .collect()
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let (train, test) = (blobs(3000, 1), blobs(500, 2));
    let x = Tensor::from_slice(&dev, &train, &[3000, PIXELS])?;
    let vx = Tensor::from_slice(&dev, &test, &[500, PIXELS])?;

    let net = Sequential::new(&dev, &[PIXELS])
        .seed(3)
        .add(Dense::new(128).relu())?
        .add(Dense::new(8))? // the code
        .add(Dense::new(128).relu())?
        .add(Dense::new(PIXELS).activation(Activation::Sigmoid))?;
    let mut model = Model::new(net).with_seed(4);
    model.compile(Adam::new(2e-3), MeanSquaredError, vec![])?;
    println!("{}", model.summary());
    let options = FitOptions { epochs: 30, batch_size: 64, verbose: false, ..Default::default() }.validation(&vx, &vx);
    let history = model.fit(&x, &x, options)?;

    // The baseline: the mean training image for every test image.
    let mean: Vec<f32> = (0..PIXELS).map(|k| train.iter().skip(k).step_by(PIXELS).sum::<f32>() / 3000.0).collect();
    let baseline =
        test.iter().enumerate().map(|(i, v)| (v - mean[i % PIXELS]).powi(2)).sum::<f32>() / test.len() as f32;
    let val = history.get("val_loss");
    println!("held-out reconstruction MSE {:.5} (mean-image baseline {baseline:.5})", val.last().unwrap_or(&f32::NAN));

    let recon = model.predict(&vx, 500)?.to_vec::<f32>()?;
    for i in 0..3 {
        println!("original{:>10}reconstruction", "");
        let (a, b) = (ascii(&test[i * PIXELS..(i + 1) * PIXELS]), ascii(&recon[i * PIXELS..(i + 1) * PIXELS]));
        for (l, r) in a.iter().zip(&b) {
            println!("{l}  |  {r}");
        }
    }
    plot_history(&history, "runs/examples/autoencoder.png")?;
    println!("curves: runs/examples/autoencoder.png");
    let mse = val.last().copied().unwrap_or(f32::NAN);
    reached(
        "reconstruction MSE under a tenth of the mean image's",
        mse < baseline / 10.0,
        format!("{mse} vs {baseline}"),
    )
}
