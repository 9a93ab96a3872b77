// Fused optimizer updates with PyTorch semantics: one dispatch per parameter tensor updates the
// parameter and its state in place, one thread per element. One entry point per optimizer
// because each binds a different set of state tensors; all share `OptimParams`. Step-dependent
// scalars (Adam's bias corrections, SGD's first step) are computed on the host per step.
//
// All tensors are contiguous f32 of the same length `n`, from element 0.
//
// Every entry point first reads the guard (binding 1; the texture form binds it last): the
// state of a dynamic loss scale (loss_scale.wgsl), whose word 1 says the gradients of this step
// held a non-finite value and the update is skipped, and whose word 3 counts the steps skipped
// so far. Unscaled training binds a zero word there. Adam's bias corrections count only the
// steps taken: once any step was skipped they are computed here from `t` minus the skips.
//
// Every update hands its new parameter to `refresh_copy` (a part composed before this file):
// a no-op for plain training (optim_copy_none.wgsl), the store of the parameter's f16 copy
// under mixed precision (optim_copy_f16.wgsl). A skipped update leaves both untouched.

struct OptimParams {
    n: u32,
    flags: u32,        // FLAG_* below
    t: u32,            // Adam, SGD: the host's step count (saturating), skipped steps included
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
@group(0) @binding(1) var<storage, read> guard: array<u32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> s1: array<f32>;  // momentum buf / m / square_avg / sum
@group(0) @binding(5) var<storage, read_write> s2: array<f32>;  // v / RMSprop momentum buf
@group(0) @binding(6) var<storage, read_write> s3: array<f32>;  // RMSprop grad_avg

// Guard words (loss_scale.wgsl): 1 = this step's gradients are not finite, 3 = steps skipped.
const GUARD_SKIP: u32 = 1u;
const GUARD_SKIPPED: u32 = 3u;

// 1 when a loss scale guards the update. Unguarded pipelines (0) fold every guard test away,
// so plain training runs exactly the arithmetic it ran before guards existed.
override GUARDED: u32 = 0u;

// Whether the guard says to skip this step.
fn skip(word: u32) -> bool {
    return GUARDED != 0u && word != 0u;
}

// SGD's first step (the momentum buffer starts as the gradient): the host's flag, unless steps
// were skipped; then whether this is the first step taken (`t` minus the skips).
fn first_step(skipped: u32) -> bool {
    if (GUARDED == 0u || skipped == 0u) { return has(FLAG_FIRST); }
    return p.t <= skipped + 1u;
}

// Adam's (step_size, bc2_sqrt): the host's, unless steps were skipped; then from the steps
// taken (at least this one). The skips are the model's, the step count `t` the parameter's:
// exact when every parameter is updated every step. A parameter first updated after skips (one
// unfrozen later) counts them too, which the max(.., 1) keeps from dividing by zero; its first
// updates then take step 1's larger correction. SGD's first-step rule counts the same way
// (`first_step`).
fn adam_scalars(skipped: u32) -> vec2<f32> {
    if (GUARDED == 0u || skipped == 0u) { return vec2<f32>(p.step_size, p.bc2_sqrt); }
    let t = f32(max(p.t - min(skipped, p.t), 1u));
    return vec2<f32>(p.lr / (1.0 - pow(p.beta1, t)), sqrt(1.0 - pow(p.beta2, t)));
}

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
    if (i >= p.n || skip(guard[GUARD_SKIP])) { return; }
    let x = param[i];
    let y = x - p.lr * (grad[i] + p.weight_decay * x);
    param[i] = y;
    refresh_copy(i, y);
}

// SGD with momentum: d = g + wd p; buf = d (first step) or momentum buf + (1 - dampening) d;
// p -= lr * (nesterov ? d + momentum buf : buf).
@compute @workgroup_size(256)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n || skip(guard[GUARD_SKIP])) { return; }
    let x = param[i];
    let d = grad[i] + p.weight_decay * x;
    var b = d;
    if (!first_step(guard[GUARD_SKIPPED])) { b = p.momentum * s1[i] + (1.0 - p.dampening) * d; }
    s1[i] = b;
    let step = select(b, d + p.momentum * b, has(FLAG_NESTEROV));
    let y = x - p.lr * step;
    param[i] = y;
    refresh_copy(i, y);
}

