//! Optimizer steps that also store the parameter's f16 copy (mixed precision's compute
//! weights): under every strategy, for every update kernel, the parameter and state are
//! bit-identical to the same step without the copy, and the copy is bit-identical to a fresh
//! cast of the new parameter (values past f16's range and in its subnormals included). A step
//! the loss scale skips leaves the copy as it was. A bad copy is refused by name.

use wgtrain_tensor::{AdagradParams, AdamParams, RmspropParams, SgdParams};
use wgtrain_tensor::{DType, Device, LossScale, LossScaleState, Tensor, UpdateOptions};
use wgtrain_tensor::{adagrad_step, adam_step, rmsprop_step, sgd_step};

use super::harness::{data, dev, gemm_devs};

/// Every update kernel: SGD plain and with momentum, Adam and AdamW, RMSprop plain and centered
/// with momentum, Adagrad.
const UPDATES: [&str; 7] = ["sgd", "sgd_momentum", "adam", "adamw", "rmsprop", "rmsprop_centered", "adagrad"];

/// Lengths: a single element, an odd one, and vec4 ones (Adam's vec4 kernel; the texture form
/// from 4096 elements on the CPU strategies).
const SIZES: [usize; 4] = [1, 7, 1024, 4100];

/// A parameter with values an f16 copy must round exactly as a cast does: past f16's range, in
/// its subnormals, and ordinary ones.
fn param_values(n: usize) -> Vec<f32> {
    let mut v = data(n as u64, n, -1.0, 1.0);
    let special = [70000.0, -65504.0, 3.0e-6, -6.0e-8, 1.0e-9];
    v.iter_mut().zip(special).for_each(|(x, s)| *x = s);
    v
}

/// Runs update `which` on a fresh parameter (and fresh state) of `n` elements, with `up`;
/// returns the parameter then the state tensors.
fn run(d: &Device, which: &str, n: usize, grad: &Tensor, up: UpdateOptions) -> Vec<Tensor> {
    let t = |v: &[f32]| Tensor::from_slice(d, v, &[n]).unwrap();
    let positive = |seed| data(seed, n, 0.1, 1.0);
    let p = t(&param_values(n));
    let state: Vec<Tensor> = [31, 32, 33].map(|s| t(&positive(s))).into();
    let sgd = |momentum| SgdParams { lr: 0.1, momentum, dampening: 0.0, weight_decay: 0.01, nesterov: true, step: 2 };
    let adam = |decoupled| AdamParams {
        lr: 1e-2,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.01,
        decoupled,
        step: 3,
    };
    let rms =
        |centered, momentum| RmspropParams { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum, centered };
    let (s0, s1, s2) = (&state[0], &state[1], &state[2]);
    match which {
        "sgd" => sgd_step(&p, grad, None, &sgd(0.0), up),
        "sgd_momentum" => sgd_step(&p, grad, Some(s0), &sgd(0.9), up),
        "adam" => adam_step(&p, grad, s0, s1, &adam(false), up),
        "adamw" => adam_step(&p, grad, s0, s1, &adam(true), up),
        "rmsprop" => rmsprop_step(&p, grad, s0, None, None, &rms(false, 0.0), up),
        // square_avg (s0, >= 0.1) above grad_avg^2 (s2^2 / 100): the centered variance stays positive.
        "rmsprop_centered" => {
            let avg = t(&data(34, n, -0.1, 0.1));
            let r = rmsprop_step(&p, grad, s0, Some(s1), Some(&avg), &rms(true, 0.9), up);
            return r.map(|_| vec![p, s0.clone(), s1.clone(), avg]).unwrap();
        }
        "adagrad" => adagrad_step(&p, grad, s0, &AdagradParams { lr: 1e-2, eps: 1e-10, weight_decay: 0.0 }, up),
        _ => unreachable!("{which}"),
    }
    .unwrap();
    let mut out = vec![p];
    out.extend([s0, s1, s2].map(Tensor::clone));
    out
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.to_vec::<f32>().unwrap().iter().map(|x| x.to_bits()).collect()
}

