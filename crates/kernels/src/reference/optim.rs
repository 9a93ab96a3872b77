//! Twins of `optim.wgsl`: the textbook update loops of PyTorch's single-tensor optimizers, in
//! f64 per element from the same [`OptimParams`], stored back as f32 state.

use crate::ops::optim::{FLAG_CENTERED, FLAG_DECOUPLED, FLAG_FIRST, FLAG_MOMENTUM, FLAG_NESTEROV, OptimParams};

fn has(p: &OptimParams, flag: u32) -> bool {
    p.flags & flag != 0
}

/// SGD; `buf` is the momentum buffer (None: plain SGD).
pub fn sgd(p: &OptimParams, param: &mut [f32], grad: &[f32], mut buf: Option<&mut [f32]>) {
    let (lr, wd, mu, damp) = (p.lr as f64, p.weight_decay as f64, p.momentum as f64, p.dampening as f64);
    for i in 0..param.len() {
        let x = param[i] as f64;
        let mut d = grad[i] as f64 + wd * x;
        if let Some(b) = buf.as_deref_mut() {
            let nb = if has(p, FLAG_FIRST) { d } else { mu * b[i] as f64 + (1.0 - damp) * d };
            b[i] = nb as f32;
            d = if has(p, FLAG_NESTEROV) { d + mu * nb } else { nb };
        }
        param[i] = (x - lr * d) as f32;
    }
}

/// Adam, or AdamW with `FLAG_DECOUPLED`.
pub fn adam(p: &OptimParams, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    let (lr, wd, b1, b2) = (p.lr as f64, p.weight_decay as f64, p.beta1 as f64, p.beta2 as f64);
    for i in 0..param.len() {
        let mut x = param[i] as f64;
        let mut g = grad[i] as f64;
        if has(p, FLAG_DECOUPLED) {
            x *= 1.0 - lr * wd;
        } else {
            g += wd * x;
        }
        let mi = b1 * m[i] as f64 + (1.0 - b1) * g;
        let vi = b2 * v[i] as f64 + (1.0 - b2) * g * g;
        m[i] = mi as f32;
        v[i] = vi as f32;
        let denom = vi.sqrt() / p.bc2_sqrt as f64 + p.eps as f64;
        param[i] = (x - p.step_size as f64 * mi / denom) as f32;
    }
}

/// RMSprop; `buf` is bound when `FLAG_MOMENTUM`, `grad_avg` when `FLAG_CENTERED`.
pub fn rmsprop(
    p: &OptimParams,
    param: &mut [f32],
    grad: &[f32],
    square_avg: &mut [f32],
    mut buf: Option<&mut [f32]>,
    mut grad_avg: Option<&mut [f32]>,
) {
    let (lr, wd, alpha, eps) = (p.lr as f64, p.weight_decay as f64, p.alpha as f64, p.eps as f64);
    for i in 0..param.len() {
        let x = param[i] as f64;
        let g = grad[i] as f64 + wd * x;
        let sq = alpha * square_avg[i] as f64 + (1.0 - alpha) * g * g;
        square_avg[i] = sq as f32;
        let mut var = sq;
        if let (true, Some(ga)) = (has(p, FLAG_CENTERED), grad_avg.as_deref_mut()) {
            let a = alpha * ga[i] as f64 + (1.0 - alpha) * g;
            ga[i] = a as f32;
            var -= a * a;
        }
        let avg = var.sqrt() + eps;
        param[i] = match (has(p, FLAG_MOMENTUM), buf.as_deref_mut()) {
            (true, Some(b)) => {
                let nb = p.momentum as f64 * b[i] as f64 + g / avg;
                b[i] = nb as f32;
                (x - lr * nb) as f32
            }
            _ => (x - lr * g / avg) as f32,
        };
    }
}

/// Adagrad without lr decay; `sum` is the accumulator.
pub fn adagrad(p: &OptimParams, param: &mut [f32], grad: &[f32], sum: &mut [f32]) {
    for i in 0..param.len() {
        let x = param[i] as f64;
        let g = grad[i] as f64 + p.weight_decay as f64 * x;
        let s = sum[i] as f64 + g * g;
        sum[i] = s as f32;
        param[i] = (x - p.lr as f64 * g / (s.sqrt() + p.eps as f64)) as f32;
    }
}
