//! Kernel throughput on whatever adapter wgtrain picks (`WGTRAIN_ADAPTER` chooses): the
//! workloads of `shared/PEERS.md`, measured the same way (median of repetitions after warm-up,
//! every repetition ending with a device sync). Prints a table and one JSON line per row with
//! the peers' fields (`workload`, `n` or `pass`, `median_ms`, `gflops`), plus `first_ms` where
//! the shape had an untimed first call (no tuning: that is compiling its pipelines on first use).
//!
//! `cargo run --release --example kernel_report` (add `-- --quick` for fewer repetitions,
//! `--matmul-only` to stop after the matmul rows, `--conv-only` to run just the conv rows;
//! `WGTRAIN_STRATEGY=gpu|cpu-windows|cpu-textures` picks the strategy, default cpu-textures on
//! CPU adapters). The last row is the fixed cost of one dispatch (1,000 tiny dependent ops:
//! total ms = us each).
//!
//! Mixed precision: where the adapter has `SHADER_F16`, `matmul_f16` and `conv2d_f16` rows
//! (f16 operands, f32 sums, f16 output) follow the f32 ones. Software adapters have no f16
//! arithmetic and run f16 on the tiled GEMM (their own GEMMs are f32 only), so there the f16
//! rows stop at n = 1024 and take one repetition unless `--f16-full` is given.

use std::time::Instant;

use wgtrain_tensor::{AdamParams, Conv2dOptions, DType, Device, Result, Tensor, UpdateOptions, adam_step};

/// Median of `reps` timed runs. `main` compiles most pipelines on small shapes first; a run here
/// also fills the pool, and compiles the shape-specialized variants (the CPU GEMMs' workgroup
/// shapes are pipeline constants), when `warm` is set.
fn median_ms(dev: &Device, reps: usize, warm: bool, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    FIRST_MS.set(None);
    if warm {
        let t = Instant::now();
        f()?;
        dev.synchronize()?;
        FIRST_MS.set(Some(t.elapsed().as_secs_f64() * 1e3));
    }
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        dev.synchronize()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times[reps / 2])
}

thread_local! {
    /// The untimed first call of the last [`median_ms`] (its shape's first in this process: it
    /// includes compiling the shape-specialized pipeline variants, and there is no tuning to
    /// pay), or `None` when it had no warm-up call.
    static FIRST_MS: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
}

fn row(workload: &str, key: &str, val: &str, reps: usize, ms: f64, flops: Option<f64>) {
    let gflops = flops.map(|f| f / ms / 1e6);
    let g = gflops.map_or("null".to_string(), |g| format!("{g:.2}"));
    println!(
        "{workload:<16} {key}={val:<10} {ms:>10.2} ms {:>10} GFLOP/s",
        gflops.map_or("-".into(), |g| format!("{g:.1}"))
    );
    let v = if key == "n" { val.to_string() } else { format!("\"{val}\"") };
    let first = FIRST_MS.get().map_or(String::new(), |f| format!(",\"first_ms\":{f:.1}"));
    eprintln!(
        "{{\"workload\":\"{workload}\",\"{key}\":{v},\"median_ms\":{ms:.3},\"gflops\":{g},\"reps\":{reps}{first}}}"
    );
}

