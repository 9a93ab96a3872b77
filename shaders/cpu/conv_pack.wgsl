// Packs one operand of a convolution's GEMM into the 64 KiB uniform windows `gemm_uniform.wgsl`
// reads (CPU adapters; see docs/lavapipe-journal.md, "Performance notes: lavapipe"). This is the explicit
// im2col of the conv passes, written straight into the window layout of `gemm_pack.wgsl`
// (window (batch, tile, kw) starts at vec4 ((batch * tiles + tile) * kws + kw) * wstride4; vec4
// j = kk * r4 + r / 4 holds rows r .. r + 3 at k = kw * kc + kk; rows and k past the operand
// are zero), so no im2col matrix is ever materialized and read back. The batch is the conv
// group. MODE, a pipeline constant (llvmpipe runs both sides of every branch, so a runtime
// mode would pay for all of them):
//   0 strided: element (row, k) at off + b bs + row rs + (k / k_in) ks_out + (k % k_in) ks
//     (weights, and dy as grad weight's A);
//   1 im2col, rows = pixels q = (image, oh, ow) of the output grid, k = taps t = (c, i, j):
//     input pixel (oh stride_h + i dil_h - pad_h, ow stride_w + j dil_w - pad_w) of channel c,
//     zero in the padding (forward's B);
//   2 the same with rows = taps and k = pixels (grad weight's B);
//   3 im2col of grad input, rows = pixels q = (image, h, w) of the input grid, k = taps
//     t = (oc, i, j): dy at ((h + pad_h - i dil_h) / stride_h, (w + pad_w - j dil_w) / stride_w)
//     where both divide exactly and land inside dy, else zero.
// The source is read from a read-only storage texture holding its buffer linearly from element
// 0 (`crates/tensor/src/cpu/texture.rs`): llvmpipe's image loads are vectorized, its storage-buffer
// loads a per-lane loop (docs/lavapipe-journal.md, "The texture GEMM").
// An invocation fills one vec4 (four rows at one k), decomposing its first row once and
// stepping the other three. Grid: (kc * r4 / 64, tiles * kws, batches). Parameters match
// `ConvPackParams` in crates/kernels/src/cpu/conv_im2col.rs.

struct ConvPackParams {
    rows: u32,
    depth: u32,
    r4: u32,
    kc: u32,
    kws: u32,
    wstride4: u32,
    tiles: u32,
    off: u32,
    bs: u32,
    rs: u32,
    ks: u32,
    k_in: u32,
    ks_out: u32,
    src_c: u32,
    src_h: u32,
    src_w: u32,
    pix_h: u32,
    pix_w: u32,
    k_h: u32,
    k_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    dil_h: u32,
    dil_w: u32,
    _pad0: u32,
    _pad1: u32,
}

override MODE: u32 = 0u;
// Every divisor, copied from the parameters by the launcher: an integer division by a runtime
// value is scalarized on a CPU adapter (no vector divide; about 25 cycles a lane), while one by
// a constant compiles to a multiply and a shift. They made most of the pack's cost.
override R4: u32 = 1u;
override KWS: u32 = 1u;
override K_IN: u32 = 1u;
override K_H: u32 = 1u;
override K_W: u32 = 1u;
override PIX_H: u32 = 1u;
override PIX_W: u32 = 1u;
override STRIDE_H: u32 = 1u;
override STRIDE_W: u32 = 1u;

@group(0) @binding(0) var<uniform> p: ConvPackParams;
@group(0) @binding(1) var src: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

// A pixel of an image grid, or a tap of a kernel: (outer, y, x).
struct Idx3 {
    o: u32,
    y: u32,
    x: u32,
}

fn split3(v: u32, h: u32, w: u32) -> Idx3 {
    let plane = h * w;
    let o = v / plane;
    let r = v - o * plane;
    let y = r / w;
    return Idx3(o, y, r - y * w);
}

// The next index of an h x w grid, in row-major order.
fn step3(i: Idx3, h: u32, w: u32) -> Idx3 {
    let wrap_x = i.x + 1u == w;
    let y = select(i.y, i.y + 1u, wrap_x);
    let wrap_y = wrap_x && y == h;
    return Idx3(select(i.o, i.o + 1u, wrap_y), select(y, 0u, wrap_y), select(i.x + 1u, 0u, wrap_x));
}