fn bits16(t: &Tensor) -> Vec<u16> {
    t.to_vec::<half::f16>().unwrap().iter().map(|x| x.to_bits()).collect()
}

#[test]
fn the_f16_copy_is_a_fresh_cast_of_the_new_parameter_and_changes_nothing_else() {
    for (d, strategy) in gemm_devs() {
        if !d.has_f16() {
            continue;
        }
        for n in SIZES {
            let grad = Tensor::from_slice(d, &data(40, n, -1.0, 1.0), &[n]).unwrap();
            for which in UPDATES {
                let ctx = format!("{which} n={n} {strategy:?}");
                let plain = run(d, which, n, &grad, UpdateOptions::default());
                let copy = Tensor::zeros(d, &[n], DType::F16).unwrap();
                let with_copy = run(d, which, n, &grad, UpdateOptions::default().with_f16_copy(&copy));
                for (i, (a, b)) in plain.iter().zip(&with_copy).enumerate() {
                    assert_eq!(bits(a), bits(b), "{ctx}: tensor {i} differs with the copy");
                }
                assert_eq!(bits16(&copy), bits16(&plain[0].cast(DType::F16).unwrap()), "{ctx}: the copy");
            }
        }
    }
}

#[test]
fn a_skipped_step_leaves_the_copy_and_a_taken_one_refreshes_it() {
    let d = dev();
    if !d.has_f16() {
        return;
    }
    for n in [7usize, 4100] {
        for which in UPDATES {
            let guard =
                LossScale::with_state(d, LossScaleState { scale: 4.0, good_steps: 0, skipped: 0 }, 2000).unwrap();
            let mut g = data(41, n, -1.0, 1.0);
            g[n - 1] = f32::NAN;
            let grad = Tensor::from_slice(d, &g, &[n]).unwrap();
            guard.unscale(&grad).unwrap();
            let copy = Tensor::from_slice(d, &vec![half::f16::from_f32(0.5); n], &[n]).unwrap();
            let before = bits16(&copy);
            run(d, which, n, &grad, UpdateOptions::guarded(&guard).with_f16_copy(&copy));
            assert_eq!(bits16(&copy), before, "{which} n={n}: a skipped step wrote the copy");
            guard.update().unwrap();
            let grad = Tensor::from_slice(d, &data(42, n, -1.0, 1.0), &[n]).unwrap();
            guard.unscale(&grad).unwrap();
            let param = run(d, which, n, &grad, UpdateOptions::guarded(&guard).with_f16_copy(&copy)).remove(0);
            assert_eq!(bits16(&copy), bits16(&param.cast(DType::F16).unwrap()), "{which} n={n}: a taken step");
        }
    }
}

#[test]
fn a_bad_f16_copy_is_refused_by_name() {
    let d = dev();
    let t = |shape: &[usize], dtype| Tensor::zeros(d, shape, dtype).unwrap();
    let (p, g) = (t(&[2, 3], DType::F32), t(&[2, 3], DType::F32));
    let hp = SgdParams { lr: 0.1, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, step: 1 };
    let step = |copy: &Tensor| sgd_step(&p, &g, None, &hp, UpdateOptions::default().with_f16_copy(copy)).unwrap_err();
    let e = step(&t(&[2, 3], DType::F32)).to_string();
    assert!(e.contains("sgd_step") && e.contains("f16_copy must be f16, got F32"), "{e}");
    if d.has_f16() {
        let e = step(&t(&[3, 2], DType::F16)).to_string();
        assert!(e.contains("sgd_step") && e.contains("f16_copy must have the parameter's shape"), "{e}");
        let e = step(&t(&[3, 2], DType::F16).transpose(0, 1).unwrap()).to_string();
        assert!(e.contains("f16_copy must be contiguous"), "{e}");
    }
}