fn main() -> Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let dev = Device::new()?;
    println!("adapter: {}", dev.adapter());
    println!("strategy: {}, tiles: {:?}", dev.strategy(), dev.gemm_tiles());
    println!("cooperative matrices: {}", dev.coop());
    warm_up(&dev)?;
    // A software adapter takes about a second per large repetition: fewer of them keep the
    // report under two minutes (the JSON says how many).
    let heavy_reps = if quick {
        1
    } else if dev.is_cpu() {
        3
    } else {
        5
    };
    let conv_only = std::env::args().any(|a| a == "--conv-only");
    for n in [256usize, 512, 1024, 2048].into_iter().filter(|_| !conv_only) {
        let a = Tensor::rand_uniform(&dev, &[n, n], -1.0, 1.0, 1)?;
        let b = Tensor::rand_uniform(&dev, &[n, n], -1.0, 1.0, 2)?;
        // At least the peers' five repetitions where they are cheap.
        let reps = match n {
            2048 => heavy_reps,
            1024 => 5,
            _ => 9,
        };
        // Warm like the peers' figures: the first 2048 call also creates its 16 MiB textures.
        let ms = median_ms(&dev, reps, n < 2048 || !quick, || a.matmul(&b).map(drop))?;
        row("matmul", "n", &n.to_string(), reps, ms, Some(2.0 * (n as f64).powi(3)));
    }
    let f16 = dev.has_f16() && !std::env::args().any(|a| a == "--no-f16");
    let f16_full = !dev.is_cpu() || std::env::args().any(|a| a == "--f16-full");
    let f16_reps = if f16_full { heavy_reps } else { 1 };
    for n in [256usize, 512, 1024, 2048].into_iter().filter(|&n| f16 && !conv_only && (f16_full || n < 2048)) {
        let a = Tensor::rand_uniform(&dev, &[n, n], -1.0, 1.0, 1)?.cast(DType::F16)?;
        let b = Tensor::rand_uniform(&dev, &[n, n], -1.0, 1.0, 2)?.cast(DType::F16)?;
        let reps = if n < 1024 { 5 } else { f16_reps };
        let ms = median_ms(&dev, reps, true, || a.matmul(&b).map(drop))?;
        row("matmul_f16", "n", &n.to_string(), reps, ms, Some(2.0 * (n as f64).powi(3)));
    }
    if !conv_only {
        mlp_rows(&dev)?;
    }
    if std::env::args().any(|a| a == "--matmul-only") {
        return Ok(());
    }
    let x = Tensor::rand_uniform(&dev, &[32, 64, 32, 32], -1.0, 1.0, 3)?;
    let w = Tensor::rand_uniform(&dev, &[64, 64, 3, 3], -0.1, 0.1, 4)?;
    let bias = Tensor::zeros(&dev, &[64], wgtrain_tensor::DType::F32)?;
    let dy = Tensor::rand_uniform(&dev, &[32, 64, 32, 32], -1.0, 1.0, 5)?;
    let o = Conv2dOptions { padding: [1, 1], ..Default::default() };
    let flops = 2.0 * 32.0 * 64.0 * 32.0 * 32.0 * 64.0 * 9.0;
    let reps = heavy_reps;
    let ms = median_ms(&dev, reps, true, || x.conv2d(&w, Some(&bias), &o).map(drop))?;
    row("conv2d", "pass", "forward", reps, ms, Some(flops));
    let ms = median_ms(&dev, reps, true, || {
        x.conv2d(&w, Some(&bias), &o)?;
        dy.conv2d_grad_input(&w, [32, 64, 32, 32], &o)?;
        dy.conv2d_grad_weight(&x, [64, 64, 3, 3], &o).map(drop)
    })?;
    row("conv2d", "pass", "forward+backward", reps, ms, Some(3.0 * flops));
    if f16 {
        let [x, w, bias, dy] = [&x, &w, &bias, &dy].map(|t| t.cast(DType::F16));
        let (x, w, bias, dy) = (x?, w?, bias?, dy?);
        let ms = median_ms(&dev, f16_reps, true, || x.conv2d(&w, Some(&bias), &o).map(drop))?;
        row("conv2d_f16", "pass", "forward", f16_reps, ms, Some(flops));
        let ms = median_ms(&dev, f16_reps, true, || {
            x.conv2d(&w, Some(&bias), &o)?;
            dy.conv2d_grad_input(&w, [32, 64, 32, 32], &o)?;
            dy.conv2d_grad_weight(&x, [64, 64, 3, 3], &o).map(drop)
        })?;
        row("conv2d_f16", "pass", "forward+backward", f16_reps, ms, Some(3.0 * flops));
    }
    drop((x, w, dy));
    if conv_only {
        return Ok(());
    }
    let n = 1usize << 24;
    let v = Tensor::rand_uniform(&dev, &[n], -1.0, 1.0, 6)?;
    let ms = median_ms(&dev, 5, true, || v.sum_all().map(drop))?;
    bandwidth_row("sum", "16M", ms, 4.0 * n as f64);
    let logits = Tensor::rand_uniform(&dev, &[4096, 1000], -4.0, 4.0, 7)?;
    let ms = median_ms(&dev, 5, true, || logits.softmax(-1).map(drop))?;
    bandwidth_row("softmax", "4096x1000", ms, 8.0 * 4096.0 * 1000.0);
    // A fused optimizer update is pure memory traffic: Adam over 4 M parameters (the vec4 kernel)
    // and over 4 M + 1 (the scalar one), 7 accesses of 4 bytes per parameter.
    for n in [1usize << 22, (1 << 22) + 1] {
        let t = |s| Tensor::rand_uniform(&dev, &[n], -1.0, 1.0, s);
        let (param, grad, m, v) =
            (t(9)?, t(10)?, Tensor::zeros(&dev, &[n], DType::F32)?, Tensor::zeros(&dev, &[n], DType::F32)?);
        let hp =
            AdamParams { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled: false, step: 1 };
        let ms = median_ms(&dev, 5, true, || adam_step(&param, &grad, &m, &v, &hp, UpdateOptions::default()))?;
        bandwidth_row("adam_step", if n % 4 == 0 { "4M vec4" } else { "4M+1" }, ms, 28.0 * n as f64);
    }
    // The fixed cost of a dispatch: 1,000 dependent elementwise ops on 256 elements, one submit.
    let tiny = Tensor::rand_uniform(&dev, &[256], -1.0, 1.0, 8)?;
    let ms = median_ms(&dev, 3, true, || {
        let mut t = tiny.clone();
        for _ in 0..1000 {
            t = t.add_scalar(1.0)?;
        }
        Ok(())
    })?;
    println!("{:<16} {:<15} {:>10.1} us per dispatch", "dispatch", "n=1000 tiny", ms);
    eprintln!("{{\"workload\":\"dispatch\",\"n\":1000,\"us_each\":{ms:.2},\"reps\":3}}");
    Ok(())
}