// Adam / AdamW: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= step_size * m / (sqrt(v) / bc2_sqrt + eps).
@compute @workgroup_size(256)
fn adam_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n || skip(guard[GUARD_SKIP])) { return; }
    var x = param[i];
    var g = grad[i];
    if (has(FLAG_DECOUPLED)) { x = x * (1.0 - p.lr * p.weight_decay); } else { g = g + p.weight_decay * x; }
    let m = p.beta1 * s1[i] + (1.0 - p.beta1) * g;
    let v = p.beta2 * s2[i] + (1.0 - p.beta2) * g * g;
    s1[i] = m;
    s2[i] = v;
    let c = adam_scalars(guard[GUARD_SKIPPED]);
    let y = x - c.x * m / (sqrt(v) / c.y + p.eps);
    param[i] = y;
    refresh_copy(i, y);
}

// RMSprop: g += wd p; sq = alpha sq + (1 - alpha) g^2; centered: ga = alpha ga + (1 - alpha) g,
// avg = sqrt(sq - ga^2) + eps, else sqrt(sq) + eps; momentum: buf = momentum buf + g / avg,
// p -= lr buf; else p -= lr g / avg.
@compute @workgroup_size(256)
fn rmsprop_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n || skip(guard[GUARD_SKIP])) { return; }
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
    var y = x - p.lr * g / avg;
    if (has(FLAG_MOMENTUM)) {
        let b = p.momentum * s2[i] + g / avg;
        s2[i] = b;
        y = x - p.lr * b;
    }
    param[i] = y;
    refresh_copy(i, y);
}

// Adagrad: g += wd p; sum += g^2; p -= lr g / (sqrt(sum) + eps).
@compute @workgroup_size(256)
fn adagrad_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n || skip(guard[GUARD_SKIP])) { return; }
    let x = param[i];
    let g = grad[i] + p.weight_decay * x;
    let s = s1[i] + g * g;
    s1[i] = s;
    let y = x - p.lr * g / (sqrt(s) + p.eps);
    param[i] = y;
    refresh_copy(i, y);
}

// Vector variants, four elements an invocation (n a multiple of 4; the launcher picks them).
// Same arithmetic per element as the scalar entry points, so the results are identical; on a
// CPU adapter a vec4 access costs about what a scalar one does, and these kernels are nothing
// but memory traffic.
@group(0) @binding(2) var<storage, read_write> param4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> grad4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> s1_4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> s2_4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn adam_update4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n / 4u || skip(guard[GUARD_SKIP])) { return; }
    let r = adam4(param4[i], grad4[i], s1_4[i], s2_4[i], adam_scalars(guard[GUARD_SKIPPED]));
    s1_4[i] = r.m;
    s2_4[i] = r.v;
    param4[i] = r.x;
    refresh_copy4(i, r.x);
}

// Four elements of an Adam step: the new parameter and moments.
struct Adam4 {
    x: vec4<f32>,
    m: vec4<f32>,
    v: vec4<f32>,
}

fn adam4(x0: vec4<f32>, g0: vec4<f32>, m0: vec4<f32>, v0: vec4<f32>, c: vec2<f32>) -> Adam4 {
    var x = x0;
    var g = g0;
    if (has(FLAG_DECOUPLED)) { x = x * (1.0 - p.lr * p.weight_decay); } else { g = g + p.weight_decay * x; }
    let m = p.beta1 * m0 + (1.0 - p.beta1) * g;
    let v = p.beta2 * v0 + (1.0 - p.beta2) * g * g;
    return Adam4(x - c.x * m / (sqrt(v) / c.y + p.eps), m, v);
}
