// 2-D convolution (NCHW, weights [out_c, in_c / groups, k_h, k_w]) as implicit GEMMs on the
// GEMM core: the im2col matrix is never built; each K slice of it is gathered straight into
// workgroup memory. Why implicit GEMM rather than im2col + GEMM: the im2col matrix of a 32 x 64
// x 32 x 32 batch with a 3x3 kernel is 75 MB written and read once per pass, which costs more
// than the gather on every adapter, and it would cap batch sizes at the binding limit.
//
// Per group g (and, for grad weight, per K split s) the three passes are:
//   forward      C[oc, q]  = sum_k W[oc, k] X[k, q]        q = (n, oh, ow), k = (c, kh, kw)
//   grad input   C[c, q]   = sum_k W'[c, k] dY[k, q]       q = (n, h, w),   k = (oc, kh, kw)
//   grad weight  C[oc, k'] = sum_q dY[oc, q] X[q, k']      k' = (c, kh, kw), q = (n, oh, ow)
// Rows are channels and columns pixels (or kernel taps), so output rows are contiguous in NCHW.
// conv_transpose2d's forward is the grad-input pass. Parameters match `ConvParams` in
// crates/kernels/src/ops/conv.rs. The launcher keeps THREADS a multiple of BN, so the column an
// invocation stages is the same in every K slice and its decomposition is hoisted.
//
// As in matmul.wgsl, the element types are the module's: a `gemm_in_*.wgsl` part declares lhs,
// rhs and the bias with `load_*` functions returning f32, a `gemm_out_*.wgsl` part declares out
// with `store_out`; everything in between is f32.

struct ConvParams {
    batch: u32,
    in_c: u32,
    in_h: u32,
    in_w: u32,
    out_c: u32,
    out_h: u32,
    out_w: u32,
    groups: u32,
    k_h: u32,
    k_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_h: u32,
    pad_w: u32,
    dil_h: u32,
    dil_w: u32,
    has_bias: u32,
    act: u32,
    alpha: f32,
    splits: u32,
    k_split: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: ConvParams;

fn inv(v: u32) -> f32 {
    return 1.0 / f32(v);
}

// Shared epilogue: rows are channels `row_base + r` of an NCHW tensor with `chans` channels and
// `hw` pixels per image; columns are pixels q = (n, pix).
fn store_nchw(acc: Acc, tx: u32, ty: u32, row0: u32, col0: u32, rows: u32, cols: u32,
              row_base: u32, chans: u32, hw: u32) {
    let inv_hw = inv(hw);
    for (var j = 0u; j < TN; j++) {
        let q = col0 + tx + j * WG_X;
        if (q >= cols) { continue; }
        let n = div_fast(q, hw, inv_hw);
        let pix = q - n * hw;
        for (var i = 0u; i < TM; i++) {
            let r = row0 + ty + i * WG_Y;
            if (r >= rows) { continue; }
            let ch = row_base + r;
            var v = acc_row(acc, i)[j];
            if (p.has_bias != 0u) { v += load_bias(ch); }
            store_out((n * chans + ch) * hw + pix, unary_op(p.act, v, p.alpha, 0.0));
        }
    }
}

// lhs = x [batch, in_c, in_h, in_w], rhs = w [out_c, in_c / groups, k_h, k_w], out = y.
@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_forward(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let tx = lid.x;
    let ty = lid.y;
    let tid = ty * WG_X + tx;
    let g = wid.z;
    let icg = p.in_c / p.groups;
    let ocg = p.out_c / p.groups;
    let khw = p.k_h * p.k_w;
    let kdim = icg * khw;
    let ohw = p.out_h * p.out_w;
    let cols = p.batch * ohw;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let inv_khw = inv(khw);
    let inv_kw = inv(p.k_w);
    // The pixel this invocation stages (fixed across K slices).
    let q = col0 + tid % BN;
    let qn = div_fast(q, ohw, inv(ohw));
    let qpix = q - qn * ohw;
    let qoh = div_fast(qpix, p.out_w, inv(p.out_w));
    let qow = qpix - qoh * p.out_w;
    let ih0 = i32(qoh * p.stride_h) - i32(p.pad_h);
    let iw0 = i32(qow * p.stride_w) - i32(p.pad_w);
    let x_base = (qn * p.in_c + g * icg) * p.in_h * p.in_w;
    let w_base = g * ocg * kdim;
    var acc = Acc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k0 = 0u; k0 < kdim; k0 += BK) {
        for (var e = tid; e < BM * BK; e += THREADS) {
            let m = e / BK;
            let kk = e % BK;
            let row = row0 + m;
            let k = k0 + kk;
            var v = 0.0;
            if (row < ocg && k < kdim) { v = load_rhs(w_base + row * kdim + k); }
            tile_a[kk * BM + m] = v;
        }
        for (var e = tid; e < BK * BN; e += THREADS) {
            let kk = e / BN;
            let k = k0 + kk;
            var v = 0.0;
            if (q < cols && k < kdim) {
                let c = div_fast(k, khw, inv_khw);
                let t = k - c * khw;
                let kh = div_fast(t, p.k_w, inv_kw);
                let kw = t - kh * p.k_w;
                let ih = ih0 + i32(kh * p.dil_h);
                let iw = iw0 + i32(kw * p.dil_w);
                if (ih >= 0 && ih < i32(p.in_h) && iw >= 0 && iw < i32(p.in_w)) {
                    v = load_lhs(x_base + (c * p.in_h + u32(ih)) * p.in_w + u32(iw));
                }
            }
            tile_b[kk * BN + tid % BN] = v;
        }
        workgroupBarrier();
        acc = gemm_accumulate(tx, ty, acc);
        workgroupBarrier();
    }
    store_nchw(acc, tx, ty, row0, col0, ocg, cols, g * ocg, p.out_c, ohw);
}

