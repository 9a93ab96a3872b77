// The software-adapter forms of the value reductions (../reduce.wgsl, composed before
// this file with linear_texture.wgsl).

// The texture kernels: `reduce_cols` with x read from a linear texture (CPU adapters: a storage
// load there is a scalar loop per lane, and a workgroup per short row costs more than its row;
// see `ReduceParams::rows`). Rows (inner == 1) fold whole texels, masking the elements outside
// the segment: a texel load costs about what an element load does.
@group(0) @binding(1) var x_texture: texture_storage_2d<rgba32float, read>;

// Folds element `e` with value `v` into `acc` when it lies in [lo, hi).
fn fold_in(acc: f32, v: f32, e: u32, lo: u32, hi: u32, o: u32) -> f32 {
    return select(acc, combine(acc, load(v, o, 0u)), e >= lo && e < hi);
}

@compute @workgroup_size(256)
fn reduce_rows_texture(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let t = (wid.x + wid.y * nwg.x) * WG + lid;
    if (t >= p.outer * p.n_chunks) { return; }
    let c = column(t);
    let lo = c.base + c.start;
    let hi = c.base + c.end;
    var acc = 0.0;
    if (COMBINE != 0u) { acc = load(linear_element(x_texture, lo), c.o, 0u); }
    let q_end = (hi + 3u) >> 2u;
    for (var q = lo >> 2u; q < q_end; q++) {
        let v = textureLoad(x_texture, linear_texel(q));
        let e = q * 4u;
        acc = fold_in(acc, v.x, e, lo, hi, c.o);
        acc = fold_in(acc, v.y, e + 1u, lo, hi, c.o);
        acc = fold_in(acc, v.z, e + 2u, lo, hi, c.o);
        acc = fold_in(acc, v.w, e + 3u, lo, hi, c.o);
    }
    out[t] = finish(acc);
}

@compute @workgroup_size(256)
fn reduce_cols_texture(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let t = (wid.x + wid.y * nwg.x) * WG + lid;
    if (t >= p.outer * p.n_chunks * p.inner) { return; }
    let c = column(t);
    var acc = 0.0;
    if (COMBINE != 0u) { acc = load(linear_element(x_texture, c.base + c.start * p.inner), c.o, c.i); }
    for (var k = c.start; k < c.end; k++) { acc = combine(acc, load(linear_element(x_texture, c.base + k * p.inner), c.o, c.i)); }
    out[t] = finish(acc);
}
