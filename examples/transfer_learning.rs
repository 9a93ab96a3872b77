//! Transfer learning: train a small CNN on a data-rich task (which quadrant holds the bright
//! blob: 4 classes), save its weights, load them into a new model with a new head for a
//! data-poor task (is the blob on the left or the right: 2 classes, 16 labelled images),
//! freeze the convolutional base and train the head, then unfreeze and fine-tune everything at
//! a lower learning rate. Compares with the same model trained from scratch on the 16 images.
//!
//! `cargo run --release -p wgtrain --example transfer_learning` (a few minutes on lavapipe).

#[path = "expect.rs"]
mod expect;
use expect::reached;

use rand::{Rng, SeedableRng};
use wgtrain::prelude::*;

const BASE: [&str; 2] = ["conv2d_1", "conv2d_2"];

/// `n` 1x12x12 images of noise with one bright 4x4 blob; returns them with the blob's quadrant
/// (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right).
fn quadrants(dev: &Device, n: usize, seed: u64) -> Result<(Tensor, Vec<u32>)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut x, mut q) = (Vec::with_capacity(n * 144), Vec::with_capacity(n));
    for _ in 0..n {
        let quadrant: u32 = rng.random_range(0..4);
        let oy = (quadrant / 2) as usize * 6 + rng.random_range(0..3);
        let ox = (quadrant % 2) as usize * 6 + rng.random_range(0..3);
        for k in 0..144 {
            let blob = (oy..oy + 4).contains(&(k / 12)) && (ox..ox + 4).contains(&(k % 12));
            x.push(rng.random_range(0.0..0.8) + if blob { 0.4 } else { 0.0 });
        }
        q.push(quadrant);
    }
    Ok((Tensor::from_slice(dev, &x, &[n, 1, 12, 12])?, q))
}

/// The same convolutional base with a `classes`-way head (layer names: conv2d_1, conv2d_2, dense_1).
fn cnn(dev: &Device, classes: usize, seed: u64) -> Result<Model> {
    let net = Sequential::new(dev, &[1, 12, 12])
        .seed(seed)
        .add(Conv2d::new(8, [3, 3]).relu())?
        .add(MaxPool2d::new([2, 2]))?
        .add(Conv2d::new(16, [3, 3]).relu())?
        .add(Flatten::new())?
        .add(Dense::new(classes))?;
    let mut model = Model::new(net).with_seed(seed);
    model.compile(
        Adam::new(5e-3),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    )?;
    Ok(model)
}

fn fit(model: &mut Model, x: &Tensor, y: &Tensor, epochs: usize) -> Result<()> {
    model.fit(x, y, FitOptions { epochs, batch_size: 32, verbose: false, ..Default::default() })?;
    Ok(())
}

fn main() -> Result<()> {
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let side = |q: &[u32]| -> Result<Tensor> {
        Ok(Tensor::from_slice(&dev, &q.iter().map(|v| v % 2).collect::<Vec<u32>>(), &[q.len()])?)
    };

    // 1. The source task, with plenty of data.
    let (xa, qa) = quadrants(&dev, 2000, 1)?;
    let mut source = cnn(&dev, 4, 2)?;
    fit(&mut source, &xa, &Tensor::from_slice(&dev, &qa, &[qa.len()])?, 5)?;
    let (xt, qt) = quadrants(&dev, 500, 3)?;
    let acc =
        source.evaluate(&xt, &Tensor::from_slice(&dev, &qt, &[qt.len()])?, 500)?.get("accuracy").unwrap_or(f32::NAN);
    println!("source task (quadrant, 2000 images): held-out accuracy {acc:.3}");
    let weights = std::path::Path::new("runs/examples/transfer/source.safetensors");
    std::fs::create_dir_all(weights.parent().unwrap_or(weights))
        .map_err(|source| TrainError::Io { file: "runs/examples/transfer".into(), source })?;
    source.save_weights(weights)?;

    // 2. The target task: little data, a new 2-way head.
    let (xb, qb) = quadrants(&dev, 16, 4)?;
    let (yb, yt) = (side(&qb)?, side(&qt)?);
    let mut target = cnn(&dev, 2, 5)?;
    let report = target.load_weights(weights, false)?;
    println!("loaded {} tensors; skipped (the old head): {:?}", report.loaded.len(), report.skipped);
    for layer in BASE {
        target.freeze(layer)?;
    }
    println!("{}", target.summary());
    fit(&mut target, &xb, &yb, 10)?;
    let head_only = target.evaluate(&xt, &yt, 500)?.get("accuracy").unwrap_or(f32::NAN);
    for layer in BASE {
        target.unfreeze(layer)?;
    }
    target.set_learning_rate(5e-4)?;
    fit(&mut target, &xb, &yb, 10)?;
    let tuned = target.evaluate(&xt, &yt, 500)?.get("accuracy").unwrap_or(f32::NAN);

    // 3. The same model and data, from scratch.
    let mut scratch = cnn(&dev, 2, 5)?;
    fit(&mut scratch, &xb, &yb, 20)?;
    let from_scratch = scratch.evaluate(&xt, &yt, 500)?.get("accuracy").unwrap_or(f32::NAN);
    println!("target task (left or right, 16 images), held-out accuracy:");
    println!("  frozen base, head trained   {head_only:.3}");
    println!("  then fine-tuned             {tuned:.3}");
    println!("  from scratch                {from_scratch:.3}");
    reached("the frozen base's head >= 0.9", head_only >= 0.9, head_only)?;
    reached(
        "transfer beats training from scratch",
        tuned > from_scratch && head_only > from_scratch,
        format!("{tuned} and {head_only} vs {from_scratch}"),
    )
}
