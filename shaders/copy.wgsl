// Strided copies and casts between the 4-byte dtypes. Source is operand 0, destination operand 1
// (its strides and offset, so copies can write into a view: concat, pad, contiguous()).
// `copy_strided` moves raw 32-bit words, so it serves f32, i32 and u32 alike.

@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(256)
fn copy_strided(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.n) { return; }
    dst[strided_index(i, 1u)] = src[strided_index(i, 0u)];
}

// OP: 0 f32 -> i32 (truncation toward zero), 1 f32 -> u32 (truncation, negatives to 0),
//       2 i32 -> f32, 3 u32 -> f32, 4 i32 <-> u32 (two's complement reinterpretation).
@compute @workgroup_size(256)
fn cast_word(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.n) { return; }
    let w = src[strided_index(i, 0u)];
    var r: u32;
    switch OP {
        case 0u: { r = bitcast<u32>(i32(bitcast<f32>(w))); }
        case 1u: { r = u32(max(bitcast<f32>(w), 0.0)); }
        case 2u: { r = bitcast<u32>(f32(bitcast<i32>(w))); }
        case 3u: { r = bitcast<u32>(f32(w)); }
        default: { r = w; }
    }
    dst[strided_index(i, 1u)] = r;
}
