// CPU-adapter GEMM over whole operands held in rgba32float textures (docs/lavapipe-journal.md, "The
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
// cases give, per k step, A's 8 rows as two vec4 and B's 16 columns as four, fed to `outer_quad`
// four k steps at a time.
// `a_major` / `b_major` are the texels between consecutive rows (k-contiguous) or k steps;
// a B packed by the convolutions may come in panels of columns (`B_PANEL`).
//
// Workgroup: WG invocations, CG across the columns and WG / CG across the rows (the plan picks
// the shape that pads C least: a 32 x 27 grad weight wants an 8-invocation tile, a 2048-square
// product a 64-invocation one); invocation (rb, cb) owns rows 8 rb .. 8 rb + 7 and columns
// 16 cb .. 16 cb + 15 of the workgroup's tile. Rows and columns past C's edge read a clamped
// (valid) texel and are never stored.
//
// C is placed like `gemm_uniform.wgsl`'s: column gn of row `row` at c_off + (gn / c_inner)
// c_outer + row c_inner + gn % c_inner, so a convolution's (image, pixel) columns land in NCHW.
// Split K: workgroup z = batch * splits + split covers quads split * split_quads .. and writes
// its partial C c_split elements after the previous split's (`gemm_split_sum.wgsl` adds them);
// a product with few tiles and a deep K (a convolution's grad weight) so keeps every core busy.
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
    bias_batch: u32,
    c_off: u32,
    c_batch: u32,
    c_inner: u32,
    c_outer: u32,
    splits: u32,
    split_quads: u32,
    c_split: u32,
    b_panel: u32,
    b_depth: u32,
    b_copy: u32,
    b_origin: u32,
    b_chan: u32,
    b_row: u32,
    b_col: u32,
    g_w: u32,
    g_h: u32,
    g_out_h: u32,
    g_out_w: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

override WG: u32 = 64u;
override CG: u32 = 16u;
// Layouts and the epilogue are pipeline constants (llvmpipe runs both sides of a branch).
// FIRST: this dispatch writes C (else adds to it: a K split across calls); BIAS: 0 none, 1 per
// column, 2 per row (a convolution's channels).
override FIRST: u32 = 1u;
override A_KC: u32 = 1u;
override B_KC: u32 = 0u;
override BIAS: u32 = 0u;
override ACT: u32 = 24u;
// Column-contiguous B laid out in panels of 2^B_PANEL columns (a conv pack's layout): column
// col at k lies in panel col >> B_PANEL, b_panel texels after the previous panel, and k steps
// within a panel are b_major texels apart, so the columns one SIMD batch of invocations reads
// are one contiguous stream along k. 31: one panel (plain row-major B).
override B_PANEL: u32 = 31u;
// B_SHIFTED: B is a stride-1 convolution's shifted copies (`conv_shift.wgsl`): column col at k
// is at texel shifted_k(k) + col / 4 (with B_KC, k and the columns trade places: grad weight's
// column t at k at shifted_k(t) + k / 4), where tap k = (c, i, j) gives the element offset
// b_origin + c b_chan + i b_row + j b_col in the padded source (wrapping u32 arithmetic, so
// grad input's flipped taps step by negative amounts) and its offset picks the copy. TAPS and
// KW split k (divisors as constants, see `conv_shift.wgsl`).
override B_SHIFTED: u32 = 0u;
override TAPS: u32 = 1u;
override KW: u32 = 1u;
// C_GRID: C's columns are the pixels of a padded grid (g_h x g_w per image, B_SHIFTED's
// columns) and only those inside the g_out_h x g_out_w output are stored, at
// image c_outer + row c_inner + y g_out_w + x.
override C_GRID: u32 = 0u;

@group(0) @binding(0) var<uniform> p: GemmTextureParams;
@group(0) @binding(1) var ta: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var tb: texture_storage_2d<rgba32float, read>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
// C, as floats (`gemm_texture`) or, where every run of four columns is contiguous and aligned,
// as vec4 (`gemm_texture_vec4`: a quarter of the stores, which llvmpipe issues per lane). Each
// entry point uses one of the two declarations of binding 4.
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> c4: array<vec4<f32>>;

fn texel_a(t: u32) -> vec4<f32> {
    return textureLoad(ta, linear_texel(t));
}

fn texel_b(t: u32) -> vec4<f32> {
    return textureLoad(tb, linear_texel(t));
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
    if (B_SHIFTED == 1u && B_KC == 1u) {
        // A grad weight's taps: column j starts at its tap's offset (k, the pixels, runs on).
        for (var j = 0u; j < 16u; j++) {
            bt[j] = b0 + shifted_k(col + j);
        }
    } else if (B_PANEL == 31u) {
        for (var j = 0u; j < 16u; j++) {
            bt[j] = select(b0 + min(col / 4u + j, (p.n - 1u) / 4u), b0 + min(col + j, p.n - 1u) * p.b_major, B_KC == 1u);
        }
    } else {
        // Panels are whole (zeros past n), and a block's 16 columns lie in one panel.
        let panel = b0 + min(col >> B_PANEL, (p.n - 1u) >> B_PANEL) * p.b_panel + ((col & ((1u << B_PANEL) - 1u)) >> 2u);
        for (var j = 0u; j < 4u; j++) {
            bt[j] = panel + j;
        }
    }
}

