//! Inference against training throughput (issue 20, item 13): the Fashion-MNIST CNN with batch
//! norm (Conv32-BN-Pool-Conv64-BN-Pool-Dense10 on 28x28 images), trained at batch 64 and
//! evaluated at several batch sizes over the same images. Inference does a third of a
//! training step's work, so `evaluate` must run several times faster per image than `fit`.
//!
//! `cargo run --release -p wgtrain --example eval_report` (`-- --images N`, default 2000;
//! `WGTRAIN_PROFILE=1`: also rank the kernels of a training step and of an evaluation batch,
//! of `--profile-batch B` images, default 64).

use std::time::Instant;

use wgtrain::prelude::*;

#[path = "report_profile.rs"]
mod report_profile;
use report_profile::print_profile;

fn cnn(dev: &Device) -> Result<Model> {
    let net = Sequential::new(dev, &[1, 28, 28])
        .add(Conv2d::new(32, [3, 3]))?
        .add(BatchNorm::new().momentum(0.9).eps(1e-5))?
        .add(ActivationLayer::new(Activation::Relu))?
        .add(MaxPool2d::new([2, 2]))?
        .add(Conv2d::new(64, [3, 3]))?
        .add(BatchNorm::new().momentum(0.9).eps(1e-5))?
        .add(ActivationLayer::new(Activation::Relu))?
        .add(MaxPool2d::new([2, 2]))?
        .add(Flatten::new())?
        .add(Dense::new(10))?;
    let mut m = Model::new(net);
    m.compile(
        Adam::new(1e-3),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    )?;
    Ok(m)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize =
        args.iter().position(|a| a == "--images").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(2000);
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let x = Tensor::rand_uniform(&dev, &[n, 1, 28, 28], 0.0, 1.0, 1)?;
    let y: Vec<u32> = (0..n as u32).map(|i| i % 10).collect();
    let y = Tensor::from_slice(&dev, &y, &[n])?;
    let mut model = cnn(&dev)?;
    // Warm-up: pipelines of both paths.
    let o = |epochs| FitOptions { epochs, batch_size: 64, verbose: false, shuffle: false, ..Default::default() };
    model.fit(&x.slice(0, 0, 256.min(n), 1)?, &y.slice(0, 0, 256.min(n), 1)?, o(1))?;
    for batch in [64, 500] {
        model.evaluate(&x.slice(0, 0, 500.min(n), 1)?, &y.slice(0, 0, 500.min(n), 1)?, batch)?;
    }
    let submits = dev.submits();
    let t0 = Instant::now();
    model.fit(&x, &y, o(1))?;
    let train = n as f64 / t0.elapsed().as_secs_f64();
    let per_step = (dev.submits() - submits) as f64 / n.div_ceil(64) as f64;
    println!("{:<24} {:>10.0} images/s  ({per_step:.1} submits per step)", "fit, batch 64", train);
    for batch in [64, 256, 500] {
        let created = dev.pool_stats().buffers_created;
        let t0 = Instant::now();
        model.evaluate(&x, &y, batch)?;
        let rate = n as f64 / t0.elapsed().as_secs_f64();
        let created = dev.pool_stats().buffers_created - created;
        println!(
            "{:<24} {:>10.0} images/s  ({:.1}x fit; {created} buffers created)",
            format!("evaluate, batch {batch}"),
            rate,
            rate / train
        );
        eprintln!(
            "{{\"workload\":\"evaluate\",\"batch\":{batch},\"images_per_s\":{rate:.1},\"fit_images_per_s\":{train:.1}}}"
        );
    }
    if !dev.profile().is_empty() {
        let m = 512.min(n);
        let (xs, ys) = (x.slice(0, 0, m, 1)?, y.slice(0, 0, m, 1)?);
        dev.set_profiling(true);
        model.fit(&xs, &ys, o(1))?;
        println!("fit, batch 64, per step:");
        print_profile(&dev, m.div_ceil(64));
        let batch: usize =
            args.iter().position(|a| a == "--profile-batch").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(64);
        dev.set_profiling(true);
        model.evaluate(&xs, &ys, batch)?;
        println!("evaluate, batch {batch}, per batch:");
        print_profile(&dev, m.div_ceil(batch));
    }
    Ok(())
}
