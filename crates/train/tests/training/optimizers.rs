//! Optimizers' first three steps against PyTorch's formulas computed here, state round trips,
//! clipping, and schedules.

use wgtrain::Param;
use wgtrain::autograd::Var;
use wgtrain::optim::*;

use crate::harness::{assert_close, tensor};

/// Runs three steps of `opt` on a parameter x0 with gradients `grads[k]`, returning x after each.
fn run(opt: &mut dyn Optimizer, x0: &[f32], grads: &[[f32; 2]; 3]) -> Vec<Vec<f32>> {
    let p = Param::new("w", Var::parameter(tensor(x0, &[2])));
    grads
        .iter()
        .map(|g| {
            p.var.set_grad(Some(tensor(g, &[2]))).unwrap();
            opt.step(std::slice::from_ref(&p)).unwrap();
            p.var.to_vec().unwrap()
        })
        .collect()
}

const X0: [f32; 2] = [1.0, -2.0];
const G: [[f32; 2]; 3] = [[0.5, -1.0], [0.25, 2.0], [-1.0, 0.5]];

/// Host SGD: b = mu b + (1 - damp) d (b = d at step 1), x -= lr (nesterov ? d + mu b : b).
fn sgd_host(lr: f64, mu: f64, wd: f64, nesterov: bool) -> Vec<Vec<f32>> {
    let (mut x, mut b) = ([X0[0] as f64, X0[1] as f64], [0.0f64; 2]);
    let mut out = Vec::new();
    for (k, g) in G.iter().enumerate() {
        for i in 0..2 {
            let d = g[i] as f64 + wd * x[i];
            b[i] = if k == 0 { d } else { mu * b[i] + d };
            let step = if mu == 0.0 {
                d
            } else if nesterov {
                d + mu * b[i]
            } else {
                b[i]
            };
            x[i] -= lr * step;
        }
        out.push(x.iter().map(|&v| v as f32).collect());
    }
    out
}

#[test]
fn sgd_plain_momentum_nesterov_and_weight_decay() {
    for (mu, wd, nesterov) in [(0.0, 0.0, false), (0.9, 0.0, false), (0.9, 0.01, true)] {
        let mut opt = Sgd::new(0.1).momentum(mu as f32).weight_decay(wd as f32).nesterov(nesterov);
        let got = run(&mut opt, &X0, &G);
        for (g, w) in got.iter().zip(sgd_host(0.1, mu, wd, nesterov)) {
            assert_close(g, &w, 1e-6);
        }
    }
}

