// CPU-adapter GEMM (see docs/lavapipe-journal.md, "Performance notes: lavapipe"): C tile += A panel .
// B panel, reading the panels only through uniform-buffer windows, which llvmpipe loads with real
// vector gathers (storage and workgroup loads with per-lane addresses are scalar loops there).
//
// `gemm_pack.wgsl` lays each operand out in 64 KiB windows, k-major: an A window holds
// A[row0 + r, k0 + kk] at kk * RA + r (RA = 4 ra4 rows), a B window B[k0 + kk, col0 + c] at
// kk * RB + c. One dispatch computes one RA x RB tile of C over up to PAIRS windows of k
// (window pair i is bindings wa<i>, wb<i>); the k loop is written once per pair because naga
// rejects `ptr<uniform>` parameters and a per-load switch over windows costs half the speed.
// Deeper k accumulates across dispatches: the first writes C, later ones add to it, the last
// applies bias + activation. Invocation (rb, cb) owns rows 8 rb .. 8 rb + 7 and columns
// 16 cb .. 16 cb + 15 of the tile, as 32 vec4 accumulators indexed only by constants, so
// they stay in registers (`Block` and `outer`, in `gemm_block.wgsl`). Parameters match
// `GemmUniformParams` in ops/gemm_uniform.rs.

struct GemmUniformParams {
    m: u32,
    n: u32,
    row0: u32,
    col0: u32,
    ra4: u32,
    rb4: u32,
    cols_inv: u32,
    kc: u32,
    pairs: u32,
    k_last: u32,
    c_off: u32,
    bias_off: u32,
    alpha: f32,
    c_inner: u32,
    c_outer: u32,
    _pad: u32,
}

override WG: u32 = 32u;
// The epilogue is chosen by pipeline constants, not parameters: llvmpipe runs both sides of
// every branch (masked), so a runtime switch would evaluate every activation and load C and
// the bias whether used or not. FIRST: this dispatch writes C (else adds to it); LAST: it
// applies the epilogue; BIAS: 0 none, 1 per column, 2 per row; ACT: a `UnaryOp` code.
override FIRST: u32 = 1u;
override LAST: u32 = 1u;
override BIAS: u32 = 0u;
override ACT: u32 = 24u;

@group(0) @binding(0) var<uniform> p: GemmUniformParams;
@group(0) @binding(1) var<uniform> wa0: array<vec4<f32>, 4096>;
@group(0) @binding(2) var<uniform> wa1: array<vec4<f32>, 4096>;
@group(0) @binding(3) var<uniform> wa2: array<vec4<f32>, 4096>;
@group(0) @binding(4) var<uniform> wa3: array<vec4<f32>, 4096>;
@group(0) @binding(5) var<uniform> wa4: array<vec4<f32>, 4096>;
@group(0) @binding(6) var<uniform> wa5: array<vec4<f32>, 4096>;
@group(0) @binding(7) var<uniform> wa6: array<vec4<f32>, 4096>;
@group(0) @binding(8) var<uniform> wb0: array<vec4<f32>, 4096>;
@group(0) @binding(9) var<uniform> wb1: array<vec4<f32>, 4096>;
@group(0) @binding(10) var<uniform> wb2: array<vec4<f32>, 4096>;
@group(0) @binding(11) var<uniform> wb3: array<vec4<f32>, 4096>;
@group(0) @binding(12) var<uniform> wb4: array<vec4<f32>, 4096>;
@group(0) @binding(13) var<uniform> wb5: array<vec4<f32>, 4096>;
@group(0) @binding(14) var<uniform> wb6: array<vec4<f32>, 4096>;
@group(0) @binding(15) var<storage, read> bias: array<f32>;
@group(0) @binding(16) var<storage, read_write> c: array<f32>;

// The k loop over window pair i, `n` steps from vec4 offsets (ai, bi); written once per pair.
fn pair0(acc: ptr<function, Block>, n: u32, ai0: u32, bi0: u32) {
    var ai = ai0;
    var bi = bi0;
    for (var k = 0u; k < n; k++) {
        outer(acc, wa0[ai], wa0[ai + 1u], wb0[bi], wb0[bi + 1u], wb0[bi + 2u], wb0[bi + 3u]);
        ai += p.ra4;
        bi += p.rb4;
    }
}

fn pair1(acc: ptr<function, Block>, n: u32, ai0: u32, bi0: u32) {
    var ai = ai0;
    var bi = bi0;
    for (var k = 0u; k < n; k++) {
        outer(acc, wa1[ai], wa1[ai + 1u], wb1[bi], wb1[bi + 1u], wb1[bi + 2u], wb1[bi + 3u]);
        ai += p.ra4;
        bi += p.rb4;
    }
}

fn pair2(acc: ptr<function, Block>, n: u32, ai0: u32, bi0: u32) {
    var ai = ai0;
    var bi = bi0;
    for (var k = 0u; k < n; k++) {
        outer(acc, wa2[ai], wa2[ai + 1u], wb2[bi], wb2[bi + 1u], wb2[bi + 2u], wb2[bi + 3u]);
        ai += p.ra4;
        bi += p.rb4;
    }
}

