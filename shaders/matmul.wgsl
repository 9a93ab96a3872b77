// Batched C = act(A . B + bias) on the GEMM core. Operands are read through row, column and
// batch strides, so a transposed operand is a stride swap (never materialized) and a broadcast
// batch is a zero batch stride. Output C is contiguous [batch, m, n]. Grid: (n / BN, m / BM,
// batch). Parameters: `MatmulParams` (matmul_params.wgsl).
//
// The element types are the module's: a `gemm_in_*.wgsl` part declares A (lhs), B (rhs) and
// the bias with `load_*` functions that return f32, a `gemm_out_*.wgsl` part declares C (out)
// with `store_out`. Staging, products, sums, bias and activation are f32 in every module.

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let tx = lid.x;
    let ty = lid.y;
    let tid = ty * WG_X + tx;
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let a_base = p.a_off + wid.z * p.a_bs;
    let b_base = p.b_off + wid.z * p.b_bs;
    // Stage along whichever dimension is contiguous in memory.
    let a_k_fast = p.a_cs == 1u;
    let b_n_fast = p.b_cs == 1u;
    var acc = Acc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        for (var e = tid; e < BM * BK; e += THREADS) {
            var m = e / BK;
            var kk = e % BK;
            if (!a_k_fast) { m = e % BM; kk = e / BM; }
            let gm = row0 + m;
            let gk = k0 + kk;
            var v = 0.0;
            if (gm < p.m && gk < p.k) { v = load_lhs(a_base + gm * p.a_rs + gk * p.a_cs); }
            tile_a[kk * BM + m] = v;
        }
        for (var e = tid; e < BK * BN; e += THREADS) {
            var n = e % BN;
            var kk = e / BN;
            if (!b_n_fast) { n = e / BK; kk = e % BK; }
            let gn = col0 + n;
            let gk = k0 + kk;
            var v = 0.0;
            if (gn < p.n && gk < p.k) { v = load_rhs(b_base + gk * p.b_rs + gn * p.b_cs); }
            tile_b[kk * BN + n] = v;
        }
        workgroupBarrier();
        acc = gemm_accumulate(tx, ty, acc);
        workgroupBarrier();
    }
    let c_base = wid.z * p.m * p.n;
    for (var i = 0u; i < TM; i++) {
        let gm = row0 + ty + i * WG_Y;
        if (gm >= p.m) { continue; }
        let r = acc_row(acc, i);
        for (var j = 0u; j < TN; j++) {
            let gn = col0 + tx + j * WG_X;
            if (gn >= p.n) { continue; }
            var v = r[j];
            if (p.has_bias != 0u) { v += load_bias(p.bias_off + gn); }
            store_out(c_base + gm * p.n + gn, unary_op(p.act, v, p.alpha, 0.0));
        }
    }
}
