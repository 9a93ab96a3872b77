// CPU-adapter GEMM over whole operands held in rgba32float textures (ARCHITECTURE.md, "The
// texture GEMM"): C[batch] = act(A[batch] . B[batch] + bias), one dispatch for all of K.
//
// The operands are read-only storage textures: llvmpipe loads those through its image path,
// which measured 1.4x the uniform-buffer gathers of `gemm_uniform.wgsl` and 1.8x sampled
// texture fetches in the same inner loop, and they have no 64 KiB window. An operand is copied
// linearly (a memcpy in lavapipe) into a texture 4096 texels wide, so element e of the buffer
// is component e % 4 of texel e / 4, and texel t
// sits at (t % 4096, t / 4096). An operand is read along its contiguous dimension four
// elements at a time: A is k-contiguous (row-major, `A_KC`) or row-contiguous (a transposed
// view), B is column-contiguous (row-major) or k-contiguous (`B_KC`, a transposed view). Both
// cases give, per k step, A's 8 rows as two vec4 and B's 16 columns as four, fed to `outer`.
// `a_major` / `b_major` are the texels between consecutive rows (k-contiguous) or k steps.
//
// Workgroup: 64 invocations, CG across the columns and 64 / CG across the rows; invocation
// (rb, cb) owns rows 8 rb .. 8 rb + 7 and columns 16 cb .. 16 cb + 15 of the workgroup's tile.
// Rows and columns past C's edge read a clamped (valid) texel and are never stored.
// Parameters match `GemmTextureParams` in ops/gemm_texture.rs.