// B_SHIFTED: the texel of tap k, column 0's at k step k (k past the real depth reads the last
// tap: A is zero there, and a finite B keeps the product zero). With B_KC (grad weight) the taps
// are the columns instead, b_depth the last column, and the texel pixel 0's of that tap.
fn shifted_k(k: u32) -> u32 {
    let kk = min(k, p.b_depth - 1u);
    let c = kk / TAPS;
    let t = kk - c * TAPS;
    let i = t / KW;
    let e = p.b_origin + c * p.b_chan + i * p.b_row + (t - i * KW) * p.b_col;
    return (e & 3u) * p.b_copy + (e >> 2u);
}

// Loads the operands of four k steps 4q .. 4q + 3 (a quad: both layouts read four k steps per
// texel when k-contiguous): A's 8 rows as a[2 s], a[2 s + 1] and B's 16 columns as b[4 s .. 4 s + 3]
// at step s.
fn load_quad(q: u32, ao: ptr<function, array<vec4<f32>, 8>>, bo: ptr<function, array<vec4<f32>, 16>>) {
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
            var ks = (4u * q + s) * p.b_major;
            if (B_SHIFTED == 1u) { ks = shifted_k(4u * q + s); }
            b[4u * s + 0u] = texel_b(bt[0] + ks);
            b[4u * s + 1u] = texel_b(bt[1] + ks);
            b[4u * s + 2u] = texel_b(bt[2] + ks);
            b[4u * s + 3u] = texel_b(bt[3] + ks);
        }
    }
    *ao = a;
    *bo = b;
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

// Where this invocation's 16 columns start in C (see the header), computed once with one
// division and then stepped: a runtime integer division is scalarized on a CPU adapter.
var<private> col_at: array<u32, 16>;
var<private> first_col: u32;
// The per-column bias of those columns (BIAS 1), loaded once rather than once per row.
var<private> col_bias: array<f32, 16>;
// C_GRID: whether each of those columns is an output pixel.
var<private> col_ok: array<bool, 16>;

fn column_offsets(c_off: u32, col: u32, bias_off: u32) {
    first_col = col;
    if (C_GRID == 1u) {
        grid_offsets(c_off, col);
        return;
    }
    var outer = col / p.c_inner;
    var rem = col - outer * p.c_inner;
    for (var t = 0u; t < 16u; t++) {
        col_at[t] = c_off + outer * p.c_outer + rem;
        rem += 1u;
        let wrap = rem == p.c_inner;
        outer = select(outer, outer + 1u, wrap);
        rem = select(rem, 0u, wrap);
        if (BIAS == 1u) { col_bias[t] = bias[bias_off + min(col + t, p.n - 1u)]; }
    }
}

// column_offsets for C_GRID: the columns' (image, y, x) on the padded grid, stepped.
fn grid_offsets(c_off: u32, col: u32) {
    let plane = p.g_w * p.g_h;
    var image = col / plane;
    let r = col - image * plane;
    var y = r / p.g_w;
    var x = r - y * p.g_w;
    for (var t = 0u; t < 16u; t++) {
        col_at[t] = c_off + image * p.c_outer + y * p.g_out_w + x;
        col_ok[t] = x < p.g_out_w && y < p.g_out_h && col + t < p.n;
        x += 1u;
        let wrap_x = x == p.g_w;
        x = select(x, 0u, wrap_x);
        y = select(y, y + 1u, wrap_x);
        let wrap_y = y == p.g_h;
        y = select(y, 0u, wrap_y);
        image = select(image, image + 1u, wrap_y);
    }
}

// The bias of one row (BIAS 2), else 0.
fn row_bias(bias_off: u32, row: u32) -> f32 {
    var b = 0.0;
    if (BIAS == 2u) { b = bias[bias_off + row]; }
    return b;
}

// Stores four columns t0 .. t0 + 3 of one row (its offset `base`, its bias `rb`), with the
// epilogue.
fn store4(base: u32, rb: f32, t0: u32, v: vec4<f32>) {
    for (var t = 0u; t < 4u; t++) {
        var inside = first_col + t0 + t < p.n;
        if (C_GRID == 1u) { inside = col_ok[t0 + t]; }
        if (inside) {
            let idx = col_at[t0 + t] + base;
            var x = v[t] + rb;
            if (FIRST == 0u) { x += c[idx]; }
            if (BIAS == 1u) { x += col_bias[t0 + t]; }
            c[idx] = unary_op(ACT, x, p.alpha, 0.0);
        }
    }
}

fn store_row(bias_off: u32, row: u32, v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>) {
    if (row >= p.m) { return; }
    let rb = row_bias(bias_off, row);
    let base = row * p.c_inner;
    store4(base, rb, 0u, v0);
    store4(base, rb, 4u, v1);
    store4(base, rb, 8u, v2);
    store4(base, rb, 12u, v3);
}