/// Host Adam/AdamW (PyTorch): m, v moments, bias-corrected, eps outside the root.
fn adam_host(lr: f64, wd: f64, decoupled: bool) -> Vec<Vec<f32>> {
    // Keras' eps (PyTorch's form otherwise).
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-7f64);
    let (mut x, mut m, mut v) = ([X0[0] as f64, X0[1] as f64], [0.0f64; 2], [0.0f64; 2]);
    let mut out = Vec::new();
    for (k, g) in G.iter().enumerate() {
        let t = (k + 1) as i32;
        for i in 0..2 {
            let mut gi = g[i] as f64;
            if decoupled {
                x[i] *= 1.0 - lr * wd;
            } else {
                gi += wd * x[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            let (mh, vh) = (m[i] / (1.0 - b1.powi(t)), v[i] / (1.0 - b2.powi(t)));
            x[i] -= lr * mh / (vh.sqrt() + eps);
        }
        out.push(x.iter().map(|&v| v as f32).collect());
    }
    out
}

#[test]
fn adam_and_adamw() {
    let got = run(&mut Adam::new(0.01), &X0, &G);
    for (g, w) in got.iter().zip(adam_host(0.01, 0.0, false)) {
        assert_close(g, &w, 1e-5);
    }
    let got = run(&mut Adam::new(0.01).weight_decay(0.1), &X0, &G);
    for (g, w) in got.iter().zip(adam_host(0.01, 0.1, false)) {
        assert_close(g, &w, 1e-5);
    }
    let got = run(&mut AdamW::new(0.01, 0.1), &X0, &G);
    for (g, w) in got.iter().zip(adam_host(0.01, 0.1, true)) {
        assert_close(g, &w, 1e-5);
    }
}

#[test]
fn rmsprop_and_adagrad() {
    // RMSprop (PyTorch), centered with momentum: s = a s + (1 - a) g^2, ga = a ga + (1 - a) g,
    // b = mu b + g / (sqrt(s - ga^2) + eps), x -= lr b.
    let (lr, a, mu, eps) = (0.01f64, 0.99f64, 0.5f64, 1e-8f64);
    let (mut x, mut s, mut ga, mut b) = ([X0[0] as f64, X0[1] as f64], [0.0f64; 2], [0.0f64; 2], [0.0f64; 2]);
    let got = run(&mut Rmsprop::new(0.01).momentum(0.5).centered(true), &X0, &G);
    for (k, g) in G.iter().enumerate() {
        for i in 0..2 {
            let gi = g[i] as f64;
            s[i] = a * s[i] + (1.0 - a) * gi * gi;
            ga[i] = a * ga[i] + (1.0 - a) * gi;
            b[i] = mu * b[i] + gi / ((s[i] - ga[i] * ga[i]).sqrt() + eps);
            x[i] -= lr * b[i];
        }
        assert_close(&got[k], &x.map(|v| v as f32), 1e-5);
    }
    // Adagrad: acc += g^2, x -= lr g / (sqrt(acc) + eps), acc starting at 0.1.
    let (mut x, mut acc) = ([X0[0] as f64, X0[1] as f64], [0.1f64; 2]);
    let got = run(&mut Adagrad::new(0.5).initial_accumulator(0.1), &X0, &G);
    for (k, g) in G.iter().enumerate() {
        for i in 0..2 {
            acc[i] += (g[i] as f64).powi(2);
            x[i] -= 0.5 * g[i] as f64 / (acc[i].sqrt() + 1e-10);
        }
        assert_close(&got[k], &x.map(|v| v as f32), 1e-5);
    }
}

#[test]
fn state_round_trips_and_mismatches_are_refused() {
    let p = Param::new("dense_1/kernel", Var::parameter(tensor(&X0, &[2])));
    let q = Param::new("dense_1/kernel", Var::parameter(tensor(&X0, &[2])));
    let mut a = Adam::new(0.05);
    for g in &G[..2] {
        p.var.set_grad(Some(tensor(g, &[2]))).unwrap();
        a.step(std::slice::from_ref(&p)).unwrap();
    }
    let state = a.state();
    assert_eq!((state.kind.as_str(), state.step, state.tensors.len()), ("Adam", 2, 2));
    assert!(state.tensors.iter().any(|(n, _)| n == "dense_1/kernel/m"));
    let mut b = Adam::new(0.05);
    b.load_state(&state).unwrap();
    q.var.data().assign(p.var.data()).unwrap();
    for (opt, param) in [(&mut a, &p), (&mut b, &q)] {
        param.var.set_grad(Some(tensor(&G[2], &[2]))).unwrap();
        opt.step(std::slice::from_ref(param)).unwrap();
    }
    assert_eq!(p.var.to_vec().unwrap(), q.var.to_vec().unwrap());
    let err = Sgd::new(0.1).momentum(0.9).load_state(&state).unwrap_err().to_string();
    assert!(err.contains("Adam") && err.contains("SGD"), "{err}");
    // Restored state of another shape is reported at the next step.
    let mut c = Adam::new(0.05);
    c.load_state(&state).unwrap();
    let wide = Param::new("dense_1/kernel", Var::parameter(tensor(&[0.0; 3], &[3])));
    wide.var.set_grad(Some(tensor(&[1.0; 3], &[3]))).unwrap();
    let err = c.step(&[wide]).unwrap_err().to_string();
    assert!(err.contains("dense_1/kernel/m") && err.contains("[2]") && err.contains("[3]"), "{err}");
}

#[test]
fn a_parameter_that_starts_late_gets_its_own_step_count() {
    // `late` has no gradient (frozen) for 5 steps of `early`, then joins: its first Adam update
    // must be PyTorch's first step, lr * g / (|g| + eps), not one bias-corrected for step 6
    // (which would move it by about 0.52 lr).
    let early = Param::new("early", Var::parameter(tensor(&X0, &[2])));
    let late = Param::new("late", Var::parameter(tensor(&X0, &[2])));
    let mut opt = Adam::new(0.1);
    let both = [early.clone(), late.clone()];
    for g in G.iter().cycle().take(5) {
        early.var.set_grad(Some(tensor(g, &[2]))).unwrap();
        opt.step(&both).unwrap();
    }
    assert_eq!(late.var.to_vec().unwrap(), X0);
    early.var.set_grad(Some(tensor(&G[0], &[2]))).unwrap();
    late.var.set_grad(Some(tensor(&G[0], &[2]))).unwrap();
    opt.step(&both).unwrap();
    let want: Vec<f32> = X0.iter().zip(&G[0]).map(|(x, g)| x - 0.1 * g.signum()).collect();
    assert_close(&late.var.to_vec().unwrap(), &want, 1e-6);
    // The counts travel with the state: 6 updates of early, 1 of late.
    let mut steps = opt.state().param_steps;
    steps.sort();
    assert_eq!(steps, vec![("early".to_string(), 6), ("late".to_string(), 1)]);
    let mut restored = Adam::new(0.1);
    restored.load_state(&opt.state()).unwrap();
    assert_eq!(restored.state().param_steps.len(), 2);
    // A parameter with state but no count (an older checkpoint) is taken to be at the
    // optimizer's step, not restarted at 1 with moments already built up.
    let mut partial = opt.state();
    partial.param_steps.retain(|(k, _)| k == "late");
    restored.load_state(&partial).unwrap();
    let mut steps = restored.state().param_steps;
    steps.sort();
    assert_eq!(steps, vec![("early".to_string(), 6), ("late".to_string(), 1)]);
}

#[test]
fn gradient_clipping_by_value_norm_and_global_norm() {
    let params: Vec<Param> =
        (0..2).map(|i| Param::new(format!("p{i}"), Var::parameter(tensor(&[0.0, 0.0], &[2])))).collect();
    let grads = [[3.0f32, 4.0], [0.0, 0.5]];
    let set = || {
        for (p, g) in params.iter().zip(&grads) {
            p.var.set_grad(Some(tensor(g, &[2]))).unwrap();
        }
    };
    // lr 1 SGD: the parameter moves by minus the clipped gradient.
    let moved = |clip: GradClip| -> Vec<Vec<f32>> {
        params.iter().for_each(|p| p.var.data().assign(&tensor(&[0.0, 0.0], &[2])).unwrap());
        set();
        Sgd::new(1.0).clip(clip).step(&params).unwrap();
        params.iter().map(|p| p.var.to_vec().unwrap().iter().map(|v| -v).collect()).collect()
    };
    let v = moved(GradClip::Value(1.0));
    assert_eq!(v, vec![vec![1.0, 1.0], vec![0.0, 0.5]]);
    let n = moved(GradClip::Norm(1.0)); // |[3, 4]| = 5 -> scaled by 1 / 5; |[0, .5]| < 1 kept
    assert_close(&n[0], &[0.6, 0.8], 1e-5);
    assert_close(&n[1], &[0.0, 0.5], 1e-6);
    let total = (25.0f32 + 0.25).sqrt();
    let gn = moved(GradClip::GlobalNorm(1.0));
    assert_close(&gn[0], &[3.0 / total, 4.0 / total], 1e-5);
    assert_close(&gn[1], &[0.0, 0.5 / total], 1e-5);
}

#[test]
fn schedules_follow_their_formulas() {
    assert_eq!(Constant(0.3).lr(99), 0.3);
    let s = StepDecay { initial: 1.0, every: 10, factor: 0.5 };
    assert_eq!((s.lr(0), s.lr(9), s.lr(10), s.lr(25)), (1.0, 1.0, 0.5, 0.25));
    let e = ExponentialDecay { initial: 1.0, decay_steps: 10, rate: 0.5, staircase: false };
    assert!((e.lr(5) - 0.5f32.powf(0.5)).abs() < 1e-6);
    let e = ExponentialDecay { staircase: true, ..e };
    assert_eq!((e.lr(5), e.lr(10)), (1.0, 0.5));
    let i = InverseTimeDecay { initial: 1.0, decay_steps: 1, rate: 0.5, staircase: false };
    assert!((i.lr(2) - 0.5).abs() < 1e-6);
    let p = PiecewiseConstant { boundaries: vec![10, 20], values: vec![1.0, 0.5, 0.1] };
    assert_eq!((p.lr(10), p.lr(11), p.lr(20), p.lr(21)), (1.0, 0.5, 0.5, 0.1));
    let c = CosineAnnealing { max: 1.0, min: 0.0, period: 10, t_mult: 2 };
    assert!((c.lr(0) - 1.0).abs() < 1e-6 && (c.lr(5) - 0.5).abs() < 1e-6);
    // Restart at 10 with a period of 20: halfway at 20.
    assert!((c.lr(10) - 1.0).abs() < 1e-6 && (c.lr(20) - 0.5).abs() < 1e-6 && (c.lr(30) - 1.0).abs() < 1e-6);
    let o = OneCycle::new(1.0, 100);
    assert!((o.lr(0) - 0.04).abs() < 1e-6);
    assert!((o.lr(29) - 1.0).abs() < 1e-6);
    assert!((o.lr(99) - 1.0 / 25e4).abs() < 1e-7);
    let w = Warmup::linear(4, Constant(0.8));
    assert_eq!((w.lr(0), w.lr(3), w.lr(4)), (0.2, 0.8, 0.8));
}
