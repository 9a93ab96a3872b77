// Numerically stable softmax and log-softmax over the last axis of a contiguous [rows, cols]
// tensor, and their backward maps. One 256-thread workgroup per row: each thread strides over
// the row, then fixed-order trees in workgroup memory give the row's max and sums (or, in the
// `_serial` entry points at the end, for narrow rows, one invocation per row).
// Parameters match `SoftmaxParams` in crates/kernels/src/ops/softmax.rs.
//   forward  (x -> y): m = max x;  s = sum exp(x - m);
//            softmax y = exp(x - m) / s;   log_softmax y = x - m - log(s)
//   backward (y, dy -> dx): softmax     dx = y * (dy - sum(dy * y))
//                           log_softmax dx = dy - exp(y) * sum(dy)

struct SoftmaxParams {
    rows: u32,
    cols: u32,
    log: u32,   // 1: log_softmax
    _pad: u32,
}

// Mirrors p.log as a pipeline constant (set by `ops::softmax::launch`): llvmpipe runs both
// sides of every branch, so a runtime test would load x in the log backward and compute exp in
// both forwards.
override LOG: u32 = 0u;

@group(0) @binding(0) var<uniform> p: SoftmaxParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;    // forward: x; backward: y
@group(0) @binding(2) var<storage, read> dy: array<f32>;   // backward only
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn softmax_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let row = wid.x + wid.y * nwg.x;
    let valid = row < p.rows;
    let base = row * p.cols;
    var m = 0.0;
    if (valid) {
        m = x[base];
        for (var j = lid; j < p.cols; j += WG) { m = max_nan(m, x[base + j]); }
    }
    m = tree_max(m, lid);
    var s = 0.0;
    if (valid) {
        for (var j = lid; j < p.cols; j += WG) { s += exp(x[base + j] - m); }
    }
    s = tree_sum(s, lid);
    if (!valid) { return; }
    let ls = log(s);
    for (var j = lid; j < p.cols; j += WG) {
        let d = x[base + j] - m;
        if (LOG != 0u) { out[base + j] = d - ls; } else { out[base + j] = exp(d) / s; }
    }
}

@compute @workgroup_size(256)
fn softmax_backward_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
    let row = wid.x + wid.y * nwg.x;
    let valid = row < p.rows;
    let base = row * p.cols;
    var s = 0.0;
    if (valid) {
        for (var j = lid; j < p.cols; j += WG) {
            if (LOG != 0u) { s += dy[base + j]; } else { s += dy[base + j] * x[base + j]; }
        }
    }
    s = tree_sum(s, lid);
    if (!valid) { return; }
    for (var j = lid; j < p.cols; j += WG) {
        let y = x[base + j];
        if (LOG != 0u) { out[base + j] = dy[base + j] - exp(y) * s; } else { out[base + j] = y * (dy[base + j] - s); }
    }
}

// Row-per-invocation variants for narrow rows (cols <= `ROWS_MAX_COLS` in ops/softmax.rs): the
// same formulas with serial loops and no workgroup trees. A tree's barriers cost a software
// adapter far more than a 10-class row's arithmetic (as for cross-entropy's `_rows` kernels),
// and on a GPU narrow rows are little work per row anyway. 64 rows per workgroup
// (`serial_row` in row_tree.wgsl).

@compute @workgroup_size(64)
fn softmax_rows_serial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let row = serial_row(wid, nwg, lid);
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var m = x[base];
    for (var j = 1u; j < p.cols; j++) { m = max_nan(m, x[base + j]); }
    var s = 0.0;
    for (var j = 0u; j < p.cols; j++) { s += exp(x[base + j] - m); }
    let ls = log(s);
    for (var j = 0u; j < p.cols; j++) {
        let d = x[base + j] - m;
        if (LOG != 0u) { out[base + j] = d - ls; } else { out[base + j] = exp(d) / s; }
    }
}

@compute @workgroup_size(64)
fn softmax_backward_rows_serial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                @builtin(local_invocation_index) lid: u32) {
    let row = serial_row(wid, nwg, lid);
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var s = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        if (LOG != 0u) { s += dy[base + j]; } else { s += dy[base + j] * x[base + j]; }
    }
    for (var j = 0u; j < p.cols; j++) {
        let y = x[base + j];
        if (LOG != 0u) { out[base + j] = dy[base + j] - exp(y) * s; } else { out[base + j] = y * (dy[base + j] - s); }
    }
}
