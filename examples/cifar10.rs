//! Trains an image classifier on CIFAR-10 (the README's main command), or on MNIST,
//! Fashion-MNIST or a folder of your own pictures (`--dataset`).
//!
//! `cargo run --release --example cifar10 -- [flags]`; `--help` lists them. Without the data it
//! downloads the official files (MD5-checked) into `--data`; offline, it says where to put the
//! files, or trains on `--synthetic N` generated CIFAR-format images (a pipeline demo, and says
//! so). Prints the adapter, the model summary, per-epoch train/validation loss and accuracy,
//! images/s, the test accuracy and a per-class precision/recall/F1 table; keeps the best
//! checkpoint, stops early, writes TensorBoard events and a CSV log, and resumes with `--resume`.
//!
//! Flag values are checked before anything runs: a count of zero, a learning rate that is not a
//! positive number, or an augmentation strength out of range ends with clap's error naming the
//! flag (exit status 2); a run that fails later, or stops on a NaN or infinite loss
//! (`TerminateOnNan`), prints `error: ...` (exit status 1). `--epochs 0`
//! is refused too: Keras' `fit` accepts 0 epochs and trains nothing, but this trainer exists to
//! train and then report test accuracy, and a report on an untrained model only misleads.
//! The integration tests include this file as a module (`tests/data.rs`) to parse flags and run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use wgtrain::data::cifar10::{self, Cifar10, Split};
use wgtrain::data::idx::{self, Family, IdxSplit};
use wgtrain::data::{ImageFolderOptions, Images, download, image_dataset_from_directory};
use wgtrain::models::zoo::{self, ImageTask};
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
#[command(args_override_self = true, allow_negative_numbers = true)]
pub struct Args {
    /// What to train on: cifar10, mnist, fashion-mnist, or a folder of your pictures with one
    /// subfolder per class (PNG or JPEG; a fifth is held out as the test set).
    #[arg(long, default_value = "cifar10", value_name = "cifar10|mnist|fashion-mnist|DIR")]
    dataset: String,
    /// With a folder --dataset: every picture is resized to this many pixels a side (at least 20).
    #[arg(long, default_value_t = 32, value_parser = picture_side)]
    image_size: usize,
    /// Folder of the data set's files (downloaded there when missing); default data/<dataset>.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Download from this mirror instead of the official address (same files, same MD5s): the
    /// archive's address for CIFAR-10, the folder of the four .gz files for the MNIST family;
    /// the environment variables WGTRAIN_CIFAR10_URL, WGTRAIN_MNIST_URL and
    /// WGTRAIN_FASHION_MNIST_URL do the same.
    #[arg(long, value_name = "URL", value_parser = url)]
    data_url: Option<String>,
    /// Give up on a download that sends nothing for this many seconds (60: a stalled server).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = seconds)]
    download_timeout: f64,
    /// Train on N generated CIFAR-format images instead of CIFAR-10 (a pipeline demo; N >= 10).
    #[arg(long, value_name = "N", value_parser = images)]
    synthetic: Option<usize>,
    /// Use the real data when it can be had, else N generated images (says which; N >= 10).
    #[arg(long, value_name = "N", value_parser = images)]
    or_synthetic: Option<usize>,
    #[arg(long, value_enum, default_value = "cnn")]
    model: Arch,
    /// Passes over the training set (at least 1).
    #[arg(long, default_value_t = 10, value_parser = at_least_one)]
    epochs: usize,
    /// Images per training step (at least 1).
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: Opt,
    /// Learning rate (a positive number).
    #[arg(long, default_value_t = 1e-3, value_parser = learning_rate)]
    lr: f32,
    #[arg(long, value_enum, default_value = "constant")]
    schedule: Schedule,
    /// Random crop (pad 4) and horizontal flip of training images, on the GPU.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    augment: bool,
    /// With --augment: largest random rotation in degrees, 0..=180 (e.g. 15).
    #[arg(long, default_value_t = 0.0, value_parser = rotation)]
    rotation: f32,
    /// With --augment: random zoom in [1 - z, 1 + z], 0 <= z < 1 (e.g. 0.1).
    #[arg(long, default_value_t = 0.0, value_parser = zoom)]
    zoom: f32,
    /// With --augment: colour jitter strength for brightness, contrast and saturation, 0..=1 (e.g. 0.2).
    #[arg(long, default_value_t = 0.0, value_parser = color_jitter)]
    color_jitter: f32,
    /// With --augment: side of a random square cut out of each image, 0..=32 (e.g. 8).
    #[arg(long, default_value_t = 0, value_parser = cutout)]
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
    /// Use only the first N training images (quick runs; N >= 10).
    #[arg(long, value_parser = images)]
    limit: Option<usize>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    /// Mixed precision (Keras' mixed_float16): layers compute in f16, weights stay f32, with a
    /// dynamic loss scale. Needs an adapter with SHADER_F16.
    #[arg(long)]
    mixed_precision: bool,
    /// Data-parallel training, one process per GPU, under `mpirun -np N` (see
    /// scripts/cifar10_distributed.sh): --batch-size is the global batch, divided among the
    /// processes. Needs the trainer built with `--features distributed`.
    #[arg(long)]
    distributed: bool,
}

