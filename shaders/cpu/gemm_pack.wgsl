// Packs one GEMM operand into the 64 KiB uniform windows `gemm_uniform.wgsl` reads. The operand
// is viewed as rows x depth (A as m x k; B as n x k, i.e. B read through swapped strides) at
// off + batch * bs + row * rs + k * ks. Window (batch, tile, kw) starts at vec4
// ((batch * tiles + tile) * kws + kw) * wstride4 and holds rows tile * 4 r4 .. (tile + 1) * 4 r4
// and k kw * kc .. (kw + 1) * kc, k-major: vec4 j = kk * r4 + r / 4 holds rows r .. r + 3 at
// k = kk. Rows and k beyond the operand are zero. When `rows_vec4` is set (row stride 1,
// offsets and the other strides multiples of 4) four rows are one aligned vec4 of `src4`, the
// same buffer as `src`: one storage load instead of four (each a per-lane loop on llvmpipe). Grid: (kc * r4 / 64, tiles * kws, batches).
// Parameters match `GemmPackParams` in ops/gemm_uniform.rs.

struct GemmPackParams {
    rows: u32,
    depth: u32,
    off: u32,
    rs: u32,
    ks: u32,
    bs: u32,
    r4: u32,
    kc: u32,
    kws: u32,
    wstride4: u32,
    tiles: u32,
    rows_vec4: u32,
}

@group(0) @binding(0) var<uniform> p: GemmPackParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> src4: array<vec4<f32>>;

@compute @workgroup_size(64)
fn gemm_pack(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    if (j >= p.kc * p.r4) { return; }
    let kk = j / p.r4;
    let r = (j % p.r4) * 4u;
    let tile = gid.y / p.kws;
    let kw = gid.y % p.kws;
    let row = tile * p.r4 * 4u + r;
    let k = kw * p.kc + kk;
    let base = p.off + gid.z * p.bs + k * p.ks;
    var v = vec4<f32>(0.0);
    if (k < p.depth && p.rows_vec4 != 0u && row + 3u < p.rows) {
        v = src4[(base + row) / 4u];
    } else if (k < p.depth) {
        for (var e = 0u; e < 4u; e++) {
            if (row + e < p.rows) { v[e] = src[base + (row + e) * p.rs]; }
        }
    }
    dst[(gid.z * p.tiles * p.kws + gid.y) * p.wstride4 + j] = v;
}
