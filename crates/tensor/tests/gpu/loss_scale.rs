//! Dynamic loss scaling on the device: unscaling and the finite check, Keras' halve / double
//! rule, and optimizer updates that skip themselves on a non-finite step (weights and state
//! bit-identical) while Adam's bias corrections then count only the steps taken. Every update
//! kernel is covered, at sizes that take the texture form on CPU adapters too.

use wgtrain_kernels::ops::loss_scale::next_state;
use wgtrain_kernels::reference;
use wgtrain_tensor::{AdagradParams, AdamParams, RmspropParams, SgdParams};
use wgtrain_tensor::{
    LossScale, LossScaleState, Tensor, UpdateOptions, adagrad_step, adam_step, rmsprop_step, sgd_step,
};

use super::harness::{assert_close, data, dev};

fn up(v: &[f32]) -> Tensor {
    Tensor::from_slice(dev(), v, &[v.len()]).unwrap()
}

fn down(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

fn state(scale: f32, good_steps: u32, skipped: u32) -> LossScaleState {
    LossScaleState { scale, good_steps, skipped }
}

#[test]
fn unscaling_divides_and_flags_a_non_finite_gradient() {
    let s = LossScale::with_state(dev(), state(1024.0, 0, 0), 3).unwrap();
    let g = up(&[1024.0, -2048.0, 512.0, 0.0]);
    s.unscale(&g).unwrap();
    assert_eq!(down(&g), [1.0, -2.0, 0.5, 0.0]);
    s.update().unwrap();
    assert_eq!(s.read().unwrap(), state(1024.0, 1, 0), "a finite step is counted");
    let bad = up(&[1.0, f32::INFINITY, 3.0]);
    s.unscale(&g).unwrap();
    s.unscale(&bad).unwrap();
    s.update().unwrap();
    assert_eq!(s.read().unwrap(), state(512.0, 0, 1), "an infinity halves the scale and counts a skip");
    s.unscale(&up(&[f32::NAN])).unwrap();
    s.update().unwrap();
    assert_eq!(s.read().unwrap(), state(256.0, 0, 2), "so does a NaN");
    for _ in 0..3 {
        s.unscale(&g).unwrap();
        s.update().unwrap();
    }
    assert_eq!(s.read().unwrap(), state(512.0, 0, 2), "doubled after the growth interval (3 here)");
}

#[test]
fn the_scale_follows_the_twin_rule_over_many_steps_and_never_drops_below_one() {
    let s = LossScale::with_state(dev(), state(8.0, 0, 0), 4).unwrap();
    let (mut want, mut good, mut skipped) = (8.0f32, 0u32, 0u32);
    let pattern = [true, false, false, false, false, false, true, true, true, true, true, false, true];
    for &finite in pattern.iter().cycle().take(40) {
        s.unscale(&up(&[if finite { 1.0 } else { f32::INFINITY }])).unwrap();
        s.update().unwrap();
        (want, good, skipped) = next_state(want, good, skipped, finite, 4);
    }
    assert_eq!(s.read().unwrap(), state(want, good, skipped));
    assert!(want >= 1.0);
    let scale = s.scale().unwrap();
    assert_eq!((scale.shape(), scale.item::<f32>().unwrap()), (&[][..], want), "the scale as a tensor");
}

#[test]
fn bad_loss_scales_are_refused_by_name() {
    for (scale, interval) in [(0.5, 10), (f32::NAN, 10), (f32::INFINITY, 10), (4.0, 0)] {
        let e = LossScale::with_state(dev(), state(scale, 0, 0), interval).unwrap_err();
        assert!(e.to_string().contains("loss_scale"), "{e}");
    }
    let s = LossScale::new(dev()).unwrap();
    let strided = up(&[1.0; 8]).slice(0, 1, 8, 2).unwrap();
    assert!(s.unscale(&strided).unwrap_err().to_string().contains("contiguous"));
}

/// A tensor and its values before a step.
type Before = (Tensor, Vec<f32>);

/// One guarded step of every optimizer on `n` elements with gradient `grad`, from seeded
/// tensors: per optimizer, its tensors (parameter first) with their values before the step.
fn every_optimizer_step(n: usize, grad: &Tensor, guard: &LossScale, step: u64) -> Vec<(&'static str, Vec<Before>)> {
    let init = |seed: u64, positive: bool| {
        let v: Vec<f32> = data(seed, n, -1.0, 1.0).iter().map(|x| if positive { x.abs() } else { *x }).collect();
        (up(&v), v)
    };
    let mut out = Vec::new();
    let (p, buf) = (init(1, false), init(2, false));
    let hp = SgdParams { lr: 0.1, momentum: 0.9, dampening: 0.0, weight_decay: 0.01, nesterov: true, step };
    sgd_step(&p.0, grad, Some(&buf.0), &hp, UpdateOptions::guarded(guard)).unwrap();
    out.push(("sgd", vec![p, buf]));
    let (p, m, v) = (init(3, false), init(4, true), init(5, true));
    let hp = AdamParams { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled: true, step };
    adam_step(&p.0, grad, &m.0, &v.0, &hp, UpdateOptions::guarded(guard)).unwrap();
    out.push(("adam", vec![p, m, v]));
    // A centered RMSprop needs square_avg > grad_avg^2: the average starts at half the values.
    let (p, sq, mb) = (init(6, false), init(7, true), init(8, false));
    let half_root: Vec<f32> = sq.1.iter().map(|v| v.sqrt() * 0.5).collect();
    let ga = (up(&half_root), half_root);
    let hp = RmspropParams { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.9, centered: true };
    rmsprop_step(&p.0, grad, &sq.0, Some(&mb.0), Some(&ga.0), &hp, UpdateOptions::guarded(guard)).unwrap();
    out.push(("rmsprop", vec![p, sq, mb, ga]));
    let (p, sum) = (init(10, false), init(11, true));
    let hp = AdagradParams { lr: 1e-2, eps: 1e-10, weight_decay: 0.0 };
    adagrad_step(&p.0, grad, &sum.0, &hp, UpdateOptions::guarded(guard)).unwrap();
    out.push(("adagrad", vec![p, sum]));
    out
}

#[test]
fn a_flagged_step_leaves_every_optimizer_bit_identical_and_a_finite_one_updates() {
    for n in [7usize, 4100] {
        let guard = LossScale::with_state(dev(), state(2.0, 0, 0), 2000).unwrap();
        let mut grad = data(20, n, -1.0, 1.0);
        grad[n / 2] = f32::INFINITY;
        let g = up(&grad);
        guard.unscale(&g).unwrap();
        for (name, tensors) in every_optimizer_step(n, &g, &guard, 1) {
            for (i, (t, before)) in tensors.iter().enumerate() {
                let after = down(t);
                let same = after.iter().zip(before).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{name} n={n}: tensor {i} changed on a flagged step");
            }
        }
        guard.update().unwrap();
        assert_eq!(guard.read().unwrap(), state(1.0, 0, 1));
        let g = up(&data(22, n, -1.0, 1.0));
        guard.unscale(&g).unwrap();
        for (name, tensors) in every_optimizer_step(n, &g, &guard, 2) {
            let (param, before) = &tensors[0];
            let after = down(param);
            assert!(after.iter().all(|v| v.is_finite()), "{name} n={n}");
            assert!(after.iter().zip(before).any(|(a, b)| a != b), "{name} n={n}: a finite step updates");
        }
    }
}

#[test]
fn after_a_skipped_step_adam_counts_only_the_steps_taken() {
    let n = 4100;
    let guard = LossScale::with_state(dev(), state(4.0, 0, 0), 2000).unwrap();
    guard.unscale(&up(&[f32::NAN])).unwrap();
    guard.update().unwrap(); // one skipped step
    let (x, g) = (data(30, n, -1.0, 1.0), data(31, n, -1.0, 1.0));
    let (p, m, v) = (up(&x), up(&vec![0.0; n]), up(&vec![0.0; n]));
    // The host's count is 2 (the skipped step included); the device takes 2 - 1 = 1.
    let hp = AdamParams { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled: false, step: 2 };
    adam_step(&p, &up(&g), &m, &v, &hp, UpdateOptions::guarded(&guard)).unwrap();
    let first = AdamParams { step: 1, ..hp }.kernel_params(n);
    let (mut want, mut wm, mut wv) = (x.clone(), vec![0.0; n], vec![0.0; n]);
    reference::adam(&first, &mut want, &g, &mut wm, &mut wv);
    // The corrections come from f32 pow on the device instead of f64 on the host.
    assert_close(&down(&p), &want, 1e-6, 1e-5, "adam as at step 1");
    let mut unguarded = x.clone();
    reference::adam(&hp.kernel_params(n), &mut unguarded, &g, &mut vec![0.0; n], &mut vec![0.0; n]);
    let moved = |w: &[f32]| w.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum::<f32>();
    // From zero moments, step 1 moves each weight by lr, step 2 by about 0.74 lr.
    assert!(moved(&want) > 1.3 * moved(&unguarded), "step 1's correction moves further than step 2's");
}

#[test]
fn after_a_skipped_first_step_sgd_starts_its_momentum_as_a_first_step_does() {
    // With dampening, PyTorch's first step sets the buffer to the gradient, later ones to
    // momentum buf + (1 - dampening) g: a skipped first step must not turn the first taken
    // step into a later one.
    let n = 9;
    let guard = LossScale::with_state(dev(), state(4.0, 0, 0), 2000).unwrap();
    let (x, g) = (data(50, n, -1.0, 1.0), data(51, n, -1.0, 1.0));
    let (p, buf) = (up(&x), up(&vec![0.0; n]));
    let hp = SgdParams { lr: 0.1, momentum: 0.9, dampening: 0.5, weight_decay: 0.0, nesterov: false, step: 1 };
    let bad = up(&vec![f32::INFINITY; n]);
    guard.unscale(&bad).unwrap();
    sgd_step(&p, &bad, Some(&buf), &hp, UpdateOptions::guarded(&guard)).unwrap();
    guard.update().unwrap();
    sgd_step(&p, &up(&g), Some(&buf), &SgdParams { step: 2, ..hp }, UpdateOptions::guarded(&guard)).unwrap();
    assert_eq!(down(&buf), g, "the buffer starts as the gradient");
    let want: Vec<f32> = x.iter().zip(&g).map(|(x, g)| x - 0.1 * g).collect();
    assert_close(&down(&p), &want, 1e-7, 1e-6, "one first step");
}