// Flag checks: each returns the message clap prints after "invalid value 'V' for '--flag'".
type Flag<T> = std::result::Result<T, String>;

fn count(s: &str) -> Flag<usize> {
    s.parse::<usize>().map_err(|_| format!("expected a whole number, got {s}"))
}

fn at_least_one(s: &str) -> Flag<usize> {
    match count(s)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// An image count: a tenth is held out for validation, so fewer than 10 leaves none.
fn images(s: &str) -> Flag<usize> {
    match count(s)? {
        n if n < 10 => Err("must be at least 10 (a tenth of the images is held out for validation)".into()),
        n => Ok(n),
    }
}

/// A finite f32 in `lo..=hi` (`hi` excluded when `open`).
fn number(s: &str, lo: f32, hi: f32, open: bool) -> Flag<f32> {
    let v: f32 = s.parse().map_err(|_| format!("expected a number, got {s}"))?;
    let above = if open { v >= hi } else { v > hi };
    if !v.is_finite() || v < lo || above {
        return Err(format!("must be a finite number in [{lo}, {hi}{}", if open { ")" } else { "]" }));
    }
    Ok(v)
}

fn learning_rate(s: &str) -> Flag<f32> {
    let v: f32 = s.parse().map_err(|_| format!("expected a number, got {s}"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err("must be a positive finite number (e.g. 1e-3)".into());
    }
    Ok(v)
}

fn rotation(s: &str) -> Flag<f32> {
    number(s, 0.0, 180.0, false)
}

fn zoom(s: &str) -> Flag<f32> {
    number(s, 0.0, 1.0, true)
}

fn color_jitter(s: &str) -> Flag<f32> {
    number(s, 0.0, 1.0, false)
}

fn cutout(s: &str) -> Flag<usize> {
    match count(s)? {
        n if n > 32 => Err("must be at most 32 (the image side)".into()),
        n => Ok(n),
    }
}

fn picture_side(s: &str) -> Flag<usize> {
    match count(s)? {
        n if n < 20 => Err("must be at least 20 (the cnn's convolutions and poolings need 20x20)".into()),
        n => Ok(n),
    }
}

fn seconds(s: &str) -> Flag<f64> {
    let v: f64 = s.parse().map_err(|_| format!("expected a number of seconds, got {s}"))?;
    if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
        return Err("must be a number of seconds in (0, 86400]".into());
    }
    Ok(v)
}

fn url(s: &str) -> Flag<String> {
    download::check_url(s).map_err(|e| match e {
        TrainError::Download { why, .. } => why,
        other => other.to_string(),
    })?;
    Ok(s.to_string())
}

/// What `--dataset` names.
enum Source {
    Cifar10,
    Idx(Family),
    Folder(PathBuf),
}

fn source(a: &Args) -> Result<Source> {
    let source = match a.dataset.as_str() {
        "cifar10" => Source::Cifar10,
        "mnist" => Source::Idx(Family::Mnist),
        "fashion-mnist" => Source::Idx(Family::FashionMnist),
        dir if std::path::Path::new(dir).is_dir() => Source::Folder(PathBuf::from(dir)),
        other => {
            let why = format!("{other:?} is neither cifar10, mnist, fashion-mnist nor a folder of pictures");
            return Err(TrainError::config("--dataset", why));
        }
    };
    if !matches!(source, Source::Cifar10) && (a.synthetic.is_some() || a.or_synthetic.is_some()) {
        let why = "--synthetic and --or-synthetic make CIFAR-format images: use them with --dataset cifar10";
        return Err(TrainError::config("--dataset", why));
    }
    Ok(source)
}

/// The training and test sets, and whether they are synthetic.
pub fn data(a: &Args) -> Result<(Images, Images, bool)> {
    let dir = a.data.clone().unwrap_or_else(|| PathBuf::from("data").join(&a.dataset));
    match source(a)? {
        Source::Cifar10 => {
            let (train, test, synthetic) = cifar(a, &dir)?;
            Ok((train.into(), test.into(), synthetic))
        }
        Source::Idx(family) => {
            let url = a.data_url.clone().unwrap_or_else(|| family.url());
            let train = idx::ensure(&dir, family, IdxSplit::Train, &url, !a.quiet)?;
            Ok((train, idx::ensure(&dir, family, IdxSplit::Test, &url, !a.quiet)?, false))
        }
        Source::Folder(folder) => {
            let side = a.image_size;
            let o = ImageFolderOptions {
                image_size: [side, side],
                validation_split: 0.2,
                seed: a.seed,
                ..Default::default()
            };
            match image_dataset_from_directory(&folder, &o)? {
                (train, Some(test)) if train.len() >= 10 => Ok((train, test, false)),
                (train, _) => Err(TrainError::config(
                    "--dataset",
                    format!(
                        "{} has {} pictures; the trainer needs at least 13 (a fifth is the test set, a tenth of the rest validation)",
                        folder.display(),
                        train.len()
                    ),
                )),
            }
        }
    }
}

/// CIFAR-10's training and test sets (or synthetic ones), and whether they are synthetic.
fn cifar(a: &Args, dir: &std::path::Path) -> Result<(Cifar10, Cifar10, bool)> {
    let synthetic = |n: usize| -> Result<(Cifar10, Cifar10, bool)> {
        Ok((Cifar10::synthetic(n, a.seed)?, Cifar10::synthetic((n / 5).max(100), a.seed.wrapping_add(1))?, true))
    };
    if let Some(n) = a.synthetic {
        return synthetic(n);
    }
    let mut from = cifar10::source().progress(!a.quiet).stall_timeout(Duration::from_secs_f64(a.download_timeout));
    if let Some(url) = &a.data_url {
        from = from.url(url);
    }
    let real = Cifar10::ensure(dir, Split::Train, &from)
        .and_then(|train| Ok((train, Cifar10::load(dir, Split::Test)?, false)));
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

/// The processes of a `--distributed` run (MPI), or `None` for a run alone.
#[cfg(feature = "distributed")]
fn processes(a: &Args) -> Result<Option<Distributed>> {
    a.distributed.then(Distributed::init).transpose()
}

/// Without the feature, `--distributed` says how to get it.
#[cfg(not(feature = "distributed"))]
fn processes(a: &Args) -> Result<Option<Distributed>> {
    if a.distributed {
        let why = "this trainer was built without MPI: build it with `--features distributed` \
                   (scripts/cifar10_distributed.sh does)";
        return Err(TrainError::config("--distributed", why));
    }
    Ok(None)
}

/// Trains and reports as `main` does; errors instead of exiting (the tests call it). A process
/// of a distributed run that fails ends the others (MPI's abort), which would otherwise wait
/// for it.
pub fn run(a: Args) -> Result<()> {
    let dist = processes(&a)?;
    let result = train_and_report(a, dist.as_ref());
    if let (Err(e), Some(d)) = (&result, &dist)
        && d.size() > 1
    {
        eprintln!("error on process {} of {}: {e}", d.rank(), d.size());
        d.abort(1);
    }
    result
}

fn train_and_report(a: Args, dist: Option<&Distributed>) -> Result<()> {
    let chief = dist.is_none_or(Distributed::is_chief);
    // The data first: a missing data set or a failed download is reported before the (slow on a
    // software adapter) device start. In a distributed run rank 0 fetches it first and the
    // others then read what it wrote (they would race on one download otherwise).
    let (mut train, test, synthetic) = match dist {
        Some(d) if d.size() > 1 => {
            let barrier = || d.collective().min_u64(0);
            if d.is_chief() {
                let got = data(&a);
                barrier();
                got
            } else {
                barrier();
                data(&a)
            }
        }
        _ => data(&a),
    }?;
    if let Some(n) = a.limit {
        train = train.truncated(n);
    }
    let dev = match (&a.adapter, dist) {
        (Some(name), _) => Device::with_adapter(AdapterChoice::Named(name.clone()))?,
        (None, Some(d)) => d.device()?,
        (None, None) => Device::new()?,
    };
    match dist {
        Some(d) => println!(
            "process {} of {} ({}), adapter: {}, strategy: {}",
            d.rank(),
            d.size(),
            d.transport(),
            dev.adapter(),
            dev.strategy()
        ),
        None => println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy()),
    }
    // At least 10 images (checked with the flags): a tenth, at least 1, is held out.
    let val = train.split_off(train.len() - (train.len() / 10).max(1));
    if chief {
        println!(
            "data: {} training, {} validation, {} test images{}",
            train.len(),
            val.len(),
            test.len(),
            if synthetic { " (SYNTHETIC: labels follow the colour and a stripe, not CIFAR-10 classes)" } else { "" }
        );
    }
    // CIFAR-10's published channel statistics; any other set's are taken from its images.
    let task = match source(&a)? {
        Source::Cifar10 => ImageTask::cifar10(),
        _ => {
            let (mean, std) = train.channel_stats().unwrap_or_default();
            ImageTask { shape: train.shape(), classes: train.classes().len(), mean, std }
        }
    };
    let mut model = match a.model {
        Arch::Cnn => zoo::cnn(&dev, &task, a.seed)?,
        Arch::Resnet => zoo::resnet(&dev, &task, a.seed)?,
    }
    .with_seed(a.seed);
    if a.mixed_precision {
        model.set_policy(Policy::mixed_float16())?;
    }
    if chief {
        println!("{}", model.summary());
    }
    model.compile(
        optimizer(&a),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    )?;
    if let Some(d) = dist {
        // Every process checks it built rank 0's model and takes rank 0's weights.
        model.distribute(d)?;
    }

    // batch_size >= 1 (checked with the flags); saturating: a huge --epochs must not overflow.
    let steps = train.len().div_ceil(a.batch_size).saturating_mul(a.epochs) as u64;
    let mut o = FitOptions {
        epochs: a.epochs,
        batch_size: a.batch_size,
        verbose: !a.quiet,
        log_every: 20,
        ..Default::default()
    };
    if a.augment {
        o.augment = Some(AugmentOptions {
            // A crop of an eighth of the side; no mirrored digits (a flipped 2 is no 2).
            pad: (task.shape[1] / 8).max(1),
            flip_horizontal: a.dataset != "mnist",
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
    let loader = DataLoader::new(train, a.batch_size)?.shuffle(a.seed).workers(2);
    let val_loader = DataLoader::new(val, 256)?;
    let t0 = Instant::now();
    let history = model.fit_loader(&loader, Some(&val_loader), o)?;
    if let Some(why) = &history.stop_reason {
        // The weights are likely NaN: no test report, and a failing exit status. `best/` holds
        // only an epoch from before (ModelCheckpoint never saves a non-finite epoch).
        return Err(TrainError::config(
            "training",
            format!("stopped: {why}; no checkpoint was saved from that epoch on (try a lower --lr)"),
        ));
    }
    let secs = t0.elapsed().as_secs_f64();
    // Every process went through every global batch (its shard of each): these are the run's
    // images, whatever the number of processes.
    let images = train_n * history.epochs.len();
    if !chief {
        return Ok(());
    }
    let processes = dist.map_or(String::new(), |d| format!(" on {} processes", d.size()));
    println!(
        "trained {} epochs in {secs:.1}s{processes}: {:.1} images/s (with validation)",
        history.epochs.len(),
        images as f64 / secs
    );
    if let Some(c) = dist.map(|_| model.take_comm_stats()) {
        let steps = train_n.div_ceil(a.batch_size).saturating_mul(history.epochs.len()).max(1) as f64;
        println!(
            "per step: compute to the end of backward {:.2} ms; communication: read-back {:.2} ms, all-reduce {:.2} ms, write-back {:.2} ms, {:.2} MiB summed",
            c.backward_wait.as_secs_f64() * 1e3 / steps,
            c.read_back.as_secs_f64() * 1e3 / steps,
            c.all_reduce.as_secs_f64() * 1e3 / steps,
            c.write_back.as_secs_f64() * 1e3 / steps,
            c.bytes as f64 / steps / (1 << 20) as f64
        );
    }
    if a.plot {
        let png = a.out.join("curves.png");
        // A chart is a convenience: failing to draw it must not lose the test-set report.
        match plot_history(&history, &png) {
            Ok(()) => println!("training curves: {}", png.display()),
            Err(e) => eprintln!("warning: no training curves: {e}"),
        }
    }

    // Test set: accuracy and the per-class table.
    let classes = test.classes().to_vec();
    let test_loader = DataLoader::new(test, 256)?;
    let mut cm = ConfusionMatrix::new(classes.len());
    for batch in test_loader.iter(0) {
        let (x, y) = batch?.to_device(&dev)?;
        let logits = model.predict(&x, 256)?;
        cm.update(&logits, &y)?;
    }
    println!("test accuracy: {:.4}", cm.result()?);
    println!("{:<12} {:>9} {:>9} {:>9} {:>8}", "class", "precision", "recall", "f1", "support");
    for (class, (p, r, f, n)) in classes.iter().zip(cm.per_class()?) {
        println!("{class:<12} {p:>9.3} {r:>9.3} {f:>9.3} {n:>8}");
    }
    println!("best checkpoint: {}; logs: {}", best.display(), a.out.display());
    Ok(())
}
