//! The CIFAR-10 trainer's path end to end on a small synthetic set in CIFAR's binary format:
//! files -> the real reader -> DataLoader -> GPU augmentation -> the `cnn` -> a checkpoint; and
//! the trainer itself (`examples/cifar10.rs`): its mirror flag, its help, its data choice.
//! (Its refusals of bad flag values are in `bad_input.rs`.)

use std::time::Duration;

use clap::{CommandFactory, Parser};

use wgtrain::data::cifar10::{Cifar10, Split};
use wgtrain::models::zoo;
use wgtrain::prelude::*;

use super::support::{Reply, refused, scratch, serve, within};
use super::trainer_bin::{self, Args};

#[test]
fn the_cnn_learns_synthetic_cifar_through_the_real_loader_and_checkpoints() {
    let dev = Device::new().unwrap();
    let dir = std::env::temp_dir().join(format!("wgtrain-trainer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Cifar10::synthetic(192, 1).unwrap().write_binary(&Cifar10::synthetic(64, 2).unwrap(), &dir).unwrap();
    let train = Cifar10::load(&dir, Split::Train).unwrap();
    let test = Cifar10::load(&dir, Split::Test).unwrap();

    let mut model = zoo::cifar10_cnn(&dev, 3).unwrap().with_seed(4);
    model
        .compile(
            Adam::new(2e-3),
            SparseCategoricalCrossEntropy::from_logits(),
            vec![Box::new(SparseCategoricalAccuracy::new())],
        )
        .unwrap();
    let test_loader = DataLoader::new(test, 64).unwrap();
    let initial = model.evaluate_loader(&test_loader).unwrap().get("loss").unwrap();
    let best = dir.join("best");
    let mut o = FitOptions { epochs: 4, verbose: false, log_every: 3, ..Default::default() };
    o.augment = Some(AugmentOptions { pad: 2, flip_horizontal: true, ..Default::default() });
    o.callbacks.push(Box::new(ModelCheckpoint::new(&best.display().to_string()).monitor("loss").save_best_only(true)));
    let loader = DataLoader::new(train, 32).unwrap().shuffle(5).workers(2);
    let h = model.fit_loader(&loader, None, o).unwrap();
    let last = *h.get("loss").last().unwrap();
    assert!(last < initial / 2.0, "training loss {:?} against an initial test loss {initial}", h.get("loss"));

    // The best checkpoint was written; a saved checkpoint reloads to identical predictions.
    let names: Vec<String> =
        std::fs::read_dir(&best).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.contains(&"training.json".into()) && names.iter().any(|n| n.starts_with("weights-")), "{names:?}");
    let last_ckpt = dir.join("last");
    model.save(&last_ckpt).unwrap();
    let mut reloaded = zoo::cifar10_cnn(&dev, 99).unwrap();
    reloaded.load(&last_ckpt).unwrap();
    let (x, _) = test_loader.iter(0).next().unwrap().unwrap().to_device(&dev).unwrap();
    assert_eq!(
        model.predict(&x, 64).unwrap().to_vec::<f32>().unwrap(),
        reloaded.predict(&x, 64).unwrap().to_vec::<f32>().unwrap()
    );
    // The best checkpoint loads too (into a model of the same architecture).
    zoo::cifar10_cnn(&dev, 7).unwrap().load(&best).unwrap();
}

fn args(flags: &[&str]) -> Args {
    Args::try_parse_from(std::iter::once("cifar10").chain(flags.iter().copied())).unwrap()
}

#[test]
fn the_trainer_fetches_from_data_url_and_a_stall_ends_in_seconds_naming_it() {
    let url = serve(Reply::Silent, 1);
    let dir = scratch("trainer-mirror");
    let a = args(&["--data", dir.to_str().unwrap(), "--data-url", &url, "--download-timeout", "1", "--quiet"]);
    let (got, took) = within(Duration::from_secs(15), move || trainer_bin::run(a).map_err(|e| e.to_string()));
    let msg = got.unwrap_err();
    assert!(msg.contains(&url) && msg.contains("1 s") && msg.contains("--synthetic"), "{msg}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn or_synthetic_falls_back_when_the_mirror_is_unreachable() {
    let dir = scratch("trainer-fallback");
    let a = args(&["--data", dir.to_str().unwrap(), "--data-url", &refused(), "--or-synthetic", "20", "--quiet"]);
    let (train, test, synthetic) = trainer_bin::data(&a).unwrap();
    assert!(synthetic);
    assert_eq!((train.len(), test.len()), (20, 100));
}

#[test]
fn help_lists_the_mirror_flag_and_its_variable() {
    let help = Args::command().render_long_help().to_string();
    for says in ["--data-url <URL>", "WGTRAIN_CIFAR10_URL", "--download-timeout", "at least 1"] {
        assert!(help.contains(says), "no {says:?} in --help:\n{help}");
    }
}

#[cfg(not(feature = "distributed"))]
#[test]
fn distributed_without_the_feature_says_how_to_build_it() {
    let e = trainer_bin::run(args(&["--distributed", "--synthetic", "20", "--quiet"])).unwrap_err().to_string();
    assert!(e.contains("--distributed") && e.contains("--features distributed"), "{e}");
}

#[test]
fn the_trainer_trains_in_mixed_precision() {
    let out = scratch("trainer-mixed");
    let dir = out.to_str().unwrap();
    let a =
        args(&["--synthetic", "40", "--epochs", "2", "--mixed-precision", "--quiet", "--plot", "false", "--out", dir]);
    let (got, _) = within(Duration::from_secs(300), move || trainer_bin::run(a).map_err(|e| e.to_string()));
    got.unwrap();
    let manifest = std::fs::read_to_string(out.join("best").join("training.json")).unwrap();
    assert!(manifest.contains("loss_scale"), "the checkpoint keeps the loss scale: {manifest}");
}

#[test]
fn the_largest_seed_does_not_overflow() {
    let a = args(&["--synthetic", "10", "--seed", &u64::MAX.to_string(), "--quiet"]);
    let (train, test, synthetic) = trainer_bin::data(&a).unwrap();
    assert!(synthetic && train.len() == 10 && test.len() == 100);
}

#[test]
fn a_run_whose_loss_turns_non_finite_fails_and_saves_no_best_checkpoint() {
    // lr 1e30 passes the flag check (a finite positive number) but blows the weights up at the
    // first Adam step: the first epoch's val_loss is non-finite while val_accuracy (of NaN
    // predictions) still looks like a number, which the trainer's best-only checkpoint monitors.
    let out = scratch("trainer-nan");
    let dir = out.to_str().unwrap();
    let a = args(&["--synthetic", "40", "--epochs", "3", "--lr", "1e30", "--quiet", "--plot", "false", "--out", dir]);
    let (got, _) = within(Duration::from_secs(300), move || trainer_bin::run(a).map_err(|e| e.to_string()));
    let msg = got.unwrap_err();
    assert!(msg.contains("stopped") && msg.contains("val_loss") && msg.contains("epoch 1"), "{msg}");
    assert!(!out.join("best").exists(), "a non-finite model was saved as best/");
}

#[test]
fn the_trainer_trains_on_a_folder_of_pictures_and_on_mnist_files() {
    // Two classes of 32x32 pictures, told apart by colour.
    let pictures = scratch("trainer-folder");
    for i in 0..10u8 {
        super::users_data::picture(&pictures.join(format!("red/{i}.png")), 32, 32, [200, 20 + i, 20]);
        super::users_data::picture(&pictures.join(format!("blue/{i}.jpg")), 40, 30, [20, 20 + i, 200]);
    }
    let out = scratch("trainer-folder-out");
    let (folder, out_dir) = (pictures.to_str().unwrap().to_string(), out.to_str().unwrap().to_string());
    let a = args(&["--dataset", &folder, "--epochs", "1", "--quiet", "--plot", "false", "--out", &out_dir]);
    let (train, test, synthetic) = trainer_bin::data(&a).unwrap();
    assert_eq!((train.len(), test.len(), train.shape(), synthetic), (16, 4, [3, 32, 32], false));
    assert_eq!(train.classes(), ["blue", "red"]);
    let (got, _) = within(Duration::from_secs(300), move || trainer_bin::run(a).map_err(|e| e.to_string()));
    got.unwrap();

    // MNIST's IDX files, already in --data: no download.
    let data = scratch("trainer-mnist");
    super::users_data::write_idx(&data, "train", 40, true);
    super::users_data::write_idx(&data, "t10k", 12, false);
    let a =
        args(&["--dataset", "mnist", "--data", data.to_str().unwrap(), "--epochs", "1", "--quiet", "--plot", "false"]);
    let (train, test, _) = trainer_bin::data(&a).unwrap();
    assert_eq!((train.len(), test.len(), train.shape()), (40, 12, [1, 28, 28]));
    let out = scratch("trainer-mnist-out");
    let a = args(&[
        "--dataset",
        "mnist",
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "--quiet",
        "--plot",
        "false",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (got, _) = within(Duration::from_secs(300), move || trainer_bin::run(a).map_err(|e| e.to_string()));
    got.unwrap();

    // What --dataset can't name, and synthetic data for another set, are refused.
    let e = trainer_bin::run(args(&["--dataset", "imagenet", "--quiet"])).unwrap_err().to_string();
    assert!(e.contains("imagenet") && e.contains("fashion-mnist"), "{e}");
    let e = trainer_bin::run(args(&["--dataset", "mnist", "--synthetic", "20", "--quiet"])).unwrap_err().to_string();
    assert!(e.contains("--dataset cifar10"), "{e}");
}
