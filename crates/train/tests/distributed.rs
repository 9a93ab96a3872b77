//! Data parallelism on MPI, under `mpirun -np 2` on one adapter (lavapipe in CI).
//!
//! Each test runs twice: as itself (the parent), and as a worker under `mpirun` (this test
//! binary again, the same test, with `WGTRAIN_DIST_OUT` set). The workers train and write what
//! they saw, one JSON file per rank; the parent checks the files and mpirun's exit status.
//!
//! - An MLP with dropout and a small CNN with dropout and batch norm train for a few hundred
//!   steps: (a) the two ranks' weights are bit-identical after every step; (b) the MLP's weights
//!   match one process trained on the same global batches within a tolerance (see
//!   `MLP_TOLERANCE`); the CNN's batch norm uses per-rank statistics (as Horovod's and DDP's
//!   do), which is another computation than one process's, so its loss and accuracy are
//!   compared instead; (c) a distributed run interrupted after two epochs and resumed from its
//!   backup ends with the uninterrupted run's weights, bit for bit.
//!   Both ranks log the same (global) loss and accuracy, and only rank 0 writes the CSV log.
//! - `fit_loader`, a custom loop with a `DistributedOptimizer`, and mixed precision (the loss
//!   scale's skip decided alike on both ranks) keep the replicas identical and learn as one
//!   process does; the distributed CIFAR-10 trainer runs.
//! - Without mpirun a process is a world of one, training exactly as alone.
//! - Bad setups fail on every rank, never hang: ranks that built different models, a global
//!   batch that does not divide, a rank that dies mid-run (mpirun ends the others), and a rank
//!   whose training fails alone (the run aborts).
#![cfg(feature = "distributed")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wgtrain::data::Label;
use wgtrain::distributed::{Distributed, DistributedOptimizer};
use wgtrain::prelude::*;

/// The CIFAR-10 trainer (`examples/cifar10.rs`) as a module, run distributed by a worker.
#[allow(dead_code)]
#[path = "../../../examples/cifar10.rs"]
mod trainer_bin;

const RANKS: usize = 2;

/// The MLP's largest weight difference from one process's run after 240 Adam steps (measured
/// 2.4e-7 on lavapipe, 2026-12-07): the ranks sum two half-batch gradients weighted 1/2 where
/// one process takes one mean over the batch, a different rounding of the same sum, which
/// Adam's normalised steps carry but do not amplify on this smooth problem.
const MLP_TOLERANCE: f32 = 1e-5;

/// Whether this process is a worker under mpirun, and where it writes.
fn worker_out() -> Option<PathBuf> {
    std::env::var_os("WGTRAIN_DIST_OUT").map(PathBuf::from)
}

