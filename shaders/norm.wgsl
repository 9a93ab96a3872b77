// Layer norm and batch norm, forward and backward. Parameters match `NormParams` in
// crates/kernels/src/ops/norm.rs.
//
// Layout: layer norm views its input as [rows, D] (outer = rows, chans = 1, inner = D); batch norm
// as [N, C, HW] (outer = N, chans = C, inner = HW), one channel's M = N * HW elements at
// (n * C + c) * HW + s. Statistics are two-pass (mean first, then the mean of squared deviations)
// so an input like x + 1e4 keeps its variance: the one-pass E[x^2] - E[x]^2 cancels to noise there.
// Both passes sum x - shift (shift = the group's first element) to keep partial sums small.
//
// Determinism: every sum is an invocation-private strided loop in a fixed order followed by a
// fixed-shape tree in workgroup memory, or a single invocation looping in order. No atomics.
//
// One module, several binding layouts: variables of different entry points may share a binding
// number (an entry point sees only the variables it uses). Each entry point lists its bindings.

struct NormParams {
    outer: u32,
    chans: u32,
    inner: u32,
    has_gamma: u32,
    has_beta: u32,
    eps: f32,
    momentum: f32,
    from_var: u32,   // batch_norm_apply: 1 = (running mean, running var), 0 = (shift/delta, rstd)
    mean_off: u32,   // element offset of the mean / running mean in its binding
    var_off: u32,    // element offset of rstd / the running variance in its binding
    _pad0: u32,
    _pad1: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: NormParams;

// Forward kernels: x first.
@group(0) @binding(1) var<storage, read> x: array<f32>;
// layer_norm_forward: (x, gamma, beta, y, mean_out, rstd_out)
// batch_norm_apply: (x, gamma, beta, y, mean_in, stat_in)
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(5) var<storage, read> mean_in: array<f32>;
@group(0) @binding(6) var<storage, read> stat_in: array<f32>;
// batch_norm_stats: (x, mean_w, rstd_w, var_w [3, C] scratch)
@group(0) @binding(2) var<storage, read_write> mean_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd_w: array<f32>;
@group(0) @binding(4) var<storage, read_write> var_w: array<f32>;
// batch_norm_update_running: (batch_mean, batch_var, running_mean, running_var)
@group(0) @binding(1) var<storage, read> batch_mean: array<f32>;
@group(0) @binding(2) var<storage, read> batch_var: array<f32>;
@group(0) @binding(3) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_var: array<f32>;
// Backward kernels: (x, gamma, dy, mean, rstd, ...)
//   layer_norm_backward_dx:     (..., dx)
//   layer_norm_backward_params, batch_norm_backward_reduce: (..., dgamma, dbeta)
//   batch_norm_backward_dx:     (..., sum_dy_xhat, sum_dy, dx)
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(6) var<storage, read> sum_dy_xhat: array<f32>;
@group(0) @binding(7) var<storage, read> sum_dy: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx_bn: array<f32>;

var<workgroup> red: array<vec2<f32>, 256>;

// The workgroup's linear id over a grid_1d grid.
fn group_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

// Fixed-shape tree sum of every invocation's `v` (two sums at once); all invocations get the
// totals. Must be called from workgroup-uniform control flow.
fn wg_sum(v: vec2<f32>, lid: u32) -> vec2<f32> {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) { red[lid] += red[lid + s]; }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier(); // every invocation has read red[0] before red is reused
    return total;
}

fn gamma_at(i: u32) -> f32 {
    if (p.has_gamma != 0u) { return gamma[i]; }
    return 1.0;
}

fn beta_at(i: u32) -> f32 {
    if (p.has_beta != 0u) { return beta[i]; }
    return 0.0;
}

// ---- layer norm: a workgroup per row ----

@compute @workgroup_size(256)
fn layer_norm_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let row = group_id(wid, nwg);
    if (row >= p.outer) { return; }
    let d = p.inner;
    let base = row * d;
    // Sums of x - shift (exact for values near the shift) keep the partial sums small, so the
    // centered values (x - shift) - delta stay accurate even far from zero.
    let shift = x[base];
    var s = 0.0;
    for (var j = lid; j < d; j += WG) { s += x[base + j] - shift; }
    let delta = wg_sum(vec2<f32>(s, 0.0), lid).x / f32(d);
    var q = 0.0;
    for (var j = lid; j < d; j += WG) {
        let c = (x[base + j] - shift) - delta;
        q += c * c;
    }
    let r = 1.0 / sqrt(wg_sum(vec2<f32>(q, 0.0), lid).x / f32(d) + p.eps);
    for (var j = lid; j < d; j += WG) {
        y[base + j] = ((x[base + j] - shift) - delta) * r * gamma_at(j) + beta_at(j);
    }
    let mu = shift + delta;
    if (lid == 0u) {
        mean_out[row] = mu;
        rstd_out[row] = r;
    }
}

// dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma.
@compute @workgroup_size(256)
fn layer_norm_backward_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
    let row = group_id(wid, nwg);
    if (row >= p.outer) { return; }
    let d = p.inner;
    let base = row * d;
    let mu = mean[row];
    let r = rstd[row];
    var acc = vec2<f32>(0.0, 0.0);
    for (var j = lid; j < d; j += WG) {
        let g = dy[base + j] * gamma_at(j);
        acc += vec2<f32>(g, g * (x[base + j] - mu) * r);
    }
    let m = wg_sum(acc, lid) / f32(d);
    for (var j = lid; j < d; j += WG) {
        let g = dy[base + j] * gamma_at(j);
        let xhat = (x[base + j] - mu) * r;
        dx[base + j] = r * (g - m.x - xhat * m.y);
    }
}

