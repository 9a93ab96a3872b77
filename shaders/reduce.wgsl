// Reductions over the middle axis of x viewed as [outer, r, inner] (the host moves the reduced
// axes there). Parameters match `ReduceParams` in crates/kernels/src/ops/reduce.rs.
//
// A pass splits the r axis into n_chunks segments of `chunk` elements and writes one result per
// (o, segment, i) at (o * n_chunks + c) * inner + i; the host chains passes until n_chunks == 1,
// so no single workgroup or thread folds more than `chunk` values and the order is fixed.
//   reduce_rows / argreduce_rows (inner == 1): one 256-thread workgroup per (row, segment); each
//     thread strides over the segment, then a fixed-order tree in workgroup memory.
//   reduce_cols / argreduce_cols (inner > 1 or short rows): one thread per (o, segment, i),
//     looping over the segment (neighbouring threads read neighbouring i: coalesced).
// Value ops are load -> combine -> post:  load 0 x, 1 x^2, 2 (x - aux[o, i])^2 (aux = the mean);
// combine 0 add, 1 max, 2 min; post 0 none, 1 divide by p.divisor, 2 sqrt (last pass only).
// Arg ops (combine 3 argmax, 4 argmin) carry (value, index) and break ties by the smaller
// index, so the first index wins whatever the segmentation. NaN propagates as in PyTorch: max
// and min of a segment holding a NaN are NaN, and argmax and argmin both return the index of
// its first NaN. After the first pass they gather:
// candidate indices come from `cand` and values are re-read from x at those indices.

struct ReduceParams {
    outer: u32,
    r: u32,
    inner: u32,
    chunk: u32,
    n_chunks: u32,
    load: u32,
    combine: u32,
    post: u32,
    divisor: f32,
    src_r: u32,    // length of x's reduced axis (== r except in arg gather passes)
    gather: u32,   // arg passes after the first: 1
    x_off: u32,    // element offset of x
    rows: u32,     // 1: the workgroup-per-row kernels run this pass (host-side choice)
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: ReduceParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> aux: array<f32>;
@group(0) @binding(2) var<storage, read> cand: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_idx: array<u32>;

// Pipeline constants mirroring p.load, p.combine and p.post (set by `ops::reduce::launch_with`):
// llvmpipe evaluates both sides of every branch, so runtime switches would pay for every
// variant (the aux load included) on every element.
override LOAD: u32 = 0u;
override COMBINE: u32 = 0u;
override POST: u32 = 0u;

const WG: u32 = 256u;
var<workgroup> sh_v: array<f32, 256>;
var<workgroup> sh_i: array<u32, 256>;

fn load(v: f32, o: u32, i: u32) -> f32 {
    switch LOAD {
        case 1u: { return v * v; }
        case 2u: {
            let d = v - aux[o * p.inner + i];
            return d * d;
        }
        default: { return v; }
    }
}

fn combine(a: f32, b: f32) -> f32 {
    switch COMBINE {
        case 1u: { return max_nan(a, b); }
        case 2u: { return min_nan(a, b); }
        default: { return a + b; }
    }
}

fn finish(v: f32) -> f32 {
    switch POST {
        case 1u: { return v / p.divisor; }
        case 2u: { return sqrt(v); }
        default: { return v; }
    }
}

// The first value of a fold: 0 for sums, else the segment's first element (no infinities needed).
fn seed(o: u32, i: u32, start: u32) -> f32 {
    if (COMBINE == 0u) { return 0.0; }
    return load(x[p.x_off + (o * p.src_r + start) * p.inner + i], o, i);
}

@compute @workgroup_size(256)
fn reduce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let g = wid.x + wid.y * nwg.x;
    let valid = g < p.outer * p.n_chunks;
    let o = g / p.n_chunks;
    let start = (g % p.n_chunks) * p.chunk;
    let end = min(start + p.chunk, p.r);
    let base = p.x_off + o * p.src_r;
    var acc = 0.0;
    if (valid) {
        acc = seed(o, 0u, start);
        for (var k = start + lid; k < end; k += WG) { acc = combine(acc, load(x[base + k], o, 0u)); }
    }
    sh_v[lid] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) { sh_v[lid] = combine(sh_v[lid], sh_v[lid + s]); }
        workgroupBarrier();
    }
    if (valid && lid == 0u) { out[g] = finish(sh_v[0]); }
}