/// A memory-bound row: GB/s of `bytes` moved once.
fn bandwidth_row(workload: &str, size: &str, ms: f64, bytes: f64) {
    let gbs = bytes / ms / 1e6;
    println!("{workload:<16} size={size:<10} {ms:>10.2} ms {gbs:>10.1} GB/s");
    eprintln!("{{\"workload\":\"{workload}\",\"size\":\"{size}\",\"median_ms\":{ms:.3},\"gbs\":{gbs:.2},\"reps\":5}}");
}

/// Compiles every pipeline the report uses, on tiny shapes.
fn warm_up(dev: &Device) -> Result<()> {
    let a = Tensor::rand_uniform(dev, &[8, 8], -1.0, 1.0, 9)?;
    a.matmul(&a)?;
    // K deep enough for three k-chunks: the uniform path's first, middle and last epilogues.
    let (a, b) =
        (Tensor::rand_uniform(dev, &[8, 2048], -1.0, 1.0, 9)?, Tensor::rand_uniform(dev, &[2048, 16], -1.0, 1.0, 9)?);
    a.matmul(&b)?;
    let x = Tensor::rand_uniform(dev, &[2, 64, 4, 4], -1.0, 1.0, 9)?;
    let w = Tensor::rand_uniform(dev, &[64, 64, 3, 3], -1.0, 1.0, 9)?;
    let o = Conv2dOptions { padding: [1, 1], ..Default::default() };
    let y = x.conv2d(&w, Some(&Tensor::zeros(dev, &[64], wgtrain_tensor::DType::F32)?), &o)?;
    y.conv2d_grad_input(&w, [2, 64, 4, 4], &o)?;
    y.conv2d_grad_weight(&x, [64, 64, 3, 3], &o)?;
    dev.synchronize()
}

/// The matmuls of the MLP 784-256-256-10 at batch 128 (`mlp_step` in PEERS.md): forward
/// `x . W`, and backward `dW = x^T . dy` and `dx = dy . W^T` with transposed views, W stored
/// `[in, out]`.
fn mlp_rows(dev: &Device) -> Result<()> {
    let batch = 128;
    for (i, &(fan_in, fan_out)) in [(784usize, 256usize), (256, 256), (256, 10)].iter().enumerate() {
        let seed = 20 + 3 * i as u64;
        let x = Tensor::rand_uniform(dev, &[batch, fan_in], -1.0, 1.0, seed)?;
        let w = Tensor::rand_uniform(dev, &[fan_in, fan_out], -1.0, 1.0, seed + 1)?;
        let dy = Tensor::rand_uniform(dev, &[batch, fan_out], -1.0, 1.0, seed + 2)?;
        let xt = x.transpose(0, 1)?;
        let wt = w.transpose(0, 1)?;
        let flops = Some(2.0 * (batch * fan_in * fan_out) as f64);
        let ms = median_ms(dev, 9, true, || x.matmul(&w).map(drop))?;
        row("matmul_mlp", "shape", &format!("{batch}x{fan_in}@{fan_in}x{fan_out}"), 9, ms, flops);
        let ms = median_ms(dev, 9, true, || xt.matmul(&dy).map(drop))?;
        row("matmul_mlp", "shape", &format!("dW:{fan_in}x{batch}T@{batch}x{fan_out}"), 9, ms, flops);
        let ms = median_ms(dev, 9, true, || dy.matmul(&wt).map(drop))?;
        row("matmul_mlp", "shape", &format!("dx:{batch}x{fan_out}@{fan_out}x{fan_in}T"), 9, ms, flops);
    }
    Ok(())
}
