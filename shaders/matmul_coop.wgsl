// Batched C = act(A . B + bias) on cooperative matrices (tensor cores): f16 operands, f32
// products and sums. Same contract as matmul_tiled (matmul.wgsl): operands read through row,
// column and batch strides, output contiguous [batch, m, n], the module's gemm_in_f16 part for
// the loads and its gemm_out_* part for the store.
//
// A workgroup is one subgroup of 32 invocations (the planner picks this kernel only on
// adapters whose subgroups are exactly 32 wide: a cooperative operation needs whole subgroups)
// and computes a 32 x 32 block of C as 2 x 2 tiles of 16 x 16. Per K slice of 16, the block's
// slices of A and B are staged in workgroup memory as f16, zero-padded past the edges (so any
// m, n, k and any strides are served, and a cooperative load never reads outside a tile), then
// each tile takes one multiply-add. At the end the accumulators go through workgroup memory to
// the f32 epilogue (bias, activation), which stores only the elements inside C.
//
// The simplest form that uses the hardware: one subgroup per workgroup, no double buffering.
// A device checks it against the tiled GEMM at its first f16 matmul (coop.rs in wgtrain-tensor);
// tuning it waits for a GPU that has it. Grid: (n / 32, m / 32, batch).

const CT: u32 = 16u;   // a cooperative tile's side
const CB: u32 = 32u;   // the block of C a workgroup computes: CB x CB
const CK: u32 = 16u;   // the K slice staged per step
const CW: u32 = 32u;   // invocations: one subgroup

// coop_a[m * CK + kk] = A[row0 + m, k0 + kk]; coop_b[kk * CB + n] = B[k0 + kk, col0 + n];
// coop_c[m * CB + n] = the block's sum (row-major, as the T loads and stores read them).
var<workgroup> coop_a: array<f16, CB * CK>;
var<workgroup> coop_b: array<f16, CK * CB>;
var<workgroup> coop_c: array<f32, CB * CB>;

@compute @workgroup_size(32)
fn matmul_coop(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.y * CB;
    let col0 = wid.x * CB;
    let a_base = p.a_off + wid.z * p.a_bs;
    let b_base = p.b_off + wid.z * p.b_bs;
    // The accumulators start from a zeroed block (a load, rather than a zero constructor, is
    // what every backend of the extension implements).
    for (var e = tid; e < CB * CB; e += CW) {
        coop_c[e] = 0.0;
    }
    workgroupBarrier();
    var c00 = coopLoadT<coop_mat16x16<f32, C>>(&coop_c[0], CB);
    var c01 = c00;
    var c10 = c00;
    var c11 = c00;
    for (var k0 = 0u; k0 < p.k; k0 += CK) {
        for (var e = tid; e < CB * CK; e += CW) {
            let gm = row0 + e / CK;
            let gk = k0 + e % CK;
            var v = 0.0;
            if (gm < p.m && gk < p.k) { v = load_lhs(a_base + gm * p.a_rs + gk * p.a_cs); }
            coop_a[e] = f16(v);
        }
        for (var e = tid; e < CK * CB; e += CW) {
            let gk = k0 + e / CB;
            let gn = col0 + e % CB;
            var v = 0.0;
            if (gn < p.n && gk < p.k) { v = load_rhs(b_base + gk * p.b_rs + gn * p.b_cs); }
            coop_b[e] = f16(v);
        }
        workgroupBarrier();
        let a0 = coopLoadT<coop_mat16x16<f16, A>>(&coop_a[0], CK);
        let a1 = coopLoadT<coop_mat16x16<f16, A>>(&coop_a[CT * CK], CK);
        let b0 = coopLoadT<coop_mat16x16<f16, B>>(&coop_b[0], CB);
        let b1 = coopLoadT<coop_mat16x16<f16, B>>(&coop_b[CT], CB);
        c00 = coopMultiplyAdd(a0, b0, c00);
        c01 = coopMultiplyAdd(a0, b1, c01);
        c10 = coopMultiplyAdd(a1, b0, c10);
        c11 = coopMultiplyAdd(a1, b1, c11);
        workgroupBarrier();
    }
    coopStoreT(c00, &coop_c[0], CB);
    coopStoreT(c01, &coop_c[CT], CB);
    coopStoreT(c10, &coop_c[CT * CB], CB);
    coopStoreT(c11, &coop_c[CT * CB + CT], CB);
    workgroupBarrier();
    let c_base = wid.z * p.m * p.n;
    for (var e = tid; e < CB * CB; e += CW) {
        let gm = row0 + e / CB;
        let gn = col0 + e % CB;
        if (gm >= p.m || gn >= p.n) { continue; }
        var v = coop_c[e];
        if (p.has_bias != 0u) { v += load_bias(p.bias_off + gn); }
        store_out(c_base + gm * p.n + gn, unary_op(p.act, v, p.alpha, 0.0));
    }
}