// Source element (image, channel, y, x) of the group's image tensor, zero outside it.
fn image_at(b: u32, image: u32, ch: u32, y: i32, x: i32) -> f32 {
    let inside = y >= 0 && x >= 0 && y < i32(p.src_h) && x < i32(p.src_w);
    var v = 0.0;
    if (inside) { v = linear_element(src, p.off + b * p.bs + ((image * p.src_c + ch) * p.src_h + u32(y)) * p.src_w + u32(x)); }
    return v;
}

// im2col of pixel `q` (output grid) at tap `t`.
fn im2col(b: u32, q: Idx3, t: Idx3) -> f32 {
    let y = i32(q.y * STRIDE_H + t.y * p.dil_h) - i32(p.pad_h);
    let x = i32(q.x * STRIDE_W + t.x * p.dil_w) - i32(p.pad_w);
    return image_at(b, q.o, t.o, y, x);
}

// Grad-input im2col of pixel `q` (input grid) at tap `t`: dy at the output pixel it feeds.
fn im2col_grad_input(b: u32, q: Idx3, t: Idx3) -> f32 {
    let ny = i32(q.y + p.pad_h) - i32(t.y * p.dil_h);
    let nx = i32(q.x + p.pad_w) - i32(t.x * p.dil_w);
    let exact = ny >= 0 && nx >= 0 && u32(ny) % STRIDE_H == 0u && u32(nx) % STRIDE_W == 0u;
    let y = select(-1, ny / i32(STRIDE_H), exact);
    return image_at(b, q.o, t.o, y, nx / i32(STRIDE_W));
}

// The elements of one vec4 are written out rather than looped over with a dynamically indexed
// vec4: about 7 % faster over a CNN's packs on llvmpipe (alternating runs, within its noise).

// Element `e` of the source for row `row` of the strided mode, zero past the rows.
fn strided(e: u32, row: u32) -> f32 {
    var v = 0.0;
    if (row < p.rows) { v = linear_element(src, e); }
    return v;
}

// One element of the im2col modes: pixel `q` at tap `t` (grad input's for mode 3), for row
// `row` of the pack, zero past the rows.
fn tap(b: u32, q: Idx3, t: Idx3, row: u32) -> f32 {
    var v = 0.0;
    if (row < p.rows) {
        if (MODE == 3u) { v = im2col_grad_input(b, q, t); } else { v = im2col(b, q, t); }
    }
    return v;
}

@compute @workgroup_size(64)
fn conv_pack(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    if (j >= p.kc * R4) { return; }
    let kk = j / R4;
    let tile = gid.y / KWS;
    let kw = gid.y - tile * KWS;
    let row = tile * R4 * 4u + (j - kk * R4) * 4u;
    let k = kw * p.kc + kk;
    let b = gid.z;
    var v = vec4<f32>(0.0);
    if (k < p.depth) {
        if (MODE == 0u) {
            let k_hi = k / K_IN;
            let base = p.off + b * p.bs + k_hi * p.ks_out + (k - k_hi * K_IN) * p.ks + row * p.rs;
            v = vec4<f32>(strided(base, row), strided(base + p.rs, row + 1u), strided(base + 2u * p.rs, row + 2u), strided(base + 3u * p.rs, row + 3u));
        } else if (MODE == 1u || MODE == 3u) {
            let t = split3(k, K_H, K_W);
            let q0 = split3(row, PIX_H, PIX_W);
            let q1 = step3(q0, PIX_H, PIX_W);
            let q2 = step3(q1, PIX_H, PIX_W);
            let q3 = step3(q2, PIX_H, PIX_W);
            v = vec4<f32>(tap(b, q0, t, row), tap(b, q1, t, row + 1u), tap(b, q2, t, row + 2u), tap(b, q3, t, row + 3u));
        } else {
            let q = split3(k, PIX_H, PIX_W);
            let t0 = split3(row, K_H, K_W);
            let t1 = step3(t0, K_H, K_W);
            let t2 = step3(t1, K_H, K_W);
            let t3 = step3(t2, K_H, K_W);
            v = vec4<f32>(tap(b, q, t0, row), tap(b, q, t1, row + 1u), tap(b, q, t2, row + 2u), tap(b, q, t3, row + 3u));
        }
    }
    dst[(b * p.tiles * KWS + gid.y) * p.wstride4 + j] = v;
}
