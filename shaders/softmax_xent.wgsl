// Fused log-softmax + cross-entropy over logits [n, c] (contiguous) with sparse u32 labels [n],
// optional class weights w [c] (all 1 when has_weights == 0) and label smoothing eps, with
// PyTorch's semantics. Per sample i with label y and lse = log sum_j exp(x_j):
//   logp_j = x_j - lse,   target t_j = (1 - eps) [j == y] + eps / c
//   loss_i = -sum_j t_j w_j logp_j = -(1 - eps) w_y logp_y - (eps / c) sum_j w_j logp_j
//   wy_i   = w_y   (the weighted mean is sum_i loss_i / sum_i wy_i)
//   dlogits_ij = up_i (p_j W_i - t_j w_j),   p_j = exp(logp_j),   W_i = sum_k t_k w_k
//              = up_i (p_j W_i - t_j w_j)   with W_i = (1 - eps) w_y + (eps / c) sum_k w_k
// The label equal to `ignore` (when has_ignore != 0; e.g. -100 as i32 bits, PyTorch's
// ignore_index) is skipped: loss 0, wy 0 and a zero gradient row. Any other label outside 0..c
// is refused by the check that runs before these kernels (fault.wgsl, reported at the next
// read-back); here it reads nothing out of range and gets the same zero row. One 256-thread workgroup per sample with fixed-order trees, or (the
// `_rows` entry points at the end, for narrow rows) one invocation per sample.
// Parameters match `XentParams` in crates/kernels/src/ops/softmax_xent.rs.

struct XentParams {
    n: u32,
    c: u32,
    has_weights: u32,
    smoothing: f32,
    has_ignore: u32,
    ignore: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: XentParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> wy: array<f32>;
@group(0) @binding(4) var<storage, read> upstream: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

// Whether sample label y contributes nothing: the ignored label, or one out of range.
fn skipped(y: u32) -> bool {
    return y >= p.c || (p.has_ignore != 0u && y == p.ignore);
}

fn weight(j: u32) -> f32 {
    if (p.has_weights != 0u) { return weights[j]; }
    return 1.0;
}

// (max, sum exp(x - max)) of a row.
fn row_lse_parts(valid: bool, base: u32, lid: u32) -> vec2<f32> {
    var m = 0.0;
    if (valid) {
        m = logits[base];
        for (var j = lid; j < p.c; j += WG) { m = max_nan(m, logits[base + j]); }
    }
    m = tree_max(m, lid);
    var s = 0.0;
    if (valid) {
        for (var j = lid; j < p.c; j += WG) { s += exp(logits[base + j] - m); }
    }
    return vec2<f32>(m, tree_sum(s, lid));
}

// Sample i's loss and label weight from its log-sum-exp and (with smoothing) sum_j w_j logp_j.
fn write_loss(i: u32, base: u32, lse: f32, smooth_sum: f32) {
    let y = labels[i];
    if (skipped(y)) {
        loss[i] = 0.0;
        wy[i] = 0.0;
        return;
    }
    let w_y = weight(y);
    let eps = p.smoothing;
    loss[i] = -(1.0 - eps) * w_y * (logits[base + y] - lse) - eps / f32(p.c) * smooth_sum;
    wy[i] = w_y;
}

@compute @workgroup_size(256)
fn xent_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = wid.x + wid.y * nwg.x;
    let valid = i < p.n;
    let base = i * p.c;
    let ms = row_lse_parts(valid, base, lid);
    let lse = ms.x + log(ms.y);
    // sum_j w_j logp_j, only needed with smoothing (p is uniform, so the barrier stays uniform).
    var smooth_sum = 0.0;
    if (p.smoothing != 0.0) {
        var a = 0.0;
        if (valid) {
            for (var j = lid; j < p.c; j += WG) { a += weight(j) * (logits[base + j] - lse); }
        }
        smooth_sum = tree_sum(a, lid);
    }
    if (!valid || lid != 0u) { return; }
    write_loss(i, base, lse, smooth_sum);
}

@compute @workgroup_size(256)
fn xent_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = wid.x + wid.y * nwg.x;
    let valid = i < p.n;
    let base = i * p.c;
    let ms = row_lse_parts(valid, base, lid);
    let eps = p.smoothing;
    let cf = f32(p.c);
    // sum_k w_k (= c without weights).
    var wsum = cf;
    if (p.has_weights != 0u) {
        var a = 0.0;
        for (var j = lid; j < p.c; j += WG) { a += weights[j]; }
        wsum = tree_sum(a, lid);
    }
    if (!valid) { return; }
    let y = labels[i];
    if (skipped(y)) {
        for (var j = lid; j < p.c; j += WG) { dlogits[base + j] = 0.0; }
        return;
    }
    let big_w = (1.0 - eps) * weight(y) + eps / cf * wsum;
    let up = upstream[i];
    for (var j = lid; j < p.c; j += WG) {
        let pj = exp(logits[base + j] - ms.x) / ms.y;
        var t = eps / cf;
        if (j == y) { t += 1.0 - eps; }
        dlogits[base + j] = up * (pj * big_w - t * weight(j));
    }
}

// Row-per-invocation variants for narrow rows (c <= `ROWS_MAX_C` in ops/softmax_xent.rs): the
// same formulas with serial loops and no workgroup trees. A tree's barriers cost a software
// adapter far more than a 10-class row's arithmetic (a 256-thread workgroup per sample was 7 ms
// of a 128-sample MLP step on lavapipe), and on a GPU a few hundred narrow rows are no load.

// (max, sum exp(x - max)) of row `base`, serially.
fn row_lse_serial(base: u32) -> vec2<f32> {
    var m = logits[base];
    for (var j = 1u; j < p.c; j++) { m = max_nan(m, logits[base + j]); }
    var s = 0.0;
    for (var j = 0u; j < p.c; j++) { s += exp(logits[base + j] - m); }
    return vec2<f32>(m, s);
}

@compute @workgroup_size(64)
fn xent_forward_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let i = serial_row(wid, nwg, lid);
    if (i >= p.n) { return; }
    let base = i * p.c;
    let ms = row_lse_serial(base);
    let lse = ms.x + log(ms.y);
    var smooth_sum = 0.0;
    if (p.smoothing != 0.0) {
        for (var j = 0u; j < p.c; j++) { smooth_sum += weight(j) * (logits[base + j] - lse); }
    }
    write_loss(i, base, lse, smooth_sum);
}

@compute @workgroup_size(64)
fn xent_backward_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let i = serial_row(wid, nwg, lid);
    if (i >= p.n) { return; }
    let base = i * p.c;
    let y = labels[i];
    if (skipped(y)) {
        for (var j = 0u; j < p.c; j++) { dlogits[base + j] = 0.0; }
        return;
    }
    let ms = row_lse_serial(base);
    let eps = p.smoothing;
    let cf = f32(p.c);
    var wsum = cf;
    if (p.has_weights != 0u) {
        wsum = 0.0;
        for (var j = 0u; j < p.c; j++) { wsum += weights[j]; }
    }
    let big_w = (1.0 - eps) * weight(y) + eps / cf * wsum;
    let up = upstream[i];
    for (var j = 0u; j < p.c; j++) {
        let pj = exp(logits[base + j] - ms.x) / ms.y;
        var t = eps / cf;
        if (j == y) { t += 1.0 - eps; }
        dlogits[base + j] = up * (pj * big_w - t * weight(j));
    }
}
