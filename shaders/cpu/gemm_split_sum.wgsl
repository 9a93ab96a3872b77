// Sums the partial C blocks of a split-K texture GEMM (`gemm_texture.wgsl`): out[out_off + i]
// (+)= sum over s of parts[s * len + i]. The partials are written contiguous (`c_split` = len)
// by the GEMM, so only the final C takes the caller's offset. ACCUMULATE (a pipeline constant:
// llvmpipe runs both sides of a branch) adds to out's current values: image chunks of a
// convolution's grad weight add up into one dw. Parameters match `SplitSumParams` in
// ops/gemm_texture.rs; grid from `grid_1d` (64 per workgroup).

struct SplitSumParams {
    len: u32,
    splits: u32,
    out_off: u32,
    _pad: u32,
}

override ACCUMULATE: u32 = 0u;

@group(0) @binding(0) var<uniform> p: SplitSumParams;
@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn gemm_split_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 64u + lid;
    if (i >= p.len) { return; }
    var acc = 0.0;
    if (ACCUMULATE != 0u) { acc = out[p.out_off + i]; }
    for (var s = 0u; s < p.splits; s++) {
        acc += parts[s * p.len + i];
    }
    out[p.out_off + i] = acc;
}
