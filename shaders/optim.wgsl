// Fused optimizer updates with PyTorch semantics: one dispatch per parameter tensor updates the
// parameter and its state in place, one thread per element. One entry point per optimizer
// because each binds a different set of state tensors; all share `OptimParams`. Step-dependent
// scalars (Adam's bias corrections, SGD's first step) are computed on the host per step.
//
// All tensors are contiguous f32 of the same length `n`, from element 0.

struct OptimParams {
    n: u32,
    flags: u32,        // FLAG_* below
    _pad0: u32,
    _pad1: u32,
    lr: f32,
    weight_decay: f32,
    momentum: f32,     // SGD, RMSprop
    dampening: f32,    // SGD
    beta1: f32,        // Adam
    beta2: f32,        // Adam
    eps: f32,          // Adam, RMSprop, Adagrad
    step_size: f32,    // Adam: lr / (1 - beta1^t)
    bc2_sqrt: f32,     // Adam: sqrt(1 - beta2^t)
    alpha: f32,        // RMSprop smoothing constant
    _pad2: u32,
    _pad3: u32,
}

const FLAG_NESTEROV: u32 = 1u;    // SGD
const FLAG_FIRST: u32 = 2u;       // SGD: the momentum buffer starts as the gradient
const FLAG_DECOUPLED: u32 = 4u;   // AdamW: p -= lr * wd * p instead of L2 in the gradient
const FLAG_CENTERED: u32 = 8u;    // RMSprop
const FLAG_MOMENTUM: u32 = 16u;   // RMSprop: momentum > 0, the buffer is bound

@group(0) @binding(0) var<uniform> p: OptimParams;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> s1: array<f32>;  // momentum buf / m / square_avg / sum
@group(0) @binding(4) var<storage, read_write> s2: array<f32>;  // v / RMSprop momentum buf
@group(0) @binding(5) var<storage, read_write> s3: array<f32>;  // RMSprop grad_avg

fn linear(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * 256u + lid;
}

fn has(flag: u32) -> bool {
    return (p.flags & flag) != 0u;
}

// SGD without momentum: p -= lr * (g + wd * p).
@compute @workgroup_size(256)
fn sgd_plain(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    let x = param[i];
    param[i] = x - p.lr * (grad[i] + p.weight_decay * x);
}

// SGD with momentum: d = g + wd p; buf = d (first step) or momentum buf + (1 - dampening) d;
// p -= lr * (nesterov ? d + momentum buf : buf).
@compute @workgroup_size(256)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    let x = param[i];
    let d = grad[i] + p.weight_decay * x;
    var b = d;
    if (!has(FLAG_FIRST)) { b = p.momentum * s1[i] + (1.0 - p.dampening) * d; }
    s1[i] = b;
    let step = select(b, d + p.momentum * b, has(FLAG_NESTEROV));
    param[i] = x - p.lr * step;
}

// Adam / AdamW: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= step_size * m / (sqrt(v) / bc2_sqrt + eps).
@compute @workgroup_size(256)
fn adam_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    var x = param[i];
    var g = grad[i];
    if (has(FLAG_DECOUPLED)) { x = x * (1.0 - p.lr * p.weight_decay); } else { g = g + p.weight_decay * x; }
    let m = p.beta1 * s1[i] + (1.0 - p.beta1) * g;
    let v = p.beta2 * s2[i] + (1.0 - p.beta2) * g * g;
    s1[i] = m;
    s2[i] = v;
    param[i] = x - p.step_size * m / (sqrt(v) / p.bc2_sqrt + p.eps);
}

// RMSprop: g += wd p; sq = alpha sq + (1 - alpha) g^2; centered: ga = alpha ga + (1 - alpha) g,
// avg = sqrt(sq - ga^2) + eps, else sqrt(sq) + eps; momentum: buf = momentum buf + g / avg,
// p -= lr buf; else p -= lr g / avg.
@compute @workgroup_size(256)
fn rmsprop_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    let x = param[i];
    let g = grad[i] + p.weight_decay * x;
    let sq = p.alpha * s1[i] + (1.0 - p.alpha) * g * g;
    s1[i] = sq;
    var var_ = sq;
    if (has(FLAG_CENTERED)) {
        let ga = p.alpha * s3[i] + (1.0 - p.alpha) * g;
        s3[i] = ga;
        var_ = sq - ga * ga;
    }
    let avg = sqrt(var_) + p.eps;
    if (has(FLAG_MOMENTUM)) {
        let b = p.momentum * s2[i] + g / avg;
        s2[i] = b;
        param[i] = x - p.lr * b;
    } else {
        param[i] = x - p.lr * g / avg;
    }
}

// Adagrad: g += wd p; sum += g^2; p -= lr g / (sqrt(sum) + eps).
@compute @workgroup_size(256)
fn adagrad_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    let x = param[i];
    let g = grad[i] + p.weight_decay * x;
    let s = s1[i] + g * g;
    s1[i] = s;
    param[i] = x - p.lr * g / (sqrt(s) + p.eps);
}

// Vector variants, four elements an invocation (n a multiple of 4; the launcher picks them).
// Same arithmetic per element as the scalar entry points, so the results are identical; on a
// CPU adapter a vec4 access costs about what a scalar one does, and these kernels are nothing
// but memory traffic.
@group(0) @binding(1) var<storage, read_write> param4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grad4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> s1_4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> s2_4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn adam_update4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n / 4u) { return; }
    let r = adam4(param4[i], grad4[i], s1_4[i], s2_4[i]);
    s1_4[i] = r.m;
    s2_4[i] = r.v;
    param4[i] = r.x;
}

// Four elements of an Adam step: the new parameter and moments.
struct Adam4 {
    x: vec4<f32>,
    m: vec4<f32>,
    v: vec4<f32>,
}

fn adam4(x0: vec4<f32>, g0: vec4<f32>, m0: vec4<f32>, v0: vec4<f32>) -> Adam4 {
    var x = x0;
    var g = g0;
    if (has(FLAG_DECOUPLED)) { x = x * (1.0 - p.lr * p.weight_decay); } else { g = g + p.weight_decay * x; }
    let m = p.beta1 * m0 + (1.0 - p.beta1) * g;
    let v = p.beta2 * v0 + (1.0 - p.beta2) * g * g;
    return Adam4(x - p.step_size * m / (sqrt(v) / p.bc2_sqrt + p.eps), m, v);
}
