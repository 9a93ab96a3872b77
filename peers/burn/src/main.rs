//! Burn 0.22.1 (wgpu backend, autotune and fusion on) on the workloads of `shared/PEERS.md`,
//! timed as wgtrain's `kernel_report` and `train_report` time ours: warm-up calls, then the
//! median of repetitions that each end with a device sync. One JSON line per workload with the
//! peers' fields, plus `first_ms`: the first call, which includes Burn's autotuning (wgtrain
//! chooses its tiles from the adapter's limits and has no such stall).
//!
//! `bash scripts/peers.sh [matmul] [conv] [cnn] [mlp]` (default all).
use std::time::Instant;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, DeviceKind, Distribution, Int, Tensor};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Milliseconds of one synced call of `f`.
fn once(dev: &Device, f: &mut impl FnMut()) -> f64 {
    let t0 = Instant::now();
    f();
    dev.sync().expect("the device syncs");
    t0.elapsed().as_secs_f64() * 1e3
}

/// (first call, median of `reps` after `warm` warm-up calls) in milliseconds; the warm-up times
/// go to stderr, so a long autotune is visible while it runs.
fn time(dev: &Device, warm: usize, reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    let first = once(dev, &mut f);
    eprintln!("first call {first:.1} ms");
    for i in 1..warm {
        eprintln!("warm-up {i}: {:.1} ms", once(dev, &mut f));
    }
    (first, median((0..reps).map(|_| once(dev, &mut f)).collect()))
}

#[derive(Module, Debug)]
struct Cnn {
    c1: Conv2d,
    c2: Conv2d,
    c3: Conv2d,
    pool: MaxPool2d,
    l1: Linear,
    l2: Linear,
}

impl Cnn {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(relu(self.c1.forward(x)));
        let x = self.pool.forward(relu(self.c2.forward(x)));
        let x = relu(self.c3.forward(x));
        let x: Tensor<2> = x.flatten(1, 3);
        self.l2.forward(relu(self.l1.forward(x)))
    }
}

#[derive(Module, Debug)]
struct Mlp {
    l1: Linear,
    l2: Linear,
    l3: Linear,
}

impl Mlp {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.l3.forward(relu(self.l2.forward(relu(self.l1.forward(x)))))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = |w: &str| args.len() < 2 || args.iter().any(|a| a == w);
    let dev = Device::wgpu(DeviceKind::Cpu);
    if only("matmul") {
        for n in [256usize, 512, 1024, 2048] {
            let a = Tensor::<2>::random([n, n], Distribution::Default, &dev);
            let b = Tensor::<2>::random([n, n], Distribution::Default, &dev);
            let reps = if n >= 2048 { 3 } else { 9 };
            let (first, ms) = time(&dev, 3, reps, || {
                let _ = a.clone().matmul(b.clone());
            });
            let gf = 2.0 * (n as f64).powi(3) / ms / 1e6;
            println!(
                "{{\"peer\":\"burn\",\"workload\":\"matmul\",\"n\":{n},\"first_ms\":{first:.0},\"median_ms\":{ms:.3},\"gflops\":{gf:.2}}}"
            );
        }
    }
    if only("conv") {
        let x = Tensor::<4>::random([32, 64, 32, 32], Distribution::Default, &dev);
        let w = Tensor::<4>::random([64, 64, 3, 3], Distribution::Default, &dev);
        let bias = Tensor::<1>::random([64], Distribution::Default, &dev);
        let opts = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let (first, ms) = time(&dev, 2, 3, || {
            let _ = conv2d(x.clone(), w.clone(), Some(bias.clone()), opts());
        });
        let gf = 2.0 * 32.0 * 64.0 * 1024.0 * 64.0 * 9.0 / ms / 1e6;
        println!(
            "{{\"peer\":\"burn\",\"workload\":\"conv2d\",\"pass\":\"forward\",\"first_ms\":{first:.0},\"median_ms\":{ms:.3},\"gflops\":{gf:.2}}}"
        );
        let ad = dev.clone().autodiff();
        let xg = Tensor::<4>::random([32, 64, 32, 32], Distribution::Default, &ad).require_grad();
        let wg = Tensor::<4>::random([64, 64, 3, 3], Distribution::Default, &ad).require_grad();
        let bg = Tensor::<1>::random([64], Distribution::Default, &ad);
        let dy = Tensor::<4>::random([32, 64, 32, 32], Distribution::Default, &ad);
        let (first, ms) = time(&ad, 2, 3, || {
            let y = conv2d(xg.clone(), wg.clone(), Some(bg.clone()), opts());
            let g = (y * dy.clone()).sum().backward();
            let _ = (xg.grad(&g), wg.grad(&g));
        });
        println!(
            "{{\"peer\":\"burn\",\"workload\":\"conv2d\",\"pass\":\"forward+backward\",\"first_ms\":{first:.0},\"median_ms\":{ms:.3}}}"
        );
    }
    let ad = dev.clone().autodiff();
    if only("cnn") {
        let model = Cnn {
            c1: Conv2dConfig::new([3, 32], [3, 3]).init(&ad),
            c2: Conv2dConfig::new([32, 64], [3, 3]).init(&ad),
            c3: Conv2dConfig::new([64, 64], [3, 3]).init(&ad),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            l1: LinearConfig::new(1024, 64).init(&ad),
            l2: LinearConfig::new(64, 10).init(&ad),
        };
        let x = Tensor::<4>::random([64, 3, 32, 32], Distribution::Default, &ad);
        train_steps(&ad, "cnn_step", "images_per_s", model, Cnn::forward, x, [4, 5]);
    }
    if only("mlp") {
        let model = Mlp {
            l1: LinearConfig::new(784, 256).init(&ad),
            l2: LinearConfig::new(256, 256).init(&ad),
            l3: LinearConfig::new(256, 10).init(&ad),
        };
        let x = Tensor::<2>::random([128, 784], Distribution::Default, &ad);
        train_steps(&ad, "mlp_step", "samples_per_s", model, Mlp::forward, x, [8, 9]);
    }
}

/// Times full training steps of `model` on the batch `x` (labels 0..9 in turn): forward, mean
/// softmax cross-entropy, backward, one Adam step (lr 1e-3), after `warm` warm-up steps; prints
/// the median of `reps` and the rate in `unit`.
fn train_steps<M: Module, const D: usize>(
    ad: &Device,
    name: &str,
    unit: &str,
    mut model: M,
    forward: fn(&M, Tensor<D>) -> Tensor<2>,
    x: Tensor<D>,
    [warm, reps]: [usize; 2],
) {
    let batch = x.dims()[0];
    let y = Tensor::<1, Int>::arange(0..batch as i64, ad).remainder_scalar(10);
    let loss_fn = CrossEntropyLossConfig::new().init(ad);
    let mut opt = AdamConfig::new().init();
    let (first, ms) = time(ad, warm, reps, || {
        let loss = loss_fn.forward(forward(&model, x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = opt.step(1e-3, model.clone(), grads);
    });
    let rate = batch as f64 / ms * 1e3;
    println!(
        "{{\"peer\":\"burn\",\"workload\":\"{name}\",\"batch\":{batch},\"first_ms\":{first:.0},\"median_ms\":{ms:.3},\"{unit}\":{rate:.1}}}"
    );
}
