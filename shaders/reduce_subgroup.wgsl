// Subgroup variant of `reduce_rows` for the value ops (module `reduce_subgroup.wgsl`: composed
// after reduce.wgsl, whose params, bindings and helpers it uses; needs the SUBGROUP feature).
// Each thread folds its strided share of the segment exactly as reduce_rows; then each subgroup
// combines its lanes with subgroupAdd / subgroupMax / subgroupMin and thread 0 folds the
// per-subgroup results in subgroup-id order: one barrier instead of eight. The lane order
// inside subgroupAdd is the adapter's, so sums may differ from reduce_rows in the last bits
// (still repeatable run to run on one adapter). A NaN in the segment gives NaN (see below).

@compute @workgroup_size(256)
fn reduce_rows_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32,
                        @builtin(subgroup_invocation_id) lane: u32, @builtin(num_subgroups) n_sg: u32) {
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
    var s = 0.0;
    switch COMBINE {
        case 1u: { s = subgroupMax(acc); }
        case 2u: { s = subgroupMin(acc); }
        default: { s = subgroupAdd(acc); }
    }
    // subgroupMax and subgroupMin leave NaN undefined (and the compiler may assume none):
    // a lane holding NaN makes the subgroup's result NaN, as max_nan would.
    if (subgroupAny(is_nan(acc))) { s = bitcast<f32>(0x7fc00000u); }
    if (lane == 0u) { sh_v[sg] = s; }
    workgroupBarrier();
    if (valid && lid == 0u) {
        var r = sh_v[0];
        for (var k = 1u; k < n_sg; k++) { r = combine(r, sh_v[k]); }
        out[g] = finish(r);
    }
}
