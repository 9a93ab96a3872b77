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
//!
//! `-- --distributed` (built with `--features distributed`, run under `mpirun -np N`): every
//! process trains its shard of the same global batches (`N` must divide 64), with the gradients
//! summed over processes, and rank 0 reports, per workload and step, the time to the end of
//! backward, the read-back, the sum over processes and the write-back, and the bytes summed.

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

/// `--distributed`: the processes of an `mpirun` (feature `distributed`).
#[cfg(feature = "distributed")]
fn processes(on: bool) -> Result<Option<Distributed>> {
    on.then(Distributed::init).transpose()
}

#[cfg(not(feature = "distributed"))]
fn processes(on: bool) -> Result<Option<Distributed>> {
    if on {
        return Err(TrainError::config("--distributed", "build train_report with `--features distributed`"));
    }
    Ok(None)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dist = processes(args.iter().any(|a| a == "--distributed"))?;
    let chief = dist.as_ref().is_none_or(Distributed::is_chief);
    // Rank 0 alone reports.
    macro_rules! say {
        ($($t:tt)*) => { if chief { println!($($t)*) } };
    }
    let quick = args.iter().any(|a| a == "--quick");
    let long: usize = args.iter().position(|a| a == "--steps").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(0);
    let open = || match &dist {
        Some(d) => d.device(),
        None => Ok(Device::new()?),
    };
    let probe = open()?;
    say!("adapter: {}, strategy: {}", probe.adapter(), probe.strategy());
    if let Some(d) = &dist {
        say!("{} processes ({}), each on its shard of the global batch", d.size(), d.transport());
    }
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
    say!(
        "{:<16} {:>10} {:>14}  memory after warm-up -> after the run (buffers created, live MiB)",
        "workload",
        "median ms",
        "rate"
    );
    let runs: [(&str, usize, &[usize], &str); 2] =
        [("cnn_step", 64, &[64, 3, 32, 32], "images/s"), ("mlp_step", 128, &[128, 784], "samples/s")];
    // `--only NAME`: just that workload (a long `--steps` run of one of them).
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1));
    let policies: &[Policy] = if mixed { &[Policy::float32(), Policy::mixed_float16()] } else { &[Policy::float32()] };
    let runs = runs.into_iter().filter(|r| only.is_none_or(|o| o == r.0));
    for ((name, batch, shape, unit), &policy) in runs.flat_map(|r| policies.iter().map(move |p| (r, p))) {
        let dev = open()?;
        let mut model = if name == "cnn_step" { cnn(&dev, policy)? } else { mlp(&dev, policy)? };
        // Distributed: this process's shard of each global batch.
        let (batch, shape) = match &dist {
            Some(d) => {
                model.distribute(d)?;
                d.check_batch(name, batch)?;
                let mut local = shape.to_vec();
                local[0] = batch / d.size();
                (batch, local)
            }
            None => (batch, shape.to_vec()),
        };
        let local = shape[0];
        let name = if policy.is_mixed() { format!("{name}_mixed") } else { name.to_string() };
        let slow = policy.is_mixed() && cpu;
        let reps = if slow { reps.min(3) } else { reps };
        let x = Tensor::rand_uniform(&dev, &shape, 0.0, 1.0, 1)?;
        let y = labels(&dev, local)?;
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
        model.take_comm_stats();
        let ms = time_steps(&mut model, &x, &y, reps)?;
        let comm = model.take_comm_stats();
        let after = dev.pool_stats();
        if profiling && chief {
            print_profile(&dev, reps);
        }
        let rate = batch as f64 / ms * 1e3;
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        say!(
            "{name:<16} {ms:>10.2} {rate:>10.0} {unit}  {} -> {}, {:.1} -> {:.1} (device {:.1} MiB)",
            before.buffers_created,
            after.buffers_created,
            mib(before.live_bytes),
            mib(after.live_bytes),
            mib(after.bytes_created)
        );
        let rate_key = unit.replace("/s", "_per_s");
        let device_mib = mib(after.bytes_created);
        let comm_json = match &dist {
            Some(d) => {
                let per = |t: std::time::Duration| t.as_secs_f64() * 1e3 / reps as f64;
                let (wait, read, sum, write) =
                    (per(comm.backward_wait), per(comm.read_back), per(comm.all_reduce), per(comm.write_back));
                let bytes = comm.bytes / reps as u64;
                say!(
                    "{:<16} per step: {wait:.2} ms to the end of backward; communication {:.2} ms (read-back {read:.2}, sum {sum:.2}, write-back {write:.2}), {bytes} bytes summed",
                    "",
                    read + sum + write
                );
                format!(
                    ",\"processes\":{},\"backward_ms\":{wait:.3},\"read_back_ms\":{read:.3},\"all_reduce_ms\":{sum:.3},\"write_back_ms\":{write:.3},\"bytes_per_step\":{bytes}",
                    d.size()
                )
            }
            None => String::new(),
        };
        if chief {
            eprintln!(
                "{{\"workload\":\"{name}\",\"batch\":{batch},\"median_ms\":{ms:.3},\"{rate_key}\":{rate:.1},\"reps\":{reps},\"device_mib\":{device_mib:.2}{comm_json}}}"
            );
        }
    }
    Ok(())
}