/// Runs `test` of this binary as a worker under `mpirun -np 2` with `mode`, writing into a fresh
/// folder; returns the folder, mpirun's exit success and its output. Fails past `limit`.
fn mpirun(test: &str, mode: &str, out: &Path, limit: Duration) -> (bool, String) {
    std::fs::create_dir_all(out).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np", &RANKS.to_string()])
        .args(["-x", "WGTRAIN_DIST_OUT", "-x", "WGTRAIN_DIST_MODE", "-x", "WGTRAIN_ADAPTER"])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env("WGTRAIN_DIST_OUT", out)
        .env("WGTRAIN_DIST_MODE", mode)
        .env("WGTRAIN_ADAPTER", std::env::var("WGTRAIN_ADAPTER").unwrap_or_else(|_| "vulkan".into()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mpirun (the README's test command installs Open MPI)");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let o = child.wait_with_output().unwrap();
            let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
            return (status.success(), text);
        }
        if start.elapsed() > limit {
            // SIGTERM first: mpirun passes it on to its processes (a SIGKILL would orphan them).
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            std::thread::sleep(Duration::from_secs(3));
            let _ = child.kill();
            panic!("mpirun {test} ({mode}) still ran after {limit:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wgtrain-dist-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read_rank(out: &Path, rank: usize) -> Value {
    let path = out.join(format!("rank{rank}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Every parameter's values, in order.
fn weights(model: &Model) -> Vec<Vec<f32>> {
    model.params().iter().map(|p| p.var.to_vec().unwrap()).collect()
}

/// A hash of every parameter's bits (FNV-1a), for the per-step comparison.
fn weight_hash(model: &Model) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for w in weights(model) {
        for v in w {
            for b in v.to_bits().to_le_bytes() {
                h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    h
}

/// Records the weights' hash after every step.
struct StepHashes(std::sync::Arc<std::sync::Mutex<Vec<u64>>>);

impl Callback for StepHashes {
    fn on_train_batch_end(&mut self, model: &mut Model, _: usize, _: &Logs) -> wgtrain::Result<()> {
        self.0.lock().unwrap().push(weight_hash(model));
        Ok(())
    }
}

/// Fails the run as it starts epoch `at` (on every rank alike): an interruption after the
/// backup of epoch `at - 1`.
struct Interrupt(usize);

impl Callback for Interrupt {
    fn on_epoch_begin(&mut self, _: &mut Model, epoch: usize) -> wgtrain::Result<()> {
        if epoch == self.0 { Err(TrainError::config("test", "interrupted")) } else { Ok(()) }
    }
}

/// Ends the process abruptly at step `at` on `rank` (a crash, without MPI's finalize).
struct Die {
    rank: usize,
    at: usize,
}

impl Callback for Die {
    fn on_train_batch_end(&mut self, model: &mut Model, batch: usize, _: &Logs) -> wgtrain::Result<()> {
        if batch == self.at && model.distribution().is_some_and(|d| d.rank() == self.rank) {
            std::process::exit(3);
        }
        Ok(())
    }
}

/// Fails the run at step `at` on `rank` only.
struct FailAlone {
    rank: usize,
    at: usize,
}

impl Callback for FailAlone {
    fn on_train_batch_end(&mut self, model: &mut Model, batch: usize, _: &Logs) -> wgtrain::Result<()> {
        if batch == self.at && model.distribution().is_some_and(|d| d.rank() == self.rank) {
            return Err(TrainError::config("test", "this rank failed alone"));
        }
        Ok(())
    }
}

/// Two Gaussian blobs per class in 2-D, three classes: learnable, not trivially.
fn blobs(dev: &Device, n: usize, seed: u64) -> (Tensor, Tensor) {
    let x = Tensor::rand_uniform(dev, &[n, 2], -1.0, 1.0, seed).unwrap();
    let v = x.to_vec::<f32>().unwrap();
    let labels: Vec<u32> = v
        .chunks(2)
        .map(|p| {
            if p[0] * p[1] > 0.1 {
                0
            } else if p[0] > p[1] {
                1
            } else {
                2
            }
        })
        .collect();
    (x, Tensor::from_slice(dev, &labels, &[n]).unwrap())
}

/// Small images whose class is the quadrant holding the bright blob.
fn quadrant_images(dev: &Device, n: usize, seed: u64) -> (Tensor, Tensor) {
    let noise = Tensor::rand_uniform(dev, &[n, 1, 8, 8], 0.0, 0.3, seed).unwrap().to_vec::<f32>().unwrap();
    let mut x = noise;
    let mut y = Vec::new();
    for i in 0..n {
        let class = (i * 7 + seed as usize) % 4;
        let (r0, c0) = ((class / 2) * 4, (class % 2) * 4);
        for r in r0 + 1..r0 + 3 {
            for c in c0 + 1..c0 + 3 {
                x[i * 64 + r * 8 + c] += 1.0;
            }
        }
        y.push(class as u32);
    }
    (Tensor::from_slice(dev, &x, &[n, 1, 8, 8]).unwrap(), Tensor::from_slice(dev, &y, &[n]).unwrap())
}

/// The MLP, its initializers seeded by `seed` (the ranks pass different ones: `distribute`
/// must replace them with rank 0's weights).
fn mlp(dev: &Device, seed: u64, width: usize) -> Sequential {
    Sequential::new(dev, &[2])
        .seed(seed)
        .add(Dense::new(width).relu())
        .and_then(|s| s.add(Dropout::new(0.2)))
        .and_then(|s| s.add(Dense::new(3)))
        .unwrap()
}

fn cnn(dev: &Device, seed: u64) -> Sequential {
    Sequential::new(dev, &[1, 8, 8])
        .seed(seed)
        .add(Conv2d::new(4, [3, 3]))
        .and_then(|s| s.add(BatchNorm::new()))
        .and_then(|s| s.add(ActivationLayer::new(Activation::Relu)))
        .and_then(|s| s.add(MaxPool2d::new([2, 2])))
        .and_then(|s| s.add(Flatten::new()))
        .and_then(|s| s.add(Dropout::new(0.2)))
        .and_then(|s| s.add(Dense::new(4)))
        .unwrap()
}

fn compiled(net: Sequential, seed: u64) -> Model {
    let mut model = Model::new(net).with_seed(seed);
    let metrics: Vec<Box<dyn Metric>> = vec![Box::new(SparseCategoricalAccuracy::new())];
    model.compile(Adam::new(0.01), SparseCategoricalCrossEntropy::from_logits(), metrics).unwrap();
    model
}

/// What a run of `which` ("mlp" or "cnn") trains on, for `epochs`.
struct Task {
    data: (Tensor, Tensor),
    epochs: usize,
    batch: usize,
}

fn task(dev: &Device, which: &str) -> Task {
    match which {
        // 256 samples / 16 = 16 steps an epoch, 15 epochs: 240 steps.
        "mlp" => Task { data: blobs(dev, 256, 5), epochs: 15, batch: 16 },
        // 128 / 16 = 8 steps an epoch, 25 epochs: 200 steps.
        _ => Task { data: quadrant_images(dev, 128, 6), epochs: 25, batch: 16 },
    }
}

fn network(dev: &Device, which: &str, init_seed: u64) -> Sequential {
    if which == "mlp" { mlp(dev, init_seed, 32) } else { cnn(dev, init_seed) }
}

/// The worker's side of every test: trains (or fails) as `WGTRAIN_DIST_MODE` says and writes
/// `rank<r>.json` into `out`.
fn worker(out: &Path) {
    let mode = std::env::var("WGTRAIN_DIST_MODE").unwrap();
    if mode == "trainer" {
        // The trainer initialises MPI itself.
        return run_trainer(out);
    }
    let dist = Distributed::init().unwrap();
    let dev = dist.device().unwrap();
    let rank = dist.rank();
    let write = |v: Value| std::fs::write(out.join(format!("rank{rank}.json")), v.to_string()).unwrap();
    let (which, rest) = mode.split_once(':').unwrap_or((mode.as_str(), ""));
    let t = task(&dev, which);
    // Every rank seeds its initializers differently; `distribute` must make them rank 0's.
    let width = if rest == "mismatch" && rank == 1 { 33 } else { 32 };
    let net =
        if which == "mlp" { mlp(&dev, 100 + rank as u64, width) } else { network(&dev, which, 100 + rank as u64) };
    if rest == "custom" {
        return write(custom_loop(&dev, Some(&dist)));
    }
    let mut model = compiled(net, 7 + rank as u64);
    if rest == "mixed" {
        model.set_policy(Policy::mixed_float16()).unwrap();
    }
    if let Err(e) = model.distribute(&dist) {
        return write(json!({ "error": e.to_string() }));
    }
    let hashes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut callbacks: Vec<Box<dyn Callback>> = vec![Box::new(StepHashes(hashes.clone()))];
    let batch = if rest == "odd_batch" { 15 } else { t.batch };
    if rest == "die" {
        callbacks.push(Box::new(Die { rank: 1, at: 3 }));
    }
    if rest == "fails" {
        callbacks.push(Box::new(FailAlone { rank: 1, at: 3 }));
    }
    if rest.is_empty() {
        callbacks.push(Box::new(CsvLogger::new(out.join("log.csv"))));
    }
    if let Some(backup) = rest.strip_prefix("resume=") {
        callbacks.push(Box::new(BackupAndRestore::new(backup)));
        if !Path::new(backup).join("training.json").exists() {
            callbacks.push(Box::new(Interrupt(2)));
        }
    }
    let o = FitOptions { epochs: t.epochs, batch_size: batch, callbacks, verbose: false, ..Default::default() };
    let result = if rest == "loader" {
        let loader = blob_loader(&t.data, batch);
        model.fit_loader(&loader, None, o)
    } else {
        model.fit(&t.data.0, &t.data.1, o)
    };
    let stats = model.take_comm_stats();
    match result {
        Err(e) => write(json!({ "error": e.to_string() })),
        Ok(h) => write(json!({
            "hashes": *hashes.lock().unwrap(),
            "weights": weights(&model),
            "loss": h.get("loss"),
            "accuracy": h.get("accuracy"),
            "transport": dist.transport(),
            "comm": { "backward_wait_s": stats.backward_wait.as_secs_f64(), "read_back_s": stats.read_back.as_secs_f64(), "all_reduce_s": stats.all_reduce.as_secs_f64(),
                      "write_back_s": stats.write_back.as_secs_f64(), "bytes": stats.bytes, "buckets": stats.buckets },
        })),
    }
}

/// The MLP's data as a shuffling loader of global batches of `batch`.
fn blob_loader(data: &(Tensor, Tensor), batch: usize) -> DataLoader {
    let x = data.0.to_vec::<f32>().unwrap();
    let labels = data.1.to_vec::<u32>().unwrap().into_iter().map(Label::Class).collect();
    DataLoader::new(InMemory::new(x, &[2], labels).unwrap(), batch).unwrap().shuffle(9)
}

/// Linear regression by hand (Vars, an SGD with momentum in a `DistributedOptimizer`), each
/// process taking its half of every global batch of 16; one process (`None`) takes it whole.
/// Returns the final weights and loss.
fn custom_loop(dev: &Device, dist: Option<&Distributed>) -> Value {
    let n = 128;
    let x = Tensor::rand_uniform(dev, &[n, 3], -1.0, 1.0, 11).unwrap();
    let truth = Tensor::from_slice(dev, &[0.5f32, -2.0, 1.0], &[3, 1]).unwrap();
    let y = x.matmul(&truth).unwrap().add_scalar(0.3).unwrap();
    let w = Var::parameter(Tensor::zeros(dev, &[3, 1], DType::F32).unwrap());
    let b = Var::parameter(Tensor::zeros(dev, &[1], DType::F32).unwrap());
    let params = vec![Param::new("w", w.clone()), Param::new("b", b.clone())];
    let sgd = Sgd::new(0.1).momentum(0.9);
    let mut opt: Box<dyn Optimizer> = match dist {
        Some(d) => Box::new(DistributedOptimizer::new(sgd, d)),
        None => Box::new(sgd),
    };
    let (rank, size) = dist.map_or((0, 1), |d| (d.rank(), d.size()));
    let mut loss = 0.0;
    for epoch in 0..10 {
        for start in (0..n).step_by(16) {
            let (lo, hi) = (start + 16 * rank / size, start + 16 * (rank + 1) / size);
            let xb = Var::constant(x.slice(0, lo, hi, 1).unwrap());
            let yb = Var::constant(y.slice(0, lo, hi, 1).unwrap());
            let err = xb.matmul(&w).unwrap().add(&b).unwrap().sub(&yb).unwrap();
            let l = err.square().unwrap().mean_all().unwrap();
            l.backward().unwrap();
            opt.step(&params).unwrap();
            params.iter().for_each(|p| p.var.zero_grad());
            if epoch == 9 {
                loss = l.item().unwrap();
            }
        }
    }
    json!({ "weights": [w.to_vec().unwrap(), b.to_vec().unwrap()], "loss": loss })
}

/// The distributed CIFAR-10 trainer on a little synthetic data, its output kept by mpirun.
fn run_trainer(out: &Path) {
    use clap::Parser;
    let run = out.join("run");
    let flags =
        ["--distributed", "--synthetic", "60", "--epochs", "1", "--batch-size", "10", "--quiet", "--plot", "false"];
    let mut args: Vec<String> = std::iter::once("cifar10").chain(flags).map(String::from).collect();
    args.extend([
        "--out".into(),
        run.display().to_string(),
        "--data".into(),
        out.join("no-data").display().to_string(),
    ]);
    trainer_bin::run(trainer_bin::Args::try_parse_from(args).unwrap()).unwrap();
}

/// One process trained on the same global batches, its weights and logs.
fn single_process(which: &str) -> (Vec<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let dev = Device::new().unwrap();
    let (which, loader) = match which.strip_suffix(":loader") {
        Some(w) => (w, true),
        None => (which, false),
    };
    let t = task(&dev, which);
    let mut model = compiled(network(&dev, which, 100), 7);
    let o = FitOptions { epochs: t.epochs, batch_size: t.batch, verbose: false, ..Default::default() };
    let h = match loader {
        true => model.fit_loader(&blob_loader(&t.data, t.batch), None, o).unwrap(),
        false => model.fit(&t.data.0, &t.data.1, o).unwrap(),
    };
    (weights(&model), h.get("loss"), h.get("accuracy"))
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn nested(v: &Value) -> Vec<Vec<f32>> {
    v.as_array().unwrap().iter().map(floats).collect()
}

/// (a): the ranks' weights agree bit for bit after every step; returns rank 0's file.
fn ranks_agree(out: &Path, what: &str) -> Value {
    let (r0, r1) = (read_rank(out, 0), read_rank(out, 1));
    assert!(r0["error"].is_null() && r1["error"].is_null(), "{what}: {r0} {r1}");
    let steps = r0["hashes"].as_array().unwrap().len();
    assert!(steps >= 200, "{what}: {steps} steps");
    assert_eq!(r0["hashes"], r1["hashes"], "{what}: the ranks' weights differ after some step");
    assert_eq!(r0["weights"], r1["weights"]);
    assert_eq!((&r0["loss"], &r0["accuracy"]), (&r1["loss"], &r1["accuracy"]), "{what}: both log the global figures");
    r0
}

/// The largest difference between two sets of weights.
fn largest_difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn an_mlp_with_dropout_trains_on_two_processes_as_on_one() {
    if let Some(out) = worker_out() {
        return worker(&out);
    }
    let out = scratch("mlp");
    let (ok, log) =
        mpirun("an_mlp_with_dropout_trains_on_two_processes_as_on_one", "mlp", &out, Duration::from_secs(300));
    assert!(ok, "{log}");
    let r0 = ranks_agree(&out, "mlp");
    eprintln!("transport {}, communication {}", r0["transport"], r0["comm"]);
    let (want, loss, acc) = single_process("mlp");
    let got = nested(&r0["weights"]);
    let worst = got.iter().flatten().zip(want.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    eprintln!("mlp: largest weight difference from one process {worst:e}; loss {:?} vs {loss:?}", floats(&r0["loss"]));
    assert!(worst <= MLP_TOLERANCE, "weights differ from one process's by {worst}");
    let (l2, a2) = (floats(&r0["loss"]), floats(&r0["accuracy"]));
    assert!((l2.last().unwrap() - loss.last().unwrap()).abs() < 1e-2, "{l2:?} vs {loss:?}");
    assert!(*a2.last().unwrap() > 0.8 && (a2.last().unwrap() - acc.last().unwrap()).abs() < 0.02, "{a2:?} vs {acc:?}");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_cnn_with_batch_norm_and_dropout_keeps_its_replicas_identical_and_resumes_exactly() {
    if let Some(out) = worker_out() {
        return worker(&out);
    }
    let test = "a_cnn_with_batch_norm_and_dropout_keeps_its_replicas_identical_and_resumes_exactly";
    let out = scratch("cnn");
    let (ok, log) = mpirun(test, "cnn", &out, Duration::from_secs(300));
    assert!(ok, "{log}");
    let r0 = ranks_agree(&out, "cnn");
    let csv = std::fs::read_to_string(out.join("log.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 25, "one header and one row an epoch, from rank 0 alone:\n{csv}");
    // Per-rank batch statistics: not one process's computation, but as good a learner.
    let (_, loss, acc) = single_process("cnn");
    let (l2, a2) = (floats(&r0["loss"]), floats(&r0["accuracy"]));
    eprintln!("cnn: loss {l2:?}\n  one process {loss:?}; accuracy {a2:?} vs {acc:?}");
    assert!(*a2.last().unwrap() >= 0.95 && *acc.last().unwrap() >= 0.95, "{a2:?} {acc:?}");
    // (c) Interrupted after epoch 2, then resumed from the backup by a second mpirun.
    let resumed = scratch("cnn-resumed");
    let backup = resumed.join("backup");
    let mode = format!("cnn:resume={}", backup.display());
    let (ok, log) = mpirun(test, &mode, &resumed, Duration::from_secs(300));
    // An error during a distributed fit ends every process: the run stops like a crash.
    assert!(!ok && log.contains("interrupted"), "{log}");
    assert!(!resumed.join("rank0.json").exists());
    assert!(backup.join("training.json").exists(), "rank 0 wrote the backup");
    let (ok, log) = mpirun(test, &mode, &resumed, Duration::from_secs(300));
    assert!(ok, "{log}");
    let again = ranks_agree_resumed(&resumed);
    assert_eq!(again["weights"], r0["weights"], "the resumed run ends where the uninterrupted one did");
    let _ = std::fs::remove_dir_all(out);
    let _ = std::fs::remove_dir_all(resumed);
}

/// The resumed run's ranks agree (it ran only the steps after the backup).
fn ranks_agree_resumed(out: &Path) -> Value {
    let (r0, r1) = (read_rank(out, 0), read_rank(out, 1));
    assert!(r0["error"].is_null(), "{r0}");
    assert_eq!(r0["hashes"], r1["hashes"]);
    assert_eq!(r0["weights"], r1["weights"]);
    r0
}

#[test]
fn bad_setups_fail_on_every_rank_and_never_hang() {
    if let Some(out) = worker_out() {
        return worker(&out);
    }
    let test = "bad_setups_fail_on_every_rank_and_never_hang";
    // Rank 1 built a wider hidden layer.
    let out = scratch("mismatch");
    let (ok, log) = mpirun(test, "mlp:mismatch", &out, Duration::from_secs(120));
    assert!(ok, "{log}");
    for rank in 0..RANKS {
        let e = read_rank(&out, rank)["error"].as_str().unwrap_or_default().to_string();
        assert!(
            e.contains("rank 1's model differs") && e.contains("[2, 32]") && e.contains("[2, 33]"),
            "rank {rank}: {e}"
        );
    }
    // A global batch of 15 for 2 processes.
    let out = scratch("odd");
    let (ok, log) = mpirun(test, "mlp:odd_batch", &out, Duration::from_secs(120));
    assert!(ok, "{log}");
    for rank in 0..RANKS {
        let e = read_rank(&out, rank)["error"].as_str().unwrap_or_default().to_string();
        assert!(e.contains("batch_size 15") && e.contains("2 processes"), "rank {rank}: {e}");
    }
    // Rank 1 dies at its fourth step: mpirun ends rank 0, which would wait for it forever.
    let out = scratch("die");
    let t0 = Instant::now();
    let (ok, log) = mpirun(test, "mlp:die", &out, Duration::from_secs(120));
    assert!(!ok, "mpirun reports the dead rank: {log}");
    assert!(!out.join("rank0.json").exists(), "rank 0 did not finish training alone");
    eprintln!("a dead rank ended the run in {:.1} s", t0.elapsed().as_secs_f64());
    // Rank 1's training fails alone at its fourth step: it ends the run.
    let out = scratch("fails");
    let (ok, log) = mpirun(test, "mlp:fails", &out, Duration::from_secs(120));
    assert!(!ok && log.contains("this rank failed alone") && log.contains("process 1 of 2"), "{log}");
    assert!(!out.join("rank0.json").exists(), "rank 0 did not finish training alone");
    for dir in ["mismatch", "odd", "die", "fails"] {
        let _ = std::fs::remove_dir_all(scratch(dir));
    }
}

#[test]
fn a_loader_a_custom_loop_and_mixed_precision_train_data_parallel() {
    if let Some(out) = worker_out() {
        return worker(&out);
    }
    let test = "a_loader_a_custom_loop_and_mixed_precision_train_data_parallel";
    // fit_loader: the loader's global batches, sharded.
    let out = scratch("loader");
    let (ok, log) = mpirun(test, "mlp:loader", &out, Duration::from_secs(300));
    assert!(ok, "{log}");
    let r0 = ranks_agree(&out, "loader");
    let (want, _, _) = single_process("mlp:loader");
    let worst = largest_difference(&nested(&r0["weights"]), &want);
    assert!(worst <= MLP_TOLERANCE, "fit_loader: weights differ from one process's by {worst}");
    // A custom loop with a DistributedOptimizer.
    let out = scratch("custom");
    let (ok, log) = mpirun(test, "mlp:custom", &out, Duration::from_secs(120));
    assert!(ok, "{log}");
    let (c0, c1) = (read_rank(&out, 0), read_rank(&out, 1));
    assert_eq!(c0["weights"], c1["weights"], "the custom loop's replicas agree");
    let alone = custom_loop(&Device::new().unwrap(), None);
    let worst = largest_difference(&nested(&c0["weights"]), &nested(&alone["weights"]));
    assert!(worst <= 1e-5 && c0["loss"].as_f64().unwrap() < 1e-3, "custom loop: {worst}, {c0}");
    // Mixed precision: scaled gradients summed, then unscaled alike on both ranks.
    let out = scratch("mixed");
    let (ok, log) = mpirun(test, "mlp:mixed", &out, Duration::from_secs(300));
    assert!(ok, "{log}");
    let m0 = ranks_agree(&out, "mixed");
    assert!(*floats(&m0["accuracy"]).last().unwrap() > 0.8, "{}", m0["accuracy"]);
    // The distributed trainer.
    let out = scratch("trainer");
    let (ok, log) = mpirun(test, "trainer", &out, Duration::from_secs(300));
    assert!(ok, "{log}");
    for says in ["process 0 of 2", "process 1 of 2", "on 2 processes", "images/s", "per step: compute", "test accuracy"]
    {
        assert!(log.contains(says), "no {says:?} in the trainer's output:\n{log}");
    }
    assert_eq!(log.matches("test accuracy").count(), 1, "rank 0 alone reports:\n{log}");
    for dir in ["loader", "custom", "mixed", "trainer"] {
        let _ = std::fs::remove_dir_all(scratch(dir));
    }
}

#[test]
fn without_mpirun_a_process_is_a_world_of_one() {
    if let Some(out) = worker_out() {
        return worker(&out);
    }
    let out = scratch("alone");
    std::fs::create_dir_all(&out).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["without_mpirun_a_process_is_a_world_of_one", "--exact", "--test-threads", "1"])
        .env("WGTRAIN_DIST_OUT", &out)
        .env("WGTRAIN_DIST_MODE", "mlp")
        .status()
        .unwrap();
    assert!(status.success());
    let r0 = read_rank(&out, 0);
    assert!(r0["error"].is_null(), "{r0}");
    assert!(!out.join("rank1.json").exists());
    // Alone, it trains exactly as a model never distributed (rank 0's initializers are its own).
    let (want, _, _) = single_process("mlp");
    assert_eq!(largest_difference(&nested(&r0["weights"]), &want), 0.0);
    assert_eq!(r0["comm"]["bytes"].as_u64(), Some(0), "a world of one sums nothing: {}", r0["comm"]);
    let _ = std::fs::remove_dir_all(out);
}