// The fold of the column kernels: thread t's (o, i) and its segment [start, end) of the r axis,
// whose element k lies at base + k * inner.
struct Column {
    o: u32,
    i: u32,
    base: u32,
    start: u32,
    end: u32,
}

fn column(t: u32) -> Column {
    let i = t % p.inner;
    let oc = t / p.inner;
    let o = oc / p.n_chunks;
    let start = (oc % p.n_chunks) * p.chunk;
    return Column(o, i, p.x_off + o * p.src_r * p.inner + i, start, min(start + p.chunk, p.r));
}

@compute @workgroup_size(256)
fn reduce_cols(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let t = (wid.x + wid.y * nwg.x) * WG + lid;
    if (t >= p.outer * p.n_chunks * p.inner) { return; }
    let c = column(t);
    var acc = seed(c.o, c.i, c.start);
    for (var k = c.start; k < c.end; k++) { acc = combine(acc, load(x[c.base + k * p.inner], c.o, c.i)); }
    out[t] = finish(acc);
}

struct Arg {
    v: f32,
    k: u32,
}

// Candidate j of (o, i): its index along the original axis and its value.
fn arg_at(o: u32, i: u32, j: u32) -> Arg {
    var k = j;
    if (p.gather != 0u) { k = cand[(o * p.r + j) * p.inner + i]; }
    return Arg(x[p.x_off + (o * p.src_r + k) * p.inner + i], k);
}

// b if it beats a (strictly better value, or an equal value at a smaller index), else a. A NaN
// beats every number, and the smaller index wins between two NaNs.
fn pick(a: Arg, b: Arg) -> Arg {
    let a_nan = is_nan(a.v);
    let b_nan = is_nan(b.v);
    var b_wins = false;
    if (a_nan || b_nan) {
        b_wins = b_nan && (!a_nan || b.k < a.k);
    } else {
        var better = b.v > a.v;
        if (COMBINE == 4u) { better = b.v < a.v; }
        b_wins = better || (b.v == a.v && b.k < a.k);
    }
    if (b_wins) { return b; }
    return a;
}

@compute @workgroup_size(256)
fn argreduce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let g = wid.x + wid.y * nwg.x;
    let valid = g < p.outer * p.n_chunks;
    let o = g / p.n_chunks;
    let start = (g % p.n_chunks) * p.chunk;
    let end = min(start + p.chunk, p.r);
    var best = Arg(0.0, 0xffffffffu);
    if (valid) {
        best = arg_at(o, 0u, start);
        for (var j = start + lid; j < end; j += WG) { best = pick(best, arg_at(o, 0u, j)); }
    }
    sh_v[lid] = best.v;
    sh_i[lid] = best.k;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            let w = pick(Arg(sh_v[lid], sh_i[lid]), Arg(sh_v[lid + s], sh_i[lid + s]));
            sh_v[lid] = w.v;
            sh_i[lid] = w.k;
        }
        workgroupBarrier();
    }
    if (valid && lid == 0u) { out_idx[g] = sh_i[0]; }
}

@compute @workgroup_size(256)
fn argreduce_cols(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let t = (wid.x + wid.y * nwg.x) * WG + lid;
    if (t >= p.outer * p.n_chunks * p.inner) { return; }
    let i = t % p.inner;
    let oc = t / p.inner;
    let o = oc / p.n_chunks;
    let start = (oc % p.n_chunks) * p.chunk;
    let end = min(start + p.chunk, p.r);
    var best = arg_at(o, i, start);
    for (var j = start + 1u; j < end; j++) { best = pick(best, arg_at(o, i, j)); }
    out_idx[t] = best.k;
}