// lhs = dy [batch, out_c, out_h, out_w], rhs = w, out = dx [batch, in_c, in_h, in_w].
// Also conv_transpose2d's forward (lhs = its input, bias = its bias per output channel).
@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_grad_input(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let tx = lid.x;
    let ty = lid.y;
    let tid = ty * WG_X + tx;
    let g = wid.z;
    let icg = p.in_c / p.groups;
    let ocg = p.out_c / p.groups;
    let khw = p.k_h * p.k_w;
    let kdim = ocg * khw;
    let hw = p.in_h * p.in_w;
    let cols = p.batch * hw;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let inv_khw = inv(khw);
    let inv_kw = inv(p.k_w);
    let inv_sh = inv(p.stride_h);
    let inv_sw = inv(p.stride_w);
    let q = col0 + tid % BN;
    let qn = div_fast(q, hw, inv(hw));
    let qpix = q - qn * hw;
    let qh = div_fast(qpix, p.in_w, inv(p.in_w));
    let qw = qpix - qh * p.in_w;
    let dy_base = (qn * p.out_c + g * ocg) * p.out_h * p.out_w;
    var acc = Acc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k0 = 0u; k0 < kdim; k0 += BK) {
        for (var e = tid; e < BM * BK; e += THREADS) {
            let m = e / BK;
            let kk = e % BK;
            let row = row0 + m;
            let k = k0 + kk;
            var v = 0.0;
            if (row < icg && k < kdim) {
                let oc = div_fast(k, khw, inv_khw);
                let t = k - oc * khw;
                v = load_rhs(((g * ocg + oc) * icg + row) * khw + t);
            }
            tile_a[kk * BM + m] = v;
        }
        for (var e = tid; e < BK * BN; e += THREADS) {
            let kk = e / BN;
            let k = k0 + kk;
            var v = 0.0;
            if (q < cols && k < kdim) {
                let oc = div_fast(k, khw, inv_khw);
                let t = k - oc * khw;
                let kh = div_fast(t, p.k_w, inv_kw);
                let kw = t - kh * p.k_w;
                // oh * stride = h + pad - kh * dil, exactly, inside the output.
                let th = i32(qh + p.pad_h) - i32(kh * p.dil_h);
                let tw = i32(qw + p.pad_w) - i32(kw * p.dil_w);
                if (th >= 0 && tw >= 0) {
                    let oh = div_fast(u32(th), p.stride_h, inv_sh);
                    let ow = div_fast(u32(tw), p.stride_w, inv_sw);
                    if (oh * p.stride_h == u32(th) && ow * p.stride_w == u32(tw) && oh < p.out_h && ow < p.out_w) {
                        v = load_lhs(dy_base + (oc * p.out_h + oh) * p.out_w + ow);
                    }
                }
            }
            tile_b[kk * BN + tid % BN] = v;
        }
        workgroupBarrier();
        acc = gemm_accumulate(tx, ty, acc);
        workgroupBarrier();
    }
    store_nchw(acc, tx, ty, row0, col0, icg, cols, g * icg, p.in_c, hw);
}

