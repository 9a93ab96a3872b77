//! The CIFAR-10 trainer's path end to end on a small synthetic set in CIFAR's binary format:
//! files -> the real reader -> DataLoader -> GPU augmentation -> the `cnn` -> a checkpoint.

use wgtrain::data::cifar10::{Cifar10, Split};
use wgtrain::models::zoo;
use wgtrain::prelude::*;

#[test]
fn the_cnn_learns_synthetic_cifar_through_the_real_loader_and_checkpoints() {
    let dev = Device::new().unwrap();
    let dir = std::env::temp_dir().join(format!("wgtrain-trainer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Cifar10::synthetic(192, 1).unwrap().write_binary(&Cifar10::synthetic(64, 2).unwrap(), &dir).unwrap();
    let train = Cifar10::load(&dir, Split::Train).unwrap();
    let test = Cifar10::load(&dir, Split::Test).unwrap();

    let mut model = zoo::cifar10_cnn(&dev, 3).unwrap().with_seed(4);
    model.compile(
        Adam::new(2e-3),
        SparseCategoricalCrossEntropy::from_logits(),
        vec![Box::new(SparseCategoricalAccuracy::new())],
    );
    let test_loader = DataLoader::new(test, 64);
    let initial = model.evaluate_loader(&test_loader).unwrap().get("loss").unwrap();
    let best = dir.join("best");
    let mut o = FitOptions { epochs: 4, verbose: false, log_every: 3, ..Default::default() };
    o.augment = Some(AugmentOptions { pad: 2, flip_horizontal: true, ..Default::default() });
    o.callbacks.push(Box::new(ModelCheckpoint::new(&best.display().to_string()).monitor("loss").save_best_only(true)));
    let loader = DataLoader::new(train, 32).shuffle(5).workers(2);
    let h = model.fit_loader(&loader, None, o).unwrap();
    let last = *h.get("loss").last().unwrap();
    assert!(last < initial / 2.0, "training loss {:?} against an initial test loss {initial}", h.get("loss"));

    // The best checkpoint was written; a saved checkpoint reloads to identical predictions.
    assert!(best.join("training.json").is_file() && best.join("weights.safetensors").is_file());
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
