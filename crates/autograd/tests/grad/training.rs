//! End to end: a two-layer network's gradients derived by hand, an MLP that learns XOR with
//! plain SGD, and flat device memory over 1000 training iterations.

use wgtrain_autograd::{Reduction, Var, no_grad};
use wgtrain_tensor::{Device, SgdParams, Tensor, UnaryOp, UpdateOptions, XentOptions, sgd_step};

use crate::harness::{dev, tensor};

fn grad(v: &Var) -> Vec<f32> {
    v.grad().expect("a gradient").to_vec::<f32>().unwrap()
}

#[track_caller]
fn assert_near(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "got {got:?}, want {want:?}");
    }
}

#[test]
fn two_layer_gradients_match_the_chain_rule_by_hand() {
    // y = relu(x W1 + b1) W2 + b2, loss = (y - t)^2, on one sample.
    let (x, t) = ([1.0f32, 2.0], 1.0f32);
    let w1 = [0.5f32, -1.0, 0.25, 0.75]; // [2, 2], row-major
    let b1 = [0.1f32, -0.2];
    let w2 = [2.0f32, -3.0]; // [2, 1]
    let b2 = 0.5f32;

    // Forward by hand: z1 = x W1 + b1, h = relu(z1), y = h W2 + b2.
    let z1 = [x[0] * w1[0] + x[1] * w1[2] + b1[0], x[0] * w1[1] + x[1] * w1[3] + b1[1]]; // [1.1, 0.3]
    let h = [z1[0].max(0.0), z1[1].max(0.0)];
    let y = h[0] * w2[0] + h[1] * w2[1] + b2; // 1.8
    // Backward by hand.
    let dy = 2.0 * (y - t); // 1.6
    let dw2 = [h[0] * dy, h[1] * dy];
    let dh = [w2[0] * dy, w2[1] * dy];
    let dz1 = [dh[0] * (z1[0] > 0.0) as u8 as f32, dh[1] * (z1[1] > 0.0) as u8 as f32];
    let dw1 = [x[0] * dz1[0], x[0] * dz1[1], x[1] * dz1[0], x[1] * dz1[1]];

    let (vw1, vb1) = (Var::parameter(tensor(&w1, &[2, 2])), Var::parameter(tensor(&b1, &[2])));
    let (vw2, vb2) = (Var::parameter(tensor(&w2, &[2, 1])), Var::parameter(tensor(&[b2], &[1])));
    let vx = Var::constant(tensor(&x, &[1, 2]));
    let out =
        vx.linear(&vw1, Some(&vb1), Some(UnaryOp::Relu), 0.0).unwrap().linear(&vw2, Some(&vb2), None, 0.0).unwrap();
    let loss = out.add_scalar(-t).unwrap().square().unwrap().sum_all().unwrap();
    assert_near(&[loss.item().unwrap()], &[(y - t) * (y - t)]);
    loss.backward().unwrap();
    assert_near(&grad(&vw2), &dw2);
    assert_near(&grad(&vb2), &[dy]);
    assert_near(&grad(&vw1), &dw1);
    assert_near(&grad(&vb1), &dz1);
}

/// `[in, out]` weights from N(0, 1/in) and zero biases, seeded.
fn dense(device: &Device, inp: usize, out: usize, seed: u64) -> (Var, Var) {
    let w = Tensor::rand_normal(device, &[inp, out], 0.0, (1.0 / inp as f32).sqrt(), seed).unwrap();
    let b = Tensor::zeros(device, &[out], wgtrain_tensor::DType::F32).unwrap();
    (Var::parameter(w), Var::parameter(b))
}

fn sgd(params: &[&Var], lr: f32) {
    let hp = SgdParams { lr, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, step: 1 };
    no_grad(|| {
        for p in params {
            sgd_step(p.data(), &p.grad().unwrap(), None, &hp, UpdateOptions::default()).unwrap();
            p.zero_grad();
        }
    });
}

#[test]
fn an_mlp_learns_xor_with_plain_sgd() {
    let x = Var::constant(tensor(&[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]));
    let t_h = [0.0f32, 1.0, 1.0, 0.0];
    let t = Var::constant(tensor(&t_h, &[4, 1]));
    let (w1, b1) = dense(dev(), 2, 8, 11);
    let (w2, b2) = dense(dev(), 8, 1, 12);
    let logits = || x.linear(&w1, Some(&b1), Some(UnaryOp::Tanh), 0.0)?.linear(&w2, Some(&b2), None, 0.0);
    for _ in 0..600 {
        // Binary cross-entropy with logits: softplus(z) - t z.
        let z = logits().unwrap();
        let loss = z.softplus().unwrap().sub(&t.mul(&z).unwrap()).unwrap().mean_all().unwrap();
        loss.backward().unwrap();
        sgd(&[&w1, &b1, &w2, &b2], 0.5);
    }
    let z = no_grad(logits).unwrap().to_vec().unwrap();
    let predicted: Vec<f32> = z.iter().map(|&v| (v > 0.0) as u8 as f32).collect();
    assert_eq!(predicted, t_h, "logits {z:?}");
}

#[test]
fn a_thousand_training_steps_keep_device_memory_flat() {
    let device = Device::new().unwrap();
    let (n, inp, hid, classes) = (8, 16, 32, 4);
    let x = Var::constant(Tensor::rand_uniform(&device, &[n, inp], -1.0, 1.0, 1).unwrap());
    let y_h: Vec<u32> = (0..n as u32).map(|i| i % classes as u32).collect();
    let y = Tensor::from_slice(&device, &y_h, &[n]).unwrap();
    let (w1, b1) = dense(&device, inp, hid, 2);
    let (w2, b2) = dense(&device, hid, classes, 3);
    let step = || {
        let h = x.linear(&w1, Some(&b1), Some(UnaryOp::Relu), 0.0).unwrap();
        let loss = h
            .linear(&w2, Some(&b2), None, 0.0)
            .unwrap()
            .cross_entropy(&y, &XentOptions::default(), Reduction::Mean)
            .unwrap();
        loss.backward().unwrap();
        sgd(&[&w1, &b1, &w2, &b2], 0.05);
    };
    // Batches flush every 64 dispatches, so how many freed buffers still wait for their
    // submit depends on where a flush falls in a step. Snapshots are taken with no extra flush
    // in between and 1024 steps apart, so both fall at the same phase of that cycle (and the
    // 128 warm-up steps visit every phase a step can have).
    for _ in 0..128 {
        step();
    }
    let (warm, pipelines) = (device.pool_stats(), device.pipelines_created());
    for _ in 0..1024 {
        step();
    }
    let after = device.pool_stats();
    assert_eq!(after.buffers_created, warm.buffers_created, "{warm:?} then {after:?}");
    assert_eq!(after.pooled_bytes, warm.pooled_bytes, "{warm:?} then {after:?}");
    assert_eq!(after.live_bytes, warm.live_bytes, "{warm:?} then {after:?}");
    assert_eq!(device.pipelines_created(), pipelines);
}