struct GemmTextureParams {
    m: u32,
    n: u32,
    k: u32,
    a_major: u32,
    a_batch: u32,
    b_major: u32,
    b_batch: u32,
    bias_off: u32,
    alpha: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

override CG: u32 = 16u;
// Layouts and the epilogue are pipeline constants (llvmpipe runs both sides of a branch).
override A_KC: u32 = 1u;
override B_KC: u32 = 0u;
override BIAS: u32 = 0u;
override ACT: u32 = 24u;

@group(0) @binding(0) var<uniform> p: GemmTextureParams;
@group(0) @binding(1) var ta: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var tb: texture_storage_2d<rgba32float, read>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn texel_a(t: u32) -> vec4<f32> {
    return textureLoad(ta, vec2<u32>(t & 4095u, t >> 12u));
}

fn texel_b(t: u32) -> vec4<f32> {
    return textureLoad(tb, vec2<u32>(t & 4095u, t >> 12u));
}

// Texels where this invocation's operands start: A_KC, one per row (8); else the two texels of
// its 8 rows at k = 0. B_KC, one per column (16); else the four texels of its 16 columns.
var<private> at: array<u32, 8>;
var<private> bt: array<u32, 16>;

fn origins(batch: u32, row: u32, col: u32) {
    let a0 = batch * p.a_batch;
    let b0 = batch * p.b_batch;
    for (var r = 0u; r < 8u; r++) {
        at[r] = select(a0 + min(row / 4u + r, (p.m - 1u) / 4u), a0 + min(row + r, p.m - 1u) * p.a_major, A_KC == 1u);
    }
    for (var j = 0u; j < 16u; j++) {
        bt[j] = select(b0 + min(col / 4u + j, (p.n - 1u) / 4u), b0 + min(col + j, p.n - 1u) * p.b_major, B_KC == 1u);
    }
}

// Four k steps 4q .. 4q + 3 (both layouts read a quad of k per texel when k-contiguous).
fn quad(acc: ptr<function, Block>, q: u32) {
    var a: array<vec4<f32>, 8>;
    if (A_KC == 1u) {
        let t0 = texel_a(at[0] + q);
        let t1 = texel_a(at[1] + q);
        let t2 = texel_a(at[2] + q);
        let t3 = texel_a(at[3] + q);
        let t4 = texel_a(at[4] + q);
        let t5 = texel_a(at[5] + q);
        let t6 = texel_a(at[6] + q);
        let t7 = texel_a(at[7] + q);
        a[0] = vec4<f32>(t0.x, t1.x, t2.x, t3.x);
        a[1] = vec4<f32>(t4.x, t5.x, t6.x, t7.x);
        a[2] = vec4<f32>(t0.y, t1.y, t2.y, t3.y);
        a[3] = vec4<f32>(t4.y, t5.y, t6.y, t7.y);
        a[4] = vec4<f32>(t0.z, t1.z, t2.z, t3.z);
        a[5] = vec4<f32>(t4.z, t5.z, t6.z, t7.z);
        a[6] = vec4<f32>(t0.w, t1.w, t2.w, t3.w);
        a[7] = vec4<f32>(t4.w, t5.w, t6.w, t7.w);
    } else {
        let k0 = 4u * q * p.a_major;
        a[0] = texel_a(at[0] + k0);
        a[1] = texel_a(at[1] + k0);
        a[2] = texel_a(at[0] + k0 + p.a_major);
        a[3] = texel_a(at[1] + k0 + p.a_major);
        a[4] = texel_a(at[0] + k0 + 2u * p.a_major);
        a[5] = texel_a(at[1] + k0 + 2u * p.a_major);
        a[6] = texel_a(at[0] + k0 + 3u * p.a_major);
        a[7] = texel_a(at[1] + k0 + 3u * p.a_major);
    }
    var b: array<vec4<f32>, 16>;
    if (B_KC == 1u) {
        var u: array<vec4<f32>, 16>;
        for (var j = 0u; j < 16u; j++) {
            u[j] = texel_b(bt[j] + q);
        }
        for (var s = 0u; s < 4u; s++) {
            b[4u * s + 0u] = vec4<f32>(u[0][s], u[1][s], u[2][s], u[3][s]);
            b[4u * s + 1u] = vec4<f32>(u[4][s], u[5][s], u[6][s], u[7][s]);
            b[4u * s + 2u] = vec4<f32>(u[8][s], u[9][s], u[10][s], u[11][s]);
            b[4u * s + 3u] = vec4<f32>(u[12][s], u[13][s], u[14][s], u[15][s]);
        }
    } else {
        for (var s = 0u; s < 4u; s++) {
            let ks = (4u * q + s) * p.b_major;
            b[4u * s + 0u] = texel_b(bt[0] + ks);
            b[4u * s + 1u] = texel_b(bt[1] + ks);
            b[4u * s + 2u] = texel_b(bt[2] + ks);
            b[4u * s + 3u] = texel_b(bt[3] + ks);
        }
    }
    outer(acc, a[0], a[1], b[0], b[1], b[2], b[3]);
    outer(acc, a[2], a[3], b[4], b[5], b[6], b[7]);
    outer(acc, a[4], a[5], b[8], b[9], b[10], b[11]);
    outer(acc, a[6], a[7], b[12], b[13], b[14], b[15]);
}

// One k step past the last whole quad; only for layouts that are not k-contiguous (the plan
// requires K % 4 == 0 otherwise).
fn single(acc: ptr<function, Block>, k: u32) {
    let ka = k * p.a_major;
    let kb = k * p.b_major;
    outer(
        acc,
        texel_a(at[0] + ka),
        texel_a(at[1] + ka),
        texel_b(bt[0] + kb),
        texel_b(bt[1] + kb),
        texel_b(bt[2] + kb),
        texel_b(bt[3] + kb),
    );
}

// Stores four columns col .. col + 3 of one row, with the epilogue.
fn store4(c_off: u32, row: u32, col: u32, v: vec4<f32>) {
    if (row >= p.m) { return; }
    for (var t = 0u; t < 4u; t++) {
        let gn = col + t;
        if (gn >= p.n) { return; }
        var x = v[t];
        if (BIAS == 1u) { x += bias[p.bias_off + gn]; }
        c[c_off + row * p.n + gn] = unary_op(ACT, x, p.alpha, 0.0);
    }
}

fn store_row(c_off: u32, row: u32, col: u32, v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>) {
    store4(c_off, row, col, v0);
    store4(c_off, row, col + 4u, v1);
    store4(c_off, row, col + 8u, v2);
    store4(c_off, row, col + 12u, v3);
}

@compute @workgroup_size(64)
fn gemm_texture(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let row = wg.y * (512u / CG) + (li / CG) * 8u;
    let col = wg.x * (16u * CG) + (li % CG) * 16u;
    origins(wg.z, row, col);
    var acc = Block();
    let quads = p.k / 4u;
    for (var q = 0u; q < quads; q++) {
        quad(&acc, q);
    }
    if (A_KC == 0u && B_KC == 0u) {
        for (var k = 4u * quads; k < p.k; k++) {
            single(&acc, k);
        }
    }
    let c_off = wg.z * p.m * p.n;
    store_row(c_off, row + 0u, col, acc[0], acc[1], acc[2], acc[3]);
    store_row(c_off, row + 1u, col, acc[4], acc[5], acc[6], acc[7]);
    store_row(c_off, row + 2u, col, acc[8], acc[9], acc[10], acc[11]);
    store_row(c_off, row + 3u, col, acc[12], acc[13], acc[14], acc[15]);
    store_row(c_off, row + 4u, col, acc[16], acc[17], acc[18], acc[19]);
    store_row(c_off, row + 5u, col, acc[20], acc[21], acc[22], acc[23]);
    store_row(c_off, row + 6u, col, acc[24], acc[25], acc[26], acc[27]);
    store_row(c_off, row + 7u, col, acc[28], acc[29], acc[30], acc[31]);
}