// lhs = dy, rhs = x, out = dw [splits][out_c, in_c / groups, k_h, k_w]; workgroup z = g * splits + s
// reduces pixels [s * k_split, (s + 1) * k_split). `conv2d_splitk_sum` then adds the splits.
@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_grad_weight(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let tx = lid.x;
    let ty = lid.y;
    let tid = ty * WG_X + tx;
    let g = wid.z / p.splits;
    let s = wid.z % p.splits;
    let icg = p.in_c / p.groups;
    let ocg = p.out_c / p.groups;
    let khw = p.k_h * p.k_w;
    let cols = icg * khw;
    let ohw = p.out_h * p.out_w;
    let kdim = p.batch * ohw;
    let k_begin = s * p.k_split;
    let k_end = min(kdim, k_begin + p.k_split);
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let inv_ohw = inv(ohw);
    let inv_ow = inv(p.out_w);
    // The kernel tap (c, kh, kw) this invocation stages.
    let col = col0 + tid % BN;
    let cc = div_fast(col, khw, inv(khw));
    let ct = col - cc * khw;
    let ckh = div_fast(ct, p.k_w, inv(p.k_w));
    let ckw = ct - ckh * p.k_w;
    let h_off = i32(ckh * p.dil_h) - i32(p.pad_h);
    let w_off = i32(ckw * p.dil_w) - i32(p.pad_w);
    var acc = Acc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        for (var e = tid; e < BM * BK; e += THREADS) {
            let m = e / BK;
            let kk = e % BK;
            let row = row0 + m;
            let k = k0 + kk;
            var v = 0.0;
            if (row < ocg && k < k_end) {
                let n = div_fast(k, ohw, inv_ohw);
                v = load_lhs((n * p.out_c + g * ocg + row) * ohw + (k - n * ohw));
            }
            tile_a[kk * BM + m] = v;
        }
        for (var e = tid; e < BK * BN; e += THREADS) {
            let kk = e / BN;
            let k = k0 + kk;
            var v = 0.0;
            if (col < cols && k < k_end) {
                let n = div_fast(k, ohw, inv_ohw);
                let pix = k - n * ohw;
                let oh = div_fast(pix, p.out_w, inv_ow);
                let ow = pix - oh * p.out_w;
                let ih = i32(oh * p.stride_h) + h_off;
                let iw = i32(ow * p.stride_w) + w_off;
                if (ih >= 0 && ih < i32(p.in_h) && iw >= 0 && iw < i32(p.in_w)) {
                    v = load_rhs(((n * p.in_c + g * icg + cc) * p.in_h + u32(ih)) * p.in_w + u32(iw));
                }
            }
            tile_b[kk * BN + tid % BN] = v;
        }
        workgroupBarrier();
        acc = gemm_accumulate(tx, ty, acc);
        workgroupBarrier();
    }
    let out_base = s * p.out_c * cols;
    for (var i = 0u; i < TM; i++) {
        let r = row0 + ty + i * WG_Y;
        if (r >= ocg) { continue; }
        let row = acc_row(acc, i);
        for (var j = 0u; j < TN; j++) {
            let cj = col0 + tx + j * WG_X;
            if (cj < cols) { store_out(out_base + (g * ocg + r) * cols + cj, row[j]); }
        }
    }
}

// out[i] = sum over s of load_lhs(s * len + i), in order of s (deterministic). len = p.k_split here.
@compute @workgroup_size(256)
fn conv2d_splitk_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) li: u32) {
    let i = (wid.x + wid.y * nwg.x) * 256u + li;
    if (i >= p.k_split) { return; }
    var sum = 0.0;
    for (var s = 0u; s < p.splits; s++) { sum += load_lhs(s * p.k_split + i); }
    store_out(i, sum);
}
