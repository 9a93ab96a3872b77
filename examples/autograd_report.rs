//! Forward + backward of the MLP of `shared/PEERS.md` (784 -> 256 -> 256 -> 10, ReLU, softmax
//! cross-entropy, batch 128) on whatever adapter wgtrain picks, and the whole training step
//! with Adam (the peers' `mlp_step`). Reports the median of repetitions after warm-up, each
//! ending with a device sync, and separately the host time to record the graph and encode
//! its dispatches (until `backward()` returns, no sync), which must be small next to the GPU.
//!
//! `cargo run --release --example autograd_report` (add `-- --quick` for fewer repetitions).

use std::time::Instant;

use wgtrain_autograd::{Reduction, Result, Var, no_grad};
use wgtrain_tensor::{AdamParams, DType, Device, Tensor, UnaryOp, UpdateOptions, XentOptions, adam_step};

struct Mlp {
    layers: Vec<(Var, Var)>,
    moments: Vec<(Tensor, Tensor)>,
}

impl Mlp {
    fn new(dev: &Device, sizes: &[usize]) -> Result<Mlp> {
        let mut layers = Vec::new();
        let mut moments = Vec::new();
        for (i, w) in sizes.windows(2).enumerate() {
            let std = (2.0 / w[0] as f32).sqrt();
            let weight = Var::parameter(Tensor::rand_normal(dev, &[w[0], w[1]], 0.0, std, i as u64)?);
            let bias = Var::parameter(Tensor::zeros(dev, &[w[1]], DType::F32)?);
            for shape in [&[w[0], w[1]][..], &[w[1]]] {
                moments.push((Tensor::zeros(dev, shape, DType::F32)?, Tensor::zeros(dev, shape, DType::F32)?));
            }
            layers.push((weight, bias));
        }
        Ok(Mlp { layers, moments })
    }

    fn loss(&self, x: &Var, y: &Tensor) -> Result<Var> {
        let mut h = x.clone();
        let last = self.layers.len() - 1;
        for (i, (w, b)) in self.layers.iter().enumerate() {
            let act = (i < last).then_some(UnaryOp::Relu);
            h = h.linear(w, Some(b), act, 0.0)?;
        }
        h.cross_entropy(y, &XentOptions::default(), Reduction::Mean)
    }

    fn adam(&self, step: u64) -> Result<()> {
        let hp =
            AdamParams { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled: false, step };
        no_grad(|| {
            let params = self.layers.iter().flat_map(|(w, b)| [w, b]);
            for (p, (m, v)) in params.zip(&self.moments) {
                if let Some(g) = p.grad() {
                    adam_step(p.data(), &g, m, v, &hp, UpdateOptions::default())?;
                }
                p.zero_grad();
            }
            Ok(())
        })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let dev = Device::new()?;
    println!("adapter: {}, strategy: {}", dev.adapter(), dev.strategy());
    let batch = 128;
    let mlp = Mlp::new(&dev, &[784, 256, 256, 10])?;
    let x = Var::constant(Tensor::rand_uniform(&dev, &[batch, 784], 0.0, 1.0, 7)?);
    let labels: Vec<u32> = (0..batch as u32).map(|i| i % 10).collect();
    let y = Tensor::from_slice(&dev, &labels, &[batch])?;
    let reps = if quick { 5 } else { 20 };

    let (mut host, mut total, mut step_total) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..reps + 3 {
        let t = Instant::now();
        mlp.loss(&x, &y)?.backward()?;
        let recorded = t.elapsed().as_secs_f64() * 1e3;
        dev.synchronize()?;
        let done = t.elapsed().as_secs_f64() * 1e3;
        mlp.layers.iter().for_each(|(w, b)| {
            w.zero_grad();
            b.zero_grad();
        });
        let t = Instant::now();
        mlp.loss(&x, &y)?.backward()?;
        mlp.adam(i as u64 + 1)?;
        dev.synchronize()?;
        let stepped = t.elapsed().as_secs_f64() * 1e3;
        if i >= 3 {
            host.push(recorded);
            total.push(done);
            step_total.push(stepped);
        }
    }
    let (host, total, step) = (median(host), median(total), median(step_total));
    let flops = 3.0 * 2.0 * batch as f64 * (784.0 * 256.0 + 256.0 * 256.0 + 256.0 * 10.0);
    println!("workload                      median ms   rate");
    println!("mlp forward+backward          {total:>9.2}   {:.1} GFLOP/s", flops / total / 1e6);
    println!("  of which host recording     {host:>9.2}   ({:.0}% of the total)", 100.0 * host / total);
    println!("mlp_step (fwd+bwd+Adam)       {step:>9.2}   {:.0} samples/s", batch as f64 / step * 1e3);
    eprintln!(
        "{{\"workload\":\"mlp_fwd_bwd\",\"median_ms\":{total:.3},\"host_ms\":{host:.3}}}\n{{\"workload\":\"mlp_step\",\"median_ms\":{step:.3},\"reps\":{reps}}}"
    );
    Ok(())
}
