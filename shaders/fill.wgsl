// Fills a contiguous buffer: a constant 32-bit word (any 4-byte dtype), or an f32 arange.

struct FillParams {
    n: u32,
    word: u32,
    start: f32,
    step: f32,
}

@group(0) @binding(0) var<uniform> p: FillParams;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn fill_value(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i < p.n) { out[i] = p.word; }
}

@compute @workgroup_size(256)
fn fill_arange(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i < p.n) { out[i] = bitcast<u32>(p.start + f32(i) * p.step); }
}
