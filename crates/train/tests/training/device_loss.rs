//! Device loss (issue 20, item 12): when the GPU is lost mid-training (a driver reset, or
//! `Device::simulate_loss` here), `fit` fails with an error that says what happened and what
//! to do, the last checkpoint is intact, and a new device resumes from it.

use wgtrain::prelude::*;

use crate::harness::scratch;

fn model(dev: &Device) -> Model {
    let net = Sequential::new(dev, &[3]).seed(2).add(Dense::new(8).relu()).and_then(|s| s.add(Dense::new(2))).unwrap();
    let mut m = Model::new(net).with_seed(2);
    m.compile(Adam::new(0.01), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    m
}

fn data(dev: &Device) -> (Tensor, Tensor) {
    let x = Tensor::rand_uniform(dev, &[64, 3], -1.0, 1.0, 8).unwrap();
    let y = x.sum(&[1], false).unwrap().gt_scalar(0.0).unwrap().cast(DType::U32).unwrap();
    (x, y)
}

/// Loses the model's device as `epoch` begins.
struct LoseDeviceAt(usize);

impl Callback for LoseDeviceAt {
    fn on_epoch_begin(&mut self, model: &mut Model, epoch: usize) -> wgtrain::Result<()> {
        if epoch == self.0 {
            model.device().simulate_loss();
        }
        Ok(())
    }
}

fn epochs_done(dir: &std::path::Path) -> u64 {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("training.json")).unwrap()).unwrap();
    meta["epochs_done"].as_u64().unwrap()
}

#[test]
fn a_lost_device_stops_fit_with_a_clear_error_and_the_backup_resumes_on_a_new_one() {
    let dir = scratch("device-loss");
    let opts = |callbacks: Vec<Box<dyn Callback>>| FitOptions {
        epochs: 4,
        batch_size: 16,
        verbose: false,
        callbacks,
        ..Default::default()
    };
    let lost = Device::new().unwrap();
    let (x, y) = data(&lost);
    let mut m = model(&lost);
    let cbs: Vec<Box<dyn Callback>> = vec![Box::new(BackupAndRestore::new(&dir)), Box::new(LoseDeviceAt(2))];
    let err = m.fit(&x, &y, opts(cbs)).expect_err("training on a lost device must fail");
    let msg = err.to_string();
    assert!(msg.contains("device was lost") && msg.contains("checkpoint"), "{msg}");
    // Every later call on that device fails the same way, at once.
    assert!(Tensor::zeros(&lost, &[2], DType::F32).unwrap_err().to_string().contains("device was lost"));
    assert!(m.predict(&x, 16).unwrap_err().to_string().contains("device was lost"));
    // The backup holds the last finished epoch, and a new device resumes from it.
    assert_eq!(epochs_done(&dir), 2);
    let fresh = Device::new().unwrap();
    let (x, y) = data(&fresh);
    let mut again = model(&fresh);
    let history = again.fit(&x, &y, opts(vec![Box::new(BackupAndRestore::new(&dir))])).unwrap();
    assert_eq!(history.epochs, vec![2, 3]);
    assert!(!dir.join("training.json").exists(), "the finished run removes its backup");
}
