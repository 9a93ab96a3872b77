//! The execution model: batching, the pool staying flat, the parameter hazard.

use wgtrain_tensor::{DType, Device, Tensor};

use super::harness::{assert_close, data};

/// Many dispatches recorded in one batch, each with its own scalar, read back once: if params
/// were shared between recorded dispatches every output would see the last value.
#[test]
fn params_of_recorded_dispatches_do_not_overwrite_each_other() {
    let dev = super::harness::dev();
    let x = Tensor::from_slice(dev, &[1.0f32; 5], &[5]).unwrap();
    let outs: Vec<Tensor> = (0..40).map(|i| x.mul_scalar(i as f32).unwrap()).collect();
    for (i, o) in outs.iter().enumerate() {
        assert_eq!(o.to_vec::<f32>().unwrap(), vec![i as f32; 5], "dispatch {i}");
    }
}

/// A buffer freed while a recorded dispatch still reads it must not be refilled by the host
/// before that dispatch runs.
#[test]
fn a_freed_buffer_is_not_refilled_under_a_recorded_reader() {
    let dev = Device::new().unwrap();
    for round in 0..20 {
        let a = Tensor::from_slice(&dev, &[round as f32; 1024], &[1024]).unwrap();
        let b = a.add_scalar(1.0).unwrap(); // recorded, not submitted
        drop(a); // a's buffer is retired, not free
        let c = Tensor::from_slice(&dev, &[-7.0f32; 1024], &[1024]).unwrap(); // same size class
        assert_eq!(b.to_vec::<f32>().unwrap(), vec![round as f32 + 1.0; 1024], "round {round}");
        assert_eq!(c.to_vec::<f32>().unwrap()[0], -7.0);
    }
}

/// 1000 iterations of a small op chain on a private device: after warm-up no buffer is
/// created, no pipeline is created, and pooled + live bytes stay the same.
#[test]
fn memory_and_pipelines_stay_flat_over_a_thousand_iterations() {
    let dev = Device::new().unwrap();
    let w = Tensor::from_slice(&dev, &data(1, 64 * 32, -1.0, 1.0), &[64, 32]).unwrap();
    let bias = Tensor::zeros(&dev, &[32], DType::F32).unwrap();
    let step = |x: &Tensor| -> Tensor {
        let h = x.matmul_with(&w, wgtrain_tensor::MatmulOptions { bias: Some(&bias), ..Default::default() }).unwrap();
        let h = h.relu().unwrap().sub(&h.tanh().unwrap()).unwrap();
        h.mul_scalar(0.5).unwrap().matmul(&w.transpose(0, 1).unwrap()).unwrap()
    };
    let mut x = Tensor::from_slice(&dev, &data(2, 16 * 64, -1.0, 1.0), &[16, 64]).unwrap();
    // Warm-up spans every phase of the batch boundary against the iteration (buffers released
    // mid-batch return to the pool at the submit, so the in-flight peak depends on the phase).
    for _ in 0..100 {
        x = step(&x).clamp(-1.0, 1.0).unwrap();
    }
    dev.synchronize().unwrap();
    let (s0, p0) = (dev.pool_stats(), dev.pipelines_created());
    for _ in 0..1000 {
        x = step(&x).clamp(-1.0, 1.0).unwrap();
    }
    let v = x.to_vec::<f32>().unwrap();
    dev.synchronize().unwrap();
    let s1 = dev.pool_stats();
    assert!(v.iter().all(|v| v.is_finite()));
    assert_eq!(s1.buffers_created, s0.buffers_created, "buffers created after warm-up: {s0:?} -> {s1:?}");
    assert_eq!(s1.pooled_bytes + s1.live_bytes, s0.pooled_bytes + s0.live_bytes, "{s0:?} -> {s1:?}");
    assert_eq!(dev.pipelines_created(), p0, "pipelines created after warm-up");
    assert!(dev.submits() > 0);
}

#[test]
fn recording_does_not_submit_until_a_read_back_or_the_batch_limit() {
    let dev = Device::new().unwrap();
    let x = Tensor::from_slice(&dev, &[1.0f32; 8], &[8]).unwrap();
    let before = dev.submits();
    let mut y = x.clone();
    for _ in 0..10 {
        y = y.add_scalar(1.0).unwrap();
    }
    assert_eq!(dev.submits(), before, "10 ops must not submit");
    assert_close(&y.to_vec::<f32>().unwrap(), &[11.0; 8], 0.0, 0.0, "chain");
    assert_eq!(dev.submits(), before + 1, "one read-back, one submit");
}

#[test]
fn profiling_times_each_kernel_and_results_stay_correct() {
    let dev = Device::new().unwrap();
    assert!(dev.profile().is_empty(), "profiling is off by default");
    dev.set_profiling(true);
    let a = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0], &[3]).unwrap();
    let b = a.add(&a).unwrap().add(&a).unwrap().exp().unwrap();
    let want: Vec<f32> = [3.0f32, 6.0, 9.0].iter().map(|v| v.exp()).collect();
    assert_close(&b.to_vec::<f32>().unwrap(), &want, 0.0, 1e-6, "profiled chain");
    let p = dev.profile();
    let calls = |k: &str| p.iter().find(|t| t.kernel == k).map_or(0, |t| t.calls);
    assert_eq!((calls("binary_map"), calls("unary_map")), (2, 1), "{p:?}");
    assert!(p.windows(2).all(|w| w[0].total >= w[1].total), "sorted by time: {p:?}");
    dev.set_profiling(false);
    assert!(dev.profile().is_empty());
}
