// Index ops: embedding gather and its gradient, gather along an axis and its gradient (scatter
// add), one_hot. Indices are 32-bit words: u32, or i32 bound as u32 (a negative i32 reads as a
// huge u32, so it is out of range). The forward ops' indices are checked before they run
// (fault.wgsl's check_indices, reported at the host's next read-back); these kernels still never
// read out of range: an out-of-range index reads as zero and adds nothing to a gradient.
//
// Gradients are scatter-adds done without atomics: each thread owns output elements and scans,
// in index order, every position that can hit them, so sums are bit-for-bit repeatable.
//
// Shapes (all contiguous, from element 0):
//   embedding: ids [rows], table [vocab, dim] -> out [rows, dim]
//   gather:    x [outer, axis_in, inner], idx [outer, axis_out, inner] -> out like idx
//   one_hot:   labels [rows] -> out [rows, dim] (f32 1.0 / 0.0)

struct IndexParams {
    n: u32,         // output elements (threads)
    rows: u32,      // embedding/one_hot: number of ids
    vocab: u32,     // embedding: table rows
    dim: u32,       // embedding: row length; one_hot: classes
    outer: u32,     // gather: product of the dimensions before the axis
    axis_in: u32,   // gather: extent of the axis in x
    axis_out: u32,  // gather: extent of the axis in idx
    inner: u32,     // gather: product of the dimensions after the axis
    has_ignore: u32,  // one_hot: 1 when the label `ignore` gives a zero row
    ignore: u32,      // one_hot: the ignored label's bits
    _pad0: u32,
    _pad1: u32,
}

// Vocabulary rows one embedding-gradient thread owns (its private accumulators).
const VOCAB_BLOCK: u32 = 16u;

@group(0) @binding(0) var<uniform> p: IndexParams;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read_write> hot: array<f32>;

fn linear(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * 256u + lid;
}

// out[r, d] = table[ids[r], d], or 0 when ids[r] >= vocab.
@compute @workgroup_size(256)
fn embedding_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    let r = i / p.dim;
    let d = i - r * p.dim;
    let id = ids[r];
    // A branch, not select(): select evaluates both operands, and the read must not go out of range.
    var v = 0.0;
    if (id < p.vocab) { v = src[id * p.dim + d]; }
    dst[i] = v;
}

// dtable[v, d] = sum over r in increasing order with ids[r] == v of dy[r, d]. Thread (block, d)
// owns rows v in [block * VOCAB_BLOCK, block * VOCAB_BLOCK + VOCAB_BLOCK) of column d and scans
// all ids once: ceil(vocab / VOCAB_BLOCK) * dim threads, each reading rows ids.
@compute @workgroup_size(256)
fn embedding_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let t = linear(wid, nwg, lid);
    if (t >= p.n) { return; }
    let block = t / p.dim;
    let d = t - block * p.dim;
    let v0 = block * VOCAB_BLOCK;
    var acc: array<f32, VOCAB_BLOCK>;
    for (var k = 0u; k < VOCAB_BLOCK; k++) { acc[k] = 0.0; }
    for (var r = 0u; r < p.rows; r++) {
        let off = ids[r] - v0;  // wraps to a huge value below v0
        if (off < VOCAB_BLOCK) { acc[off] += src[r * p.dim + d]; }
    }
    let count = min(VOCAB_BLOCK, p.vocab - v0);
    for (var k = 0u; k < count; k++) { dst[(v0 + k) * p.dim + d] = acc[k]; }
}

// out[o, j, k] = x[o, idx[o, j, k], k], or 0 when the index is >= axis_in.
@compute @workgroup_size(256)
fn gather_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    let k = i % p.inner;
    let o = i / (p.inner * p.axis_out);
    let id = ids[i];
    var v = 0.0;
    if (id < p.axis_in) { v = src[(o * p.axis_in + id) * p.inner + k]; }
    dst[i] = v;
}

// dx[o, a, k] = sum over j in increasing order with idx[o, j, k] == a of dy[o, j, k]: one thread
// per dx element scanning the axis_out positions that can hit it.
@compute @workgroup_size(256)
fn gather_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    let k = i % p.inner;
    let a = (i / p.inner) % p.axis_in;
    let o = i / (p.inner * p.axis_in);
    var acc = 0.0;
    for (var j = 0u; j < p.axis_out; j++) {
        let at = (o * p.axis_out + j) * p.inner + k;
        if (ids[at] == a) { acc += src[at]; }
    }
    dst[i] = acc;
}

// out[r, c] = 1 if labels[r] == c else 0 (the ignored label, and one out of range, give a zero
// row).
@compute @workgroup_size(256)
fn one_hot_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n) { return; }
    let r = i / p.dim;
    let y = ids[r];
    let ignored = p.has_ignore != 0u && y == p.ignore;
    hot[i] = select(0.0, 1.0, y == i - r * p.dim && !ignored);
}
