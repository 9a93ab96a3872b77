//! Criterion benchmarks of the kernels on whatever adapter wgtrain picks (`WGTRAIN_ADAPTER`
//! chooses). Every timed iteration ends with a device sync, so a figure is GPU time, not
//! recording time. Throughput is reported in FLOP (matmul, conv) or bytes (reductions).
//! `cargo bench -p wgtrain-tensor`; `examples/kernel_report.rs` prints the same as one table.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wgtrain_tensor::{Conv2dOptions, DType, Device, Tensor};

fn matmul(c: &mut Criterion, dev: &Device) {
    let mut g = c.benchmark_group("matmul");
    g.sample_size(10);
    for n in [256usize, 512, 1024, 2048] {
        let a = Tensor::rand_uniform(dev, &[n, n], -1.0, 1.0, 1).unwrap();
        let b = Tensor::rand_uniform(dev, &[n, n], -1.0, 1.0, 2).unwrap();
        g.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        g.bench_function(format!("n={n}"), |it| {
            it.iter(|| {
                a.matmul(&b).unwrap();
                dev.synchronize().unwrap();
            })
        });
    }
    g.finish();
}

fn conv(c: &mut Criterion, dev: &Device) {
    let mut g = c.benchmark_group("conv2d 32x64x32x32 k3 p1");
    g.sample_size(10);
    let x = Tensor::rand_uniform(dev, &[32, 64, 32, 32], -1.0, 1.0, 3).unwrap();
    let w = Tensor::rand_uniform(dev, &[64, 64, 3, 3], -0.1, 0.1, 4).unwrap();
    let bias = Tensor::zeros(dev, &[64], DType::F32).unwrap();
    let dy = Tensor::rand_uniform(dev, &[32, 64, 32, 32], -1.0, 1.0, 5).unwrap();
    let o = Conv2dOptions { padding: [1, 1], ..Default::default() };
    let flops = 2 * 32 * 64 * 32 * 32 * 64 * 9u64;
    g.throughput(Throughput::Elements(flops));
    g.bench_function("forward", |it| {
        it.iter(|| {
            x.conv2d(&w, Some(&bias), &o).unwrap();
            dev.synchronize().unwrap();
        })
    });
    g.throughput(Throughput::Elements(3 * flops));
    g.bench_function("forward+backward", |it| {
        it.iter(|| {
            x.conv2d(&w, Some(&bias), &o).unwrap();
            dy.conv2d_grad_input(&w, [32, 64, 32, 32], &o).unwrap();
            dy.conv2d_grad_weight(&x, [64, 64, 3, 3], &o).unwrap();
            dev.synchronize().unwrap();
        })
    });
    g.finish();
}

fn elementwise(c: &mut Criterion, dev: &Device) {
    let mut g = c.benchmark_group("elementwise");
    g.sample_size(10);
    let n = 1 << 22;
    let a = Tensor::rand_uniform(dev, &[n], -1.0, 1.0, 6).unwrap();
    let b = Tensor::rand_uniform(dev, &[n], -1.0, 1.0, 7).unwrap();
    g.throughput(Throughput::Bytes(12 * n as u64));
    g.bench_function("add 4M", |it| {
        it.iter(|| {
            a.add(&b).unwrap();
            dev.synchronize().unwrap();
        })
    });
    g.finish();
}

fn reductions(c: &mut Criterion, dev: &Device) {
    let mut g = c.benchmark_group("reductions");
    g.sample_size(10);
    let n = 1 << 24;
    let x = Tensor::rand_uniform(dev, &[n], -1.0, 1.0, 8).unwrap();
    g.throughput(Throughput::Bytes(4 * n as u64));
    g.bench_function("sum 16M", |it| {
        it.iter(|| {
            x.sum_all().unwrap();
            dev.synchronize().unwrap();
        })
    });
    let logits = Tensor::rand_uniform(dev, &[4096, 1000], -4.0, 4.0, 9).unwrap();
    g.throughput(Throughput::Bytes(8 * 4096 * 1000));
    g.bench_function("softmax 4096x1000", |it| {
        it.iter(|| {
            logits.softmax(-1).unwrap();
            dev.synchronize().unwrap();
        })
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    let dev = Device::new().expect("an adapter");
    eprintln!("adapter: {}", dev.adapter());
    matmul(c, &dev);
    conv(c, &dev);
    elementwise(c, &dev);
    reductions(c, &dev);
}

criterion_group!(benches, all);
criterion_main!(benches);