// dgamma[j] = sum_rows dy xhat, dbeta[j] = sum_rows dy: an invocation per column, rows in order.
@compute @workgroup_size(256)
fn layer_norm_backward_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                              @builtin(local_invocation_index) lid: u32) {
    let j = group_id(wid, nwg) * WG + lid;
    let d = p.inner;
    if (j >= d) { return; }
    var dg = 0.0;
    var db = 0.0;
    for (var row = 0u; row < p.outer; row++) {
        let g = dy[row * d + j];
        dg += g * (x[row * d + j] - mean[row]) * rstd[row];
        db += g;
    }
    dgamma[j] = dg;
    dbeta[j] = db;
}

// ---- batch norm: statistics per channel over N * HW ----

fn bn_index(c: u32, m: u32) -> u32 {
    let n = m / p.inner;
    return (n * p.chans + c) * p.inner + (m - n * p.inner);
}

// A workgroup per channel: batch mean, rstd and biased variance.
@compute @workgroup_size(256)
fn batch_norm_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let c = group_id(wid, nwg);
    if (c >= p.chans) { return; }
    let count = p.outer * p.inner;
    let shift = x[bn_index(c, 0u)]; // as in layer_norm_forward
    var s = 0.0;
    for (var m = lid; m < count; m += WG) { s += x[bn_index(c, m)] - shift; }
    let delta = wg_sum(vec2<f32>(s, 0.0), lid).x / f32(count);
    var q = 0.0;
    for (var m = lid; m < count; m += WG) {
        let d = (x[bn_index(c, m)] - shift) - delta;
        q += d * d;
    }
    let v = wg_sum(vec2<f32>(q, 0.0), lid).x / f32(count);
    let mu = shift + delta;
    if (lid == 0u) {
        mean_w[c] = mu;
        rstd_w[c] = 1.0 / sqrt(v + p.eps);
        // Scratch [3, C]: the variance for the running update, then shift and delta, so that
        // batch_norm_apply centers x exactly as here (mean rounded to f32 would lose ~ulp(x)).
        var_w[c] = v;
        var_w[p.chans + c] = shift;
        var_w[2u * p.chans + c] = delta;
    }
}

// running = (1 - momentum) running + momentum batch, with the unbiased batch variance (PyTorch).
@compute @workgroup_size(256)
fn batch_norm_update_running(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_index) lid: u32) {
    let c = group_id(wid, nwg) * WG + lid;
    if (c >= p.chans) { return; }
    let count = f32(p.outer * p.inner);
    let unbiased = batch_var[c] * count / (count - 1.0);
    let k = p.momentum;
    running_mean[p.mean_off + c] = (1.0 - k) * running_mean[p.mean_off + c] + k * batch_mean[c];
    running_var[p.var_off + c] = (1.0 - k) * running_var[p.var_off + c] + k * unbiased;
}

// y = (x - mean[c]) rstd[c] gamma[c] + beta[c], an invocation per element; in eval mode the
// statistics are the running mean and variance.
@compute @workgroup_size(256)
fn batch_norm_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let i = group_id(wid, nwg) * WG + lid;
    if (i >= p.outer * p.chans * p.inner) { return; }
    let c = (i / p.inner) % p.chans;
    var r = stat_in[p.var_off + c];
    var centered: f32;
    if (p.from_var != 0u) {
        r = 1.0 / sqrt(r + p.eps);
        centered = x[i] - mean_in[p.mean_off + c];
    } else {
        // Training: binding 5 holds shift at mean_off and delta at mean_off + C (batch_norm_stats).
        centered = (x[i] - mean_in[p.mean_off + c]) - mean_in[p.mean_off + p.chans + c];
    }
    y[i] = centered * r * gamma_at(c) + beta_at(c);
}

// A workgroup per channel: dgamma[c] = sum dy xhat, dbeta[c] = sum dy.
@compute @workgroup_size(256)
fn batch_norm_backward_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                              @builtin(local_invocation_index) lid: u32) {
    let c = group_id(wid, nwg);
    if (c >= p.chans) { return; }
    let count = p.outer * p.inner;
    let mu = mean[c];
    let r = rstd[c];
    var acc = vec2<f32>(0.0, 0.0);
    for (var m = lid; m < count; m += WG) {
        let i = bn_index(c, m);
        acc += vec2<f32>(dy[i] * (x[i] - mu) * r, dy[i]);
    }
    let t = wg_sum(acc, lid);
    if (lid == 0u) {
        dgamma[c] = t.x;
        dbeta[c] = t.y;
    }
}

// dx = gamma rstd / M (M dy - sum dy - xhat sum dy xhat), an invocation per element.
@compute @workgroup_size(256)
fn batch_norm_backward_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
    let i = group_id(wid, nwg) * WG + lid;
    if (i >= p.outer * p.chans * p.inner) { return; }
    let c = (i / p.inner) % p.chans;
    let count = f32(p.outer * p.inner);
    let xhat = (x[i] - mean[c]) * rstd[c];
    dx_bn[i] = gamma_at(c) * rstd[c] / count * (count * dy[i] - sum_dy[c] - xhat * sum_dy_xhat[c]);
}
