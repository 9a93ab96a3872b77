//! A checkpoint survives `kill -9` at any moment of `Model::save`: a child process overwrites one
//! checkpoint folder in a loop, each save stamped with its generation `k` in every file (the
//! weights, the optimizer's moments, its step and learning rate in `training.json`), and is
//! killed at a random moment. What loads afterwards must be exactly one complete save: every
//! file agrees on `k`, and `k` is the last save the child finished or the one it was writing.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use wgtrain::layers::Dense;
use wgtrain::models::{Model, Sequential};
use wgtrain::optim::{Adam, OptimizerState};
use wgtrain::prelude::SparseCategoricalCrossEntropy;
use wgtrain::tensor::Tensor;

use crate::harness::{dev, scratch};

/// The env var that turns `save_loop_child` from a no-op into the saving child.
const CHILD_DIR: &str = "WGTRAIN_SAVE_LOOP_DIR";
const TRIALS: usize = 50;

/// Large enough that a save spends a few milliseconds writing (0.5 M parameters, 6 MB with
/// Adam's two moments), small enough that 50 trials take seconds.
fn model() -> Model {
    let net = Sequential::new(dev(), &[256]).add(Dense::new(512)).unwrap().add(Dense::new(10)).unwrap();
    let mut m = Model::new(net);
    m.compile(Adam::new(1e-3), SparseCategoricalCrossEntropy::from_logits(), vec![]).unwrap();
    m
}

/// Sets every weight, both Adam moments, the optimizer step and the learning rate to encode `k`.
fn stamp(m: &mut Model, k: u64) {
    let mut tensors = Vec::new();
    for p in m.params() {
        let full = Tensor::full(dev(), p.var.shape(), k as f32).unwrap();
        p.var.data().assign(&full).unwrap();
        for slot in ["m", "v"] {
            tensors.push((format!("{}/{slot}", p.name), Tensor::full(dev(), p.var.shape(), k as f32).unwrap()));
        }
    }
    let state = OptimizerState {
        kind: "Adam".into(),
        step: k,
        param_steps: Vec::new(),
        hyper: serde_json::Value::Null,
        tensors,
    };
    let opt = m.optimizer().unwrap();
    opt.load_state(&state).unwrap();
    opt.set_learning_rate(k as f32).unwrap();
}

/// The generation every part of a loaded model encodes; panics naming the part that disagrees.
fn generation_of(m: &mut Model) -> u64 {
    let mut seen = Vec::new();
    for p in m.params() {
        let v = p.var.to_vec().unwrap();
        seen.push((format!("weight {}", p.name), v[0], v.iter().all(|x| *x == v[0])));
    }
    let opt = m.optimizer().unwrap();
    let state = opt.state();
    for (name, t) in &state.tensors {
        let v = t.to_vec::<f32>().unwrap();
        seen.push((format!("optimizer {name}"), v[0], v.iter().all(|x| *x == v[0])));
    }
    seen.push(("optimizer step".into(), state.step as f32, true));
    seen.push(("learning rate".into(), opt.learning_rate(), true));
    let k = seen[0].1;
    assert!(seen.iter().all(|(_, v, uniform)| *v == k && *uniform), "a torn checkpoint: {seen:?}");
    k as u64
}

/// The child: saves generations 1, 2, 3, ... into the folder, printing each finished one.
#[test]
#[ignore = "run by checkpoints_survive_kill_9_at_any_moment_of_a_save as a child process"]
fn save_loop_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
    let mut m = model();
    for k in 1.. {
        stamp(&mut m, k);
        m.save(&dir).unwrap();
        println!("saved {k}");
    }
}

#[test]
fn checkpoints_survive_kill_9_at_any_moment_of_a_save() {
    let dir = scratch("kill9");
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(20);
    let mut loaded = model();
    let mut outcomes = Vec::new();
    for trial in 0..TRIALS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "models::checkpoint_crash::save_loop_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait for the child's first save of this trial, then kill it a random moment later.
        let mut finished = 0u64;
        for line in lines.by_ref() {
            if let Some(k) = line.unwrap().strip_prefix("saved ") {
                finished = k.parse().unwrap();
                break;
            }
        }
        assert!(finished >= 1, "trial {trial}: the child never saved");
        let delay = Duration::from_micros(rng.random_range(0..60_000));
        let t0 = Instant::now();
        while t0.elapsed() < delay {}
        child.kill().unwrap();
        for line in lines {
            if let Some(k) = line.unwrap().strip_prefix("saved ") {
                finished = k.parse().unwrap();
            }
        }
        child.wait().unwrap();
        loaded.load(&dir).unwrap_or_else(|e| panic!("trial {trial}: the checkpoint does not load: {e}"));
        let k = generation_of(&mut loaded);
        assert!(
            k == finished || k == finished + 1,
            "trial {trial}: loaded generation {k}, the child had finished {finished}"
        );
        outcomes.push(k - finished);
    }
    // Killed mid-save at least sometimes (else the test proved little), and left no pile of
    // temporary files: one more save tidies the folder down to one generation.
    eprintln!("{} of {TRIALS} kills landed while a save was being committed", outcomes.iter().sum::<u64>());
    loaded.save(&dir).unwrap();
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.len() <= 3, "left behind: {names:?}");
}