fn pair3(acc: ptr<function, Block>, n: u32, ai0: u32, bi0: u32) {
    var ai = ai0;
    var bi = bi0;
    for (var k = 0u; k < n; k++) {
        outer(acc, wa3[ai], wa3[ai + 1u], wb3[bi], wb3[bi + 1u], wb3[bi + 2u], wb3[bi + 3u]);
        ai += p.ra4;
        bi += p.rb4;
    }
}

fn pair4(acc: ptr<function, Block>, n: u32, ai0: u32, bi0: u32) {
    var ai = ai0;
    var bi = bi0;
    for (var k = 0u; k < n; k++) {
        outer(acc, wa4[ai], wa4[ai + 1u], wb4[bi], wb4[bi + 1u], wb4[bi + 2u], wb4[bi + 3u]);
        ai += p.ra4;
        bi += p.rb4;
    }
}

fn pair5(acc: ptr<function, Block>, n: u32, ai0: u32, bi0: u32) {
    var ai = ai0;
    var bi = bi0;
    for (var k = 0u; k < n; k++) {
        outer(acc, wa5[ai], wa5[ai + 1u], wb5[bi], wb5[bi + 1u], wb5[bi + 2u], wb5[bi + 3u]);
        ai += p.ra4;
        bi += p.rb4;
    }
}

fn pair6(acc: ptr<function, Block>, n: u32, ai0: u32, bi0: u32) {
    var ai = ai0;
    var bi = bi0;
    for (var k = 0u; k < n; k++) {
        outer(acc, wa6[ai], wa6[ai + 1u], wb6[bi], wb6[bi + 1u], wb6[bi + 2u], wb6[bi + 3u]);
        ai += p.ra4;
        bi += p.rb4;
    }
}

// Steps of k in window pair i of this dispatch: kc, k_last in the last pair, none beyond.
fn steps(i: u32) -> u32 {
    if (i + 1u == p.pairs) { return p.k_last; }
    return select(0u, p.kc, i < p.pairs);
}

// Where this invocation's 16 columns start in C, and the first column: column gn of row `row`
// lives at c_off + (gn / c_inner) c_outer + row c_inner + gn % c_inner. A plain matmul has
// c_inner = n; a convolution's columns are (image, pixel) and its rows channels, so its C lands
// in NCHW directly. Computed once per invocation, with one division then steps: an integer
// division by a runtime value is scalarized on a CPU adapter (no vector divide), and one per
// stored element cost as much as the multiply-adds of a shallow-K product.
var<private> col_at: array<u32, 16>;
var<private> first_col: u32;

fn column_offsets(col: u32) {
    first_col = col;
    var outer = col / p.c_inner;
    var rem = col - outer * p.c_inner;
    for (var t = 0u; t < 16u; t++) {
        col_at[t] = p.c_off + outer * p.c_outer + rem;
        rem += 1u;
        let wrap = rem == p.c_inner;
        outer = select(outer, outer + 1u, wrap);
        rem = select(rem, 0u, wrap);
    }
}

// Stores four columns t0 .. t0 + 3 of one row: first / accumulate, then the epilogue on the
// last chunk. The bias is per column, or per row (channels).
fn store4(row: u32, t0: u32, v: vec4<f32>) {
    if (row >= p.m) { return; }
    for (var t = 0u; t < 4u; t++) {
        let gn = first_col + t0 + t;
        if (gn >= p.n) { return; }
        let idx = col_at[t0 + t] + row * p.c_inner;
        var x = v[t];
        if (FIRST == 0u) { x += c[idx]; }
        if (LAST != 0u) {
            if (BIAS == 1u) { x += bias[p.bias_off + gn]; }
            if (BIAS == 2u) { x += bias[p.bias_off + row]; }
            x = unary_op(ACT, x, p.alpha, 0.0);
        }
        c[idx] = x;
    }
}

fn store_row(row: u32, v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>) {
    store4(row, 0u, v0);
    store4(row, 4u, v1);
    store4(row, 8u, v2);
    store4(row, 12u, v3);
}

@compute @workgroup_size(WG)
fn gemm_uniform(@builtin(global_invocation_id) gid: vec3<u32>) {
    let inv = gid.x;
    let rb = inv / p.cols_inv;
    let cb = inv % p.cols_inv;
    if (rb * 2u >= p.ra4) { return; }
    var acc = Block();
    let ai = rb * 2u;
    let bi = cb * 4u;
    pair0(&acc, steps(0u), ai, bi);
    pair1(&acc, steps(1u), ai, bi);
    pair2(&acc, steps(2u), ai, bi);
    pair3(&acc, steps(3u), ai, bi);
    pair4(&acc, steps(4u), ai, bi);
    pair5(&acc, steps(5u), ai, bi);
    pair6(&acc, steps(6u), ai, bi);
    let row = p.row0 + rb * 8u;
    column_offsets(p.col0 + cb * 16u);
    store_row(row + 0u, acc[0], acc[1], acc[2], acc[3]);
    store_row(row + 1u, acc[4], acc[5], acc[6], acc[7]);
    store_row(row + 2u, acc[8], acc[9], acc[10], acc[11]);
    store_row(row + 3u, acc[12], acc[13], acc[14], acc[15]);
    store_row(row + 4u, acc[16], acc[17], acc[18], acc[19]);
    store_row(row + 5u, acc[20], acc[21], acc[22], acc[23]);
    store_row(row + 6u, acc[24], acc[25], acc[26], acc[27]);
    store_row(row + 7u, acc[28], acc[29], acc[30], acc[31]);
}
