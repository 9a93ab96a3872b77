// Fixed-order tree reductions across a 256-invocation workgroup, shared by the row kernels of
// softmax.wgsl and softmax_xent.wgsl (composed before them in `Shader::parts`). Every invocation
// passes its partial value and gets the row's result; the order of additions never changes, so
// results are bit-for-bit repeatable. The max propagates NaN (`max_nan`, nan.wgsl composed first). Also the row index of the narrow-row kernels, which give
// each invocation a whole row (64 rows per workgroup, over a grid folded by `grid_1d`).

const WG: u32 = 256u;
var<workgroup> sh: array<f32, 256>;

fn tree_max(v: f32, lid: u32) -> f32 {
    sh[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) { sh[lid] = max_nan(sh[lid], sh[lid + s]); }
        workgroupBarrier();
    }
    let r = sh[0];
    workgroupBarrier();
    return r;
}

fn tree_sum(v: f32, lid: u32) -> f32 {
    sh[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) { sh[lid] += sh[lid + s]; }
        workgroupBarrier();
    }
    let r = sh[0];
    workgroupBarrier();
    return r;
}

fn serial_row(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * 64u + lid;
}
