// 2-D max and average pooling and global average pooling, NCHW, contiguous, forward and
// backward. Parameters match `PoolParams` in crates/kernels/src/ops/pool.rs. A "plane" is one
// (n, c) image of in_h x in_w; planes = N * C.
//
// Windows: output (oh, ow) covers input rows oh * stride_h - pad_h + [0, k_h) (same for columns);
// padded positions never win a max (they count as -inf) and count as zeros in the average, whose
// divisor is always k_h * k_w (PyTorch's count_include_pad = True; without ceil mode no window
// reaches past the padding, so the divisor never shrinks).
//
// Backward passes gather instead of scattering (no float atomics): an invocation per input
// element visits, in a fixed order, the output windows that contain it.

struct PoolParams {
    planes: u32,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    k_h: u32,
    k_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    _pad: u32,
}

const WG: u32 = 256u;

// The window size when windows are disjoint and unpadded (stride >= k, pad = 0: the usual 2x2
// pooling), else 0. Pipeline constants, set by the launcher: with them the window loops have
// constant bounds (unrolled, no bounds checks: such a window always lies inside the input), and
// a backward invocation finds its one window by division instead of looping over candidates.
// Runtime-bounded loops are what cost most on a software adapter.
override KH: u32 = 0u;
override KW: u32 = 0u;

@group(0) @binding(0) var<uniform> p: PoolParams;
// Forward: (x, y[, argmax]); backward: (dy[, argmax], dx).
@group(0) @binding(1) var<storage, read> x: array<elem>;
@group(0) @binding(2) var<storage, read_write> y: array<elem>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(1) var<storage, read> dy: array<elem>;
@group(0) @binding(2) var<storage, read> argmax_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx_max: array<elem>;
@group(0) @binding(2) var<storage, read_write> dx: array<elem>;

// The shape, as pipeline constants set by the launcher (0: read the parameters). Divisions by
// them index every element, and a division by a runtime value is scalarized on a CPU adapter.
override IN_H: u32 = 0u;
override IN_W: u32 = 0u;
override OUT_H: u32 = 0u;
override OUT_W: u32 = 0u;
override STRIDE_H: u32 = 0u;
override STRIDE_W: u32 = 0u;

fn in_h() -> u32 { return select(p.in_h, IN_H, IN_H != 0u); }
fn in_w() -> u32 { return select(p.in_w, IN_W, IN_W != 0u); }
fn out_h() -> u32 { return select(p.out_h, OUT_H, OUT_H != 0u); }
fn out_w() -> u32 { return select(p.out_w, OUT_W, OUT_W != 0u); }
fn stride_h() -> u32 { return select(p.stride_h, STRIDE_H, STRIDE_H != 0u); }
fn stride_w() -> u32 { return select(p.stride_w, STRIDE_W, STRIDE_W != 0u); }

var<workgroup> red: array<f32, 256>;

fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * WG + lid;
}

// First input row (or column) of window `o`, relative to the unpadded input; may be negative.
fn window_start(o: u32, stride: u32, pad: u32) -> i32 {
    return i32(o * stride) - i32(pad);
}

// Output windows [lo, hi) along one dimension that contain input position `i`:
// o * stride - pad <= i < o * stride - pad + k.
fn windows_of(i: u32, k: u32, stride: u32, pad: u32, out: u32) -> vec2<u32> {
    let top = i + pad;                          // o * stride <= top
    var lo = 0u;
    if (top + 1u > k) { lo = (top + 1u - k + stride - 1u) / stride; }
    let hi = min(top / stride + 1u, out);
    return vec2<u32>(lo, max(lo, hi));
}

// Whether `v` replaces `best` as a window's maximum: a NaN wins over numbers.
fn wins(v: f32, best: f32) -> bool {
    return is_nan(v) || (!is_nan(best) && v > best);
}

// An invocation per output; the first maximum in row-major window order wins ties, and a NaN
// wins over numbers (it propagates, as in PyTorch).
@compute @workgroup_size(256)
fn max_pool_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let o = linear_id(wid, nwg, lid);
    let plane_out = out_h() * out_w();
    if (o >= p.planes * plane_out) { return; }
    let plane = o / plane_out;
    let oh = (o % plane_out) / out_w();
    let ow = o % out_w();
    let h0 = window_start(oh, stride_h(), p.pad_h);
    let w0 = window_start(ow, stride_w(), p.pad_w);
    let ih0 = u32(max(h0, 0));
    let iw0 = u32(max(w0, 0));
    let ih1 = u32(min(h0 + i32(p.k_h), i32(in_h())));
    let iw1 = u32(min(w0 + i32(p.k_w), i32(in_w())));
    let base = plane * in_h() * in_w();
    // Start from the first in-bounds element (the host guarantees pad <= k / 2, so there is one).
    var best_i = ih0 * in_w() + iw0;
    var best = f32(x[base + best_i]);
    if (KH != 0u) {
        for (var kh = 0u; kh < KH; kh++) {
            for (var kw = 0u; kw < KW; kw++) {
                let at = (ih0 + kh) * in_w() + iw0 + kw;
                let v = f32(x[base + at]);
                if (wins(v, best)) {
                    best = v;
                    best_i = at;
                }
            }
        }
        y[o] = elem(best);
        argmax[o] = best_i;
        return;
    }
    for (var ih = ih0; ih < ih1; ih++) {
        for (var iw = iw0; iw < iw1; iw++) {
            let v = f32(x[base + ih * in_w() + iw]);
            if (wins(v, best)) {
                best = v;
                best_i = ih * in_w() + iw;
            }
        }
    }
    y[o] = elem(best);
    argmax[o] = best_i;
}

