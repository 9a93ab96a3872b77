//! Training-step throughput of the peers' workloads (`shared/PEERS.md`) on whatever adapter
//! wgtrain picks: `cnn_step` (the Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10 CNN, Adam,
//! batch 64) and `mlp_step` (784-256-256-10, Adam, batch 128), each a full `train_step`
//! (forward, loss, backward, optimizer) ending with a device sync; median of repetitions after
//! warm-up. Prints a table and one JSON line per workload with the peers' fields, and the
//! device memory before and after the timed steps (it must not grow).
//!
//! Where the adapter has `SHADER_F16`, each workload runs again under the `mixed_float16`
//! policy (`cnn_step_mixed`, `mlp_step_mixed`). Every run has a device of its own, so its
//! `device_mib` (all the memory its pool created) is its own. Software adapters run f16 on the
//! tiled GEMM (their own GEMMs are f32 only), ten times slower there: their mixed runs warm up
//! with 8 steps and time 3.
//!
//! `cargo run --release -p wgtrain --example train_report` (`-- --quick`: fewer repetitions;
//! `-- --steps N`: N untimed steps first, to check memory stays flat over a long run;
//! `-- --only cnn_step|mlp_step`: one workload; `-- --no-mixed`: f32 only;
//! `WGTRAIN_PROFILE=1`: also rank the kernels of a step by time).

use std::time::Instant;

use wgtrain::prelude::*;

#[path = "report_profile.rs"]
mod report_profile;
use report_profile::print_profile;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median ms of `reps` synced train steps.
fn time_steps(model: &mut Model, x: &Tensor, y: &Tensor, reps: usize) -> Result<f64> {
    let mut t = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t0 = Instant::now();
        model.train_step(x, y)?;
        model.device().synchronize()?;
        t.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(t))
}

fn cnn(dev: &Device, policy: Policy) -> Result<Model> {
    let net = Sequential::new(dev, &[3, 32, 32])
        .add(Conv2d::new(32, [3, 3]).relu())?
        .add(MaxPool2d::new([2, 2]))?
        .add(Conv2d::new(64, [3, 3]).relu())?
        .add(MaxPool2d::new([2, 2]))?
        .add(Conv2d::new(64, [3, 3]).relu())?
        .add(Flatten::new())?
        .add(Dense::new(64).relu())?
        .add(Dense::new(10))?;
    compiled(net, policy)
}

fn mlp(dev: &Device, policy: Policy) -> Result<Model> {
    let net =
        Sequential::new(dev, &[784]).add(Dense::new(256).relu())?.add(Dense::new(256).relu())?.add(Dense::new(10))?;
    compiled(net, policy)
}

fn compiled(net: Sequential, policy: Policy) -> Result<Model> {
    let mut m = Model::new(net);
    m.set_policy(policy)?;
    m.compile(Adam::new(1e-3), SparseCategoricalCrossEntropy::from_logits(), vec![])?;
    Ok(m)
}

fn labels(dev: &Device, n: usize) -> Result<Tensor> {
    let y: Vec<u32> = (0..n as u32).map(|i| i % 10).collect();
    Ok(Tensor::from_slice(dev, &y, &[n])?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let long: usize = args.iter().position(|a| a == "--steps").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(0);
    let probe = Device::new()?;
    println!("adapter: {}, strategy: {}", probe.adapter(), probe.strategy());
    let mixed = probe.has_f16() && !args.iter().any(|a| a == "--no-mixed");
    let cpu = probe.is_cpu();
    drop(probe);
    let reps = if quick {
        3
    } else if cpu {
        5
    } else {
        20
    };
    println!(
        "{:<16} {:>10} {:>14}  memory after warm-up -> after the run (buffers created, live MiB)",
        "workload", "median ms", "rate"
    );
    let runs: [(&str, usize, &[usize], &str); 2] =
        [("cnn_step", 64, &[64, 3, 32, 32], "images/s"), ("mlp_step", 128, &[128, 784], "samples/s")];
    // `--only NAME`: just that workload (a long `--steps` run of one of them).
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1));
    let policies: &[Policy] = if mixed { &[Policy::float32(), Policy::mixed_float16()] } else { &[Policy::float32()] };
    let runs = runs.into_iter().filter(|r| only.is_none_or(|o| o == r.0));
    for ((name, batch, shape, unit), &policy) in runs.flat_map(|r| policies.iter().map(move |p| (r, p))) {
        let dev = Device::new()?;
        let mut model = if name == "cnn_step" { cnn(&dev, policy)? } else { mlp(&dev, policy)? };
        let name = if policy.is_mixed() { format!("{name}_mixed") } else { name.to_string() };
        let slow = policy.is_mixed() && cpu;
        let reps = if slow { reps.min(3) } else { reps };
        let x = Tensor::rand_uniform(&dev, shape, 0.0, 1.0, 1)?;
        let y = labels(&dev, batch)?;
        // Warm-up: pipelines, and the pool's high-water mark (how many freed buffers wait for a
        // submit depends on where a flush falls in a step: 64 steps visit every phase).
        for _ in 0..if slow { 8 } else { 64 } {
            model.train_step(&x, &y)?;
        }
        dev.synchronize()?;
        let before = dev.pool_stats();
        // `--steps`: a long untimed run, after which the pool must not have grown.
        for _ in 0..long {
            model.train_step(&x, &y)?;
        }
        let profiling = !dev.profile().is_empty();
        if profiling {
            dev.set_profiling(true);
        }
        let ms = time_steps(&mut model, &x, &y, reps)?;
        let after = dev.pool_stats();
        if profiling {
            print_profile(&dev, reps);
        }
        let rate = batch as f64 / ms * 1e3;
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        println!(
            "{name:<16} {ms:>10.2} {rate:>10.0} {unit}  {} -> {}, {:.1} -> {:.1} (device {:.1} MiB)",
            before.buffers_created,
            after.buffers_created,
            mib(before.live_bytes),
            mib(after.live_bytes),
            mib(after.bytes_created)
        );
        let rate_key = unit.replace("/s", "_per_s");
        let device_mib = mib(after.bytes_created);
        eprintln!(
            "{{\"workload\":\"{name}\",\"batch\":{batch},\"median_ms\":{ms:.3},\"{rate_key}\":{rate:.1},\"reps\":{reps},\"device_mib\":{device_mib:.2}}}"
        );
    }
    Ok(())
}
