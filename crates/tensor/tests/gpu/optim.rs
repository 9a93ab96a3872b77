//! Fused optimizer steps against the textbook loops of the twins: three steps on random
//! parameters and gradients (new gradients each step), comparing parameters and state.

use wgtrain_kernels::reference;
use wgtrain_tensor::{AdagradParams, AdamParams, RmspropParams, SgdParams};
use wgtrain_tensor::{DType, Tensor, UpdateOptions, adagrad_step, adam_step, rmsprop_step, sgd_step};

use super::harness::{assert_close, data, dev};

/// From 4096 elements, lengths divisible by 4 take the texture kernels on CPU adapters.
const SIZES: [usize; 5] = [1, 7, 1000, 4099, 4100];

fn up(v: &[f32]) -> Tensor {
    Tensor::from_slice(dev(), v, &[v.len()]).unwrap()
}

fn down(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

fn close(got: &Tensor, want: &[f32], ctx: String) {
    assert_close(&down(got), want, 1e-6, 1e-5, &ctx);
}

/// RMSprop's momentum buffer sums terms `g / avg` of magnitude up to `1 / sqrt(1 - alpha)`
/// (10 here) that can cancel, so its absolute error scales with that bound, not with the result.
fn close_scaled(got: &Tensor, want: &[f32], scale: f32, ctx: String) {
    assert_close(&down(got), want, 1e-6 * scale, 1e-5, &ctx);
}

/// Runs `body(step, grad on the device, the same grad on the host)` for steps 1, 2 and 3, with
/// fresh random gradients each step.
fn three_steps(n: usize, seed: u64, mut body: impl FnMut(u64, &Tensor, &[f32])) {
    for step in 1..=3u64 {
        let g = data(seed * 10 + step, n, -1.0, 1.0);
        body(step, &up(&g), &g);
    }
}

#[test]
fn sgd_matches_the_twin() {
    // (momentum, dampening, weight_decay, nesterov)
    let configs =
        [(0.0f32, 0.0f32, 0.0f32, false), (0.9, 0.0, 0.0, false), (0.9, 0.1, 1e-2, false), (0.8, 0.0, 5e-3, true)];
    for n in SIZES {
        for (c, &(momentum, dampening, weight_decay, nesterov)) in configs.iter().enumerate() {
            let p0 = data(n as u64, n, -1.0, 1.0);
            let (param, buf) = (up(&p0), Tensor::zeros(dev(), &[n], DType::F32).unwrap());
            let (mut hp_, mut hb) = (p0.clone(), vec![0.0f32; n]);
            three_steps(n, c as u64, |step, g, gh| {
                let hp = SgdParams { lr: 0.1, momentum, dampening, weight_decay, nesterov, step };
                sgd_step(&param, g, Some(&buf), &hp, UpdateOptions::default()).unwrap();
                let kp = hp.kernel_params(n);
                reference::sgd(&kp, &mut hp_, gh, if momentum != 0.0 { Some(&mut hb) } else { None });
                close(&param, &hp_, format!("sgd {c} n={n} step {step} param"));
                if momentum != 0.0 {
                    close(&buf, &hb, format!("sgd {c} n={n} step {step} buf"));
                }
            });
        }
    }
}

#[test]
fn adam_and_adamw_match_the_twin() {
    for n in SIZES {
        for (c, (decoupled, weight_decay)) in [(false, 0.0f32), (false, 1e-2), (true, 1e-2)].into_iter().enumerate() {
            let p0 = data(n as u64 + 1, n, -1.0, 1.0);
            let param = up(&p0);
            let zeros = || Tensor::zeros(dev(), &[n], DType::F32).unwrap();
            let (m, v) = (zeros(), zeros());
            let (mut hp_, mut hm, mut hv) = (p0.clone(), vec![0.0f32; n], vec![0.0f32; n]);
            three_steps(n, 10 + c as u64, |step, g, gh| {
                let hp = AdamParams { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay, decoupled, step };
                adam_step(&param, g, &m, &v, &hp, UpdateOptions::default()).unwrap();
                reference::adam(&hp.kernel_params(n), &mut hp_, gh, &mut hm, &mut hv);
                let ctx = format!("adam decoupled={decoupled} wd={weight_decay} n={n} step {step}");
                close(&param, &hp_, format!("{ctx} param"));
                close(&m, &hm, format!("{ctx} m"));
                close(&v, &hv, format!("{ctx} v"));
            });
        }
    }
}

#[test]
fn rmsprop_matches_the_twin() {
    for n in SIZES {
        for (c, (momentum, centered, weight_decay)) in
            [(0.0f32, false, 0.0f32), (0.9, false, 1e-2), (0.0, true, 0.0), (0.5, true, 1e-2)].into_iter().enumerate()
        {
            let p0 = data(n as u64 + 2, n, -1.0, 1.0);
            let param = up(&p0);
            let zeros = || Tensor::zeros(dev(), &[n], DType::F32).unwrap();
            let (sq, buf, ga) = (zeros(), zeros(), zeros());
            let (mut hp_, mut hsq, mut hb, mut hga) = (p0.clone(), vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
            three_steps(n, 20 + c as u64, |step, g, gh| {
                let hp = RmspropParams { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay, momentum, centered };
                let b = (momentum > 0.0).then_some(&buf);
                let a = centered.then_some(&ga);
                rmsprop_step(&param, g, &sq, b, a, &hp, UpdateOptions::default()).unwrap();
                let hb_ = (momentum > 0.0).then_some(&mut hb[..]);
                let hga_ = centered.then_some(&mut hga[..]);
                reference::rmsprop(&hp.kernel_params(n), &mut hp_, gh, &mut hsq, hb_, hga_);
                let ctx = format!("rmsprop config {c} n={n} step {step}");
                close(&param, &hp_, format!("{ctx} param"));
                close(&sq, &hsq, format!("{ctx} square_avg"));
                if momentum > 0.0 {
                    close_scaled(&buf, &hb, 10.0, format!("{ctx} buf"));
                }
                if centered {
                    close(&ga, &hga, format!("{ctx} grad_avg"));
                }
            });
        }
    }
}

#[test]
fn adagrad_matches_the_twin() {
    for n in SIZES {
        for (c, (init, weight_decay)) in [(0.0f32, 0.0f32), (0.1, 1e-2)].into_iter().enumerate() {
            let p0 = data(n as u64 + 3, n, -1.0, 1.0);
            let (param, sum) = (up(&p0), Tensor::full(dev(), &[n], init).unwrap());
            let (mut hp_, mut hs) = (p0.clone(), vec![init; n]);
            three_steps(n, 30 + c as u64, |step, g, gh| {
                let hp = AdagradParams { lr: 0.1, eps: 1e-10, weight_decay };
                adagrad_step(&param, g, &sum, &hp, UpdateOptions::default()).unwrap();
                reference::adagrad(&hp.kernel_params(n), &mut hp_, gh, &mut hs);
                close(&param, &hp_, format!("adagrad config {c} n={n} step {step} param"));
                close(&sum, &hs, format!("adagrad config {c} n={n} step {step} sum"));
            });
        }
    }
}

#[test]
fn optimizer_steps_reject_mismatched_or_strided_state() {
    let p = Tensor::zeros(dev(), &[2, 3], DType::F32).unwrap();
    let g = Tensor::zeros(dev(), &[2, 3], DType::F32).unwrap();
    let bad = Tensor::zeros(dev(), &[3, 2], DType::F32).unwrap();
    let hp = AdamParams { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled: true, step: 1 };
    let e = adam_step(&p, &g, &bad, &g.copy().unwrap(), &hp, UpdateOptions::default()).unwrap_err().to_string();
    assert!(e.contains("adam_step") && e.contains("[2, 3]") && e.contains("[3, 2]") && e.contains("m must"), "{e}");
    let e = adam_step(&p, &bad, &g, &g, &hp, UpdateOptions::default()).unwrap_err().to_string();
    assert!(e.contains("adam_step") && e.contains("[2, 3]") && e.contains("[3, 2]") && e.contains("grad"), "{e}");
    let e = adam_step(&p, &g, &bad.transpose(0, 1).unwrap(), &g.copy().unwrap(), &hp, UpdateOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("adam_step") && e.contains("contiguous at offset 0"), "{e}");
    let e = adam_step(&p, &g, &Tensor::zeros(dev(), &[2, 3], DType::U32).unwrap(), &g, &hp, UpdateOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected F32, got U32"), "{e}");
    let e = adam_step(&p, &p, &g, &bad, &hp, UpdateOptions::default()).unwrap_err().to_string();
    assert!(e.contains("grad shares the parameter's storage"), "{e}");

    let sgd = SgdParams { lr: 0.1, momentum: 0.9, dampening: 0.0, weight_decay: 0.0, nesterov: false, step: 1 };
    let e = sgd_step(&p, &g, None, &sgd, UpdateOptions::default()).unwrap_err().to_string();
    assert!(e.contains("sgd_step") && e.contains("momentum buffer"), "{e}");
    let e = sgd_step(&p, &g, Some(&bad), &sgd, UpdateOptions::default()).unwrap_err().to_string();
    assert!(e.contains("sgd_step") && e.contains("[2, 3]") && e.contains("[3, 2]"), "{e}");
    let rms = RmspropParams { lr: 0.1, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: true };
    let e = rmsprop_step(&p, &g, &bad, None, None, &rms, UpdateOptions::default()).unwrap_err().to_string();
    assert!(e.contains("rmsprop_step") && e.contains("grad_avg is required"), "{e}");
    let sum = Tensor::zeros(dev(), &[6], DType::F32).unwrap();
    let ada = AdagradParams { lr: 0.1, eps: 1e-10, weight_decay: 0.0 };
    let e = adagrad_step(&p, &g, &sum, &ada, UpdateOptions::default()).unwrap_err().to_string();
    assert!(e.contains("adagrad_step") && e.contains("[2, 3]") && e.contains("[6]"), "{e}");
}