// The same as one aligned vec4 (n, c_inner, c_outer and C's offset multiples of 4).
fn store4_vec4(base: u32, rb: f32, t0: u32, v: vec4<f32>) {
    if (first_col + t0 < p.n) {
        let idx = (col_at[t0] + base) / 4u;
        var x = v + vec4<f32>(rb);
        if (FIRST == 0u) { x += c4[idx]; }
        if (BIAS == 1u) { x += vec4<f32>(col_bias[t0], col_bias[t0 + 1u], col_bias[t0 + 2u], col_bias[t0 + 3u]); }
        c4[idx] = vec4<f32>(
            unary_op(ACT, x.x, p.alpha, 0.0),
            unary_op(ACT, x.y, p.alpha, 0.0),
            unary_op(ACT, x.z, p.alpha, 0.0),
            unary_op(ACT, x.w, p.alpha, 0.0),
        );
    }
}

fn store_row_vec4(bias_off: u32, row: u32, v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>) {
    if (row >= p.m) { return; }
    let rb = row_bias(bias_off, row);
    let base = row * p.c_inner;
    store4_vec4(base, rb, 0u, v0);
    store4_vec4(base, rb, 4u, v1);
    store4_vec4(base, rb, 8u, v2);
    store4_vec4(base, rb, 12u, v3);
}

// Where an invocation's block lies: its first row and column, its batch and K split.
struct Place {
    row: u32,
    col: u32,
    batch: u32,
    split: u32,
}

// Accumulates the invocation's 8 x 16 block over its split of K, and prepares its columns'
// offsets and biases for the store.
fn block(acc: ptr<function, Block>, wg: vec3<u32>, li: u32) -> Place {
    let row = wg.y * (8u * (WG / CG)) + (li / CG) * 8u;
    let col = wg.x * (16u * CG) + (li % CG) * 16u;
    let batch = wg.z / p.splits;
    let split = wg.z - batch * p.splits;
    origins(batch, row, col);
    let quads = p.k / 4u;
    let q0 = split * p.split_quads;
    let q1 = min(q0 + p.split_quads, quads);
    var a: array<vec4<f32>, 8>;
    var b: array<vec4<f32>, 16>;
    for (var q = q0; q < q1; q++) {
        load_quad(q, &a, &b);
        outer_quad(acc, &a, &b);
    }
    if (A_KC == 0u && B_KC == 0u) {
        // The K tail belongs to the last split.
        let tail = select(p.k, 4u * quads, split + 1u == p.splits);
        for (var k = tail; k < p.k; k++) {
            single(acc, k);
        }
    }
    column_offsets(p.c_off + batch * p.c_batch + split * p.c_split, col, p.bias_off + batch * p.bias_batch);
    return Place(row, col, batch, split);
}

@compute @workgroup_size(WG)
fn gemm_texture(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    var acc = Block();
    let at = block(&acc, wg, li);
    let bias_off = p.bias_off + at.batch * p.bias_batch;
    store_row(bias_off, at.row + 0u, acc[0], acc[1], acc[2], acc[3]);
    store_row(bias_off, at.row + 1u, acc[4], acc[5], acc[6], acc[7]);
    store_row(bias_off, at.row + 2u, acc[8], acc[9], acc[10], acc[11]);
    store_row(bias_off, at.row + 3u, acc[12], acc[13], acc[14], acc[15]);
    store_row(bias_off, at.row + 4u, acc[16], acc[17], acc[18], acc[19]);
    store_row(bias_off, at.row + 5u, acc[20], acc[21], acc[22], acc[23]);
    store_row(bias_off, at.row + 6u, acc[24], acc[25], acc[26], acc[27]);
    store_row(bias_off, at.row + 7u, acc[28], acc[29], acc[30], acc[31]);
}

@compute @workgroup_size(WG)
fn gemm_texture_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    var acc = Block();
    let at = block(&acc, wg, li);
    let bias_off = p.bias_off + at.batch * p.bias_batch;
    store_row_vec4(bias_off, at.row + 0u, acc[0], acc[1], acc[2], acc[3]);
    store_row_vec4(bias_off, at.row + 1u, acc[4], acc[5], acc[6], acc[7]);
    store_row_vec4(bias_off, at.row + 2u, acc[8], acc[9], acc[10], acc[11]);
    store_row_vec4(bias_off, at.row + 3u, acc[12], acc[13], acc[14], acc[15]);
    store_row_vec4(bias_off, at.row + 4u, acc[16], acc[17], acc[18], acc[19]);
    store_row_vec4(bias_off, at.row + 5u, acc[20], acc[21], acc[22], acc[23]);
    store_row_vec4(bias_off, at.row + 6u, acc[24], acc[25], acc[26], acc[27]);
    store_row_vec4(bias_off, at.row + 7u, acc[28], acc[29], acc[30], acc[31]);
}
