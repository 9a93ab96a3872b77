//! Trains an image classifier on CIFAR-10 (the README's main command).
//!
//! `cargo run --release --example cifar10 -- [flags]`; `--help` lists them. Without the data it
//! downloads the official archive (MD5-checked) into `--data`; offline, it says where to put the
//! files, or trains on `--synthetic N` generated CIFAR-format images (a pipeline demo, and says
//! so). Prints the adapter, the model summary, per-epoch train/validation loss and accuracy,
//! images/s, the test accuracy and a per-class precision/recall/F1 table; keeps the best
//! checkpoint, stops early, writes TensorBoard events and a CSV log, and resumes with `--resume`.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use wgtrain::data::cifar10::{self, CLASSES, Cifar10, Split};
use wgtrain::models::zoo;
use wgtrain::prelude::*;
use wgtrain::tensor::AdapterChoice;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Arch {
    /// Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10 (122,570 parameters).
    Cnn,
    /// A small ResNet: batch norm and residual blocks of 16, 32 and 64 channels.
    Resnet,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Opt {
    Adam,
    Adamw,
    Sgd,
    Rmsprop,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Schedule {
    Constant,
    Cosine,
    Onecycle,
    Step,
}

/// Train a CIFAR-10 classifier on the GPU with wgtrain.
#[derive(Debug, Parser)]
#[command(args_override_self = true)]
struct Args {
    /// Folder of the CIFAR-10 binary distribution (downloaded there when missing).
    #[arg(long, default_value = "data/cifar10")]
    data: PathBuf,
    /// Train on N generated CIFAR-format images instead of CIFAR-10 (a pipeline demo).
    #[arg(long, value_name = "N")]
    synthetic: Option<usize>,
    /// Use the real data when it can be had, else N generated images (says which).
    #[arg(long, value_name = "N")]
    or_synthetic: Option<usize>,
    #[arg(long, value_enum, default_value = "cnn")]
    model: Arch,
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: Opt,
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    #[arg(long, value_enum, default_value = "constant")]
    schedule: Schedule,
    /// Random crop (pad 4) and horizontal flip of training images, on the GPU.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    augment: bool,
    /// With --augment: largest random rotation in degrees (e.g. 15).
    #[arg(long, default_value_t = 0.0)]
    rotation: f32,
    /// With --augment: random zoom in [1 - z, 1 + z] (e.g. 0.1).
    #[arg(long, default_value_t = 0.0)]
    zoom: f32,
    /// With --augment: colour jitter strength for brightness, contrast and saturation (e.g. 0.2).
    #[arg(long, default_value_t = 0.0)]
    color_jitter: f32,
    /// With --augment: side of a random square cut out of each image (e.g. 8).
    #[arg(long, default_value_t = 0)]
    cutout: usize,
    /// Write the training curves to `--out`/curves.png.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    plot: bool,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Adapter name substring or backend (vulkan, metal, dx12, gl); default: the best one.
    #[arg(long)]
    adapter: Option<String>,
    /// Where checkpoints, the CSV log and TensorBoard events go.
    #[arg(long, default_value = "runs/cifar10")]
    out: PathBuf,
    /// Continue an interrupted run from its backup in `--out`.
    #[arg(long)]
    resume: bool,
    /// Use only the first N training images (quick runs).
    #[arg(long)]
    limit: Option<usize>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

/// The training and test sets, and whether they are synthetic.
fn data(a: &Args) -> Result<(Cifar10, Cifar10, bool)> {
    let synthetic = |n: usize| -> Result<(Cifar10, Cifar10, bool)> {
        Ok((Cifar10::synthetic(n, a.seed)?, Cifar10::synthetic((n / 5).max(100), a.seed + 1)?, true))
    };
    if let Some(n) = a.synthetic {
        return synthetic(n);
    }
    let real = Cifar10::ensure(&a.data, Split::Train, &cifar10::source().progress(!a.quiet))
        .and_then(|train| Ok((train, Cifar10::load(&a.data, Split::Test)?, false)));
    match (real, a.or_synthetic) {
        (Ok(d), _) => Ok(d),
        (Err(e), Some(n)) => {
            eprintln!("CIFAR-10 is not available: {e}");
            eprintln!("=> training on {n} SYNTHETIC CIFAR-format images instead (a pipeline demo, not CIFAR-10)");
            synthetic(n)
        }
        (Err(e), None) => Err(e),
    }
}

fn optimizer(a: &Args) -> Box<dyn Optimizer> {
    match a.optimizer {
        Opt::Adam => Box::new(Adam::new(a.lr)),
        Opt::Adamw => Box::new(AdamW::new(a.lr, 0.05)),
        Opt::Sgd => Box::new(Sgd::new(a.lr).momentum(0.9).nesterov(true).weight_decay(5e-4)),
        Opt::Rmsprop => Box::new(Rmsprop::new(a.lr)),
    }
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(a: Args) -> Result<()> {
    let dev = match &a.adapter {
        Some(name) => Device::with_adapter(AdapterChoice::Named(name.clone()))?,
        None => Device::new()?,
    };
    println!("adapter: {}", dev.adapter());
    let (mut train, test, synthetic) = data(&a)?;
    if let Some(n) = a.limit {
        train = train.truncated(n);
    }
    let val = train.split_off(train.len() - train.len() / 10);
    println!(
        "data: {} training, {} validation, {} test images{}",
        train.len(),
        val.len(),
        test.len(),
        if synthetic { " (SYNTHETIC: labels follow the colour and a stripe, not CIFAR-10 classes)" } else { "" }
    );
    let mut model = match a.model {
        Arch::Cnn => zoo::cifar10_cnn(&dev, a.seed)?,
        Arch::Resnet => zoo::cifar10_resnet(&dev, a.seed)?,
    }
    .with_seed(a.seed);
    println!("{}", model.summary());
    model.compile(
        optimizer(&a),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    );

    let steps = (train.len().div_ceil(a.batch_size) * a.epochs) as u64;
    let mut o = FitOptions {
        epochs: a.epochs,
        batch_size: a.batch_size,
        verbose: !a.quiet,
        log_every: 20,
        ..Default::default()
    };
    if a.augment {
        o.augment = Some(AugmentOptions {
            pad: 4,
            flip_horizontal: true,
            rotation: a.rotation,
            zoom: a.zoom,
            brightness: a.color_jitter,
            contrast: a.color_jitter,
            saturation: a.color_jitter,
            cutout: a.cutout,
            ..Default::default()
        });
    }
    match a.schedule {
        Schedule::Constant => {}
        Schedule::Cosine => o.callbacks.push(Box::new(LearningRateScheduler::per_step(CosineAnnealing {
            max: a.lr,
            min: a.lr * 0.01,
            period: steps,
            t_mult: 1,
        }))),
        Schedule::Onecycle => o.callbacks.push(Box::new(LearningRateScheduler::per_step(OneCycle::new(a.lr, steps)))),
        Schedule::Step => o.callbacks.push(Box::new(LearningRateScheduler::per_epoch(StepDecay {
            initial: a.lr,
            every: (a.epochs / 3).max(1) as u64,
            factor: 0.1,
        }))),
    }
    let best = a.out.join("best");
    o.callbacks
        .push(Box::new(ModelCheckpoint::new(&best.display().to_string()).monitor("val_accuracy").save_best_only(true)));
    o.callbacks.push(Box::new(EarlyStopping::new("val_accuracy").patience(5).restore_best_weights(true)));
    o.callbacks.push(Box::new(CsvLogger::new(a.out.join("log.csv")).append(a.resume)));
    o.callbacks.push(Box::new(TensorBoard::new(a.out.join("tensorboard")).histogram_freq(1)));
    o.callbacks.push(Box::new(TerminateOnNan::new()));
    if a.resume {
        o.callbacks.push(Box::new(BackupAndRestore::new(a.out.join("backup"))));
    }
    let train_n = train.len();
    let loader = DataLoader::new(train, a.batch_size).shuffle(a.seed).workers(2);
    let val_loader = DataLoader::new(val, 256);
    let t0 = Instant::now();
    let history = model.fit_loader(&loader, Some(&val_loader), o)?;
    let secs = t0.elapsed().as_secs_f64();
    let images = train_n * history.epochs.len();
    println!(
        "trained {} epochs in {secs:.1}s: {:.1} images/s (with validation)",
        history.epochs.len(),
        images as f64 / secs
    );
    if a.plot {
        let png = a.out.join("curves.png");
        // A chart is a convenience: failing to draw it must not lose the test-set report.
        match plot_history(&history, &png) {
            Ok(()) => println!("training curves: {}", png.display()),
            Err(e) => eprintln!("warning: no training curves: {e}"),
        }
    }

    // Test set: accuracy and the per-class table.
    let test_loader = DataLoader::new(test, 256);
    let mut cm = ConfusionMatrix::new(10);
    for batch in test_loader.iter(0) {
        let (x, y) = batch?.to_device(&dev)?;
        let logits = model.predict(&x, 256)?;
        cm.update(&logits, &y)?;
    }
    println!("test accuracy: {:.4}", cm.result()?);
    println!("{:<12} {:>9} {:>9} {:>9} {:>8}", "class", "precision", "recall", "f1", "support");
    for (k, (p, r, f, n)) in cm.per_class()?.into_iter().enumerate() {
        println!("{:<12} {p:>9.3} {r:>9.3} {f:>9.3} {n:>8}", CLASSES[k]);
    }
    println!("best checkpoint: {}; logs: {}", best.display(), a.out.display());
    Ok(())
}
