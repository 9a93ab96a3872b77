//! Criterion benchmark of autograd: forward + backward of the MLP of `shared/PEERS.md`
//! (784 -> 256 -> 256 -> 10, batch 128), each iteration ending with a device sync, and the
//! host-side cost alone (recording the graph and encoding dispatches, no sync).
//! `cargo bench -p wgtrain-autograd`; `examples/autograd_report.rs` prints a table.

use criterion::{Criterion, criterion_group, criterion_main};
use wgtrain_autograd::{Reduction, Var};
use wgtrain_tensor::{DType, Device, Tensor, UnaryOp, XentOptions};

fn mlp(c: &mut Criterion) {
    let dev = Device::new().expect("a GPU adapter");
    let sizes = [784usize, 256, 256, 10];
    let layers: Vec<(Var, Var)> = sizes
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let weight = Tensor::rand_normal(&dev, &[w[0], w[1]], 0.0, 0.05, i as u64).unwrap();
            (Var::parameter(weight), Var::parameter(Tensor::zeros(&dev, &[w[1]], DType::F32).unwrap()))
        })
        .collect();
    let x = Var::constant(Tensor::rand_uniform(&dev, &[128, 784], 0.0, 1.0, 7).unwrap());
    let labels: Vec<u32> = (0..128u32).map(|i| i % 10).collect();
    let y = Tensor::from_slice(&dev, &labels, &[128]).unwrap();
    let run = || {
        let mut h = x.clone();
        for (i, (w, b)) in layers.iter().enumerate() {
            h = h.linear(w, Some(b), (i < 2).then_some(UnaryOp::Relu), 0.0).unwrap();
        }
        h.cross_entropy(&y, &XentOptions::default(), Reduction::Mean).unwrap().backward().unwrap();
        layers.iter().for_each(|(w, b)| {
            w.zero_grad();
            b.zero_grad();
        });
    };
    let mut g = c.benchmark_group("mlp 784-256-256-10 batch 128");
    g.sample_size(10);
    g.bench_function("forward+backward", |it| {
        it.iter(|| {
            run();
            dev.synchronize().unwrap();
        })
    });
    g.bench_function("host recording only", |it| {
        it.iter(|| {
            run();
            // Keeps the pending work bounded without timing the GPU in most iterations.
            dev.flush().unwrap();
        })
    });
    g.finish();
    dev.synchronize().unwrap();
}

criterion_group!(benches, mlp);
criterion_main!(benches);