// The output windows that contain input element i: its position in its plane, the plane's first
// output element, and the [first, end) output rows and columns whose windows cover it.
struct Covering {
    local: u32,
    base: u32,
    hs: vec2<u32>,
    ws: vec2<u32>,
}

fn covering(i: u32) -> Covering {
    let plane_in = in_h() * in_w();
    let local = i % plane_in;
    let hs = windows_of(local / in_w(), p.k_h, stride_h(), p.pad_h, out_h());
    let ws = windows_of(local % in_w(), p.k_w, stride_w(), p.pad_w, out_w());
    return Covering(local, (i / plane_in) * out_h() * out_w(), hs, ws);
}

// With disjoint unpadded windows (KH != 0): the one output window that contains input element
// i, and whether there is one (rows and columns past the last window, or in the gaps between
// windows when stride > k, have none). The index is clamped to the plane so it can be loaded
// either way.
struct Owner {
    o: u32,
    covered: bool,
}

fn owner(i: u32) -> Owner {
    let plane_in = in_h() * in_w();
    let local = i % plane_in;
    let ih = local / in_w();
    let iw = local % in_w();
    let oh = ih / stride_h();
    let ow = iw / stride_w();
    let covered = oh < out_h() && ow < out_w() && ih - oh * stride_h() < KH && iw - ow * stride_w() < KW;
    let o = (i / plane_in) * out_h() * out_w() + min(oh, out_h() - 1u) * out_w() + min(ow, out_w() - 1u);
    return Owner(o, covered);
}

// An invocation per input element: the sum of dy over the windows whose argmax is this element.
@compute @workgroup_size(256)
fn max_pool_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.planes * in_h() * in_w()) { return; }
    if (KH != 0u) {
        let w = owner(i);
        let won = w.covered && argmax_in[w.o] == i % (in_h() * in_w());
        dx_max[i] = elem(select(0.0, f32(dy[w.o]), won));
        return;
    }
    let cv = covering(i);
    var acc = 0.0;
    for (var oh = cv.hs.x; oh < cv.hs.y; oh++) {
        for (var ow = cv.ws.x; ow < cv.ws.y; ow++) {
            let o = cv.base + oh * out_w() + ow;
            if (argmax_in[o] == cv.local) { acc += f32(dy[o]); }
        }
    }
    dx_max[i] = elem(acc);
}

// An invocation per output: the window sum (padding contributes zeros) over k_h * k_w.
@compute @workgroup_size(256)
fn avg_pool_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let o = linear_id(wid, nwg, lid);
    let plane_out = out_h() * out_w();
    if (o >= p.planes * plane_out) { return; }
    let plane = o / plane_out;
    let h0 = window_start((o % plane_out) / out_w(), stride_h(), p.pad_h);
    let w0 = window_start(o % out_w(), stride_w(), p.pad_w);
    let ih1 = u32(min(h0 + i32(p.k_h), i32(in_h())));
    let iw1 = u32(min(w0 + i32(p.k_w), i32(in_w())));
    let base = plane * in_h() * in_w();
    var acc = 0.0;
    if (KH != 0u) {
        let at = base + u32(h0) * in_w() + u32(w0);
        for (var kh = 0u; kh < KH; kh++) {
            for (var kw = 0u; kw < KW; kw++) { acc += f32(x[at + kh * in_w() + kw]); }
        }
        y[o] = elem(acc / f32(KH * KW));
        return;
    }
    for (var ih = u32(max(h0, 0)); ih < ih1; ih++) {
        for (var iw = u32(max(w0, 0)); iw < iw1; iw++) {
            acc += f32(x[base + ih * in_w() + iw]);
        }
    }
    y[o] = elem(acc / f32(p.k_h * p.k_w));
}

// An invocation per input element: the sum of dy over the windows containing it, / (k_h k_w).
@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.planes * in_h() * in_w()) { return; }
    if (KH != 0u) {
        let w = owner(i);
        dx[i] = elem(select(0.0, f32(dy[w.o]) / f32(KH * KW), w.covered));
        return;
    }
    let cv = covering(i);
    var acc = 0.0;
    for (var oh = cv.hs.x; oh < cv.hs.y; oh++) {
        for (var ow = cv.ws.x; ow < cv.ws.y; ow++) {
            acc += f32(dy[cv.base + oh * out_w() + ow]);
        }
    }
    dx[i] = elem(acc / f32(p.k_h * p.k_w));
}

// A workgroup per plane: the mean of its in_h * in_w elements by a fixed-shape tree.
@compute @workgroup_size(256)
fn global_avg_pool_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                           @builtin(local_invocation_index) lid: u32) {
    let plane = wid.x + wid.y * nwg.x;
    if (plane >= p.planes) { return; }
    let hw = in_h() * in_w();
    var s = 0.0;
    for (var j = lid; j < hw; j += WG) { s += f32(x[plane * hw + j]); }
    red[lid] = s;
    workgroupBarrier();
    for (var k = WG / 2u; k > 0u; k >>= 1u) {
        if (lid < k) { red[lid] += red[lid + k]; }
        workgroupBarrier();
    }
    if (lid == 0u) { y[plane] = elem(red[0] / f32(hw)); }
}

// dx = dy[plane] / (in_h in_w), an invocation per input element.
@compute @workgroup_size(256)
fn global_avg_pool_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    let hw = in_h() * in_w();
    if (i >= p.planes * hw) { return; }
    dx[i] = elem(f32(dy[i / hw]) / f32(hw));
}
