// The software-adapter form of `unary_map` (../unary.wgsl), composed after map_common.wgsl,
// math.wgsl and linear_texture.wgsl.

// The texture variant, for contiguous operands on CPU adapters: x copied linearly into a
// texture from a texel-aligned offset, four elements per invocation, stored as one vec4 (the
// output buffer is bound rounded up to whole vec4s; the tail lands in its own slack).
@group(0) @binding(1) var x_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn unary_map_texture(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let t = linear_id(wid, nwg, lid);
    if (t >= (p.n + 3u) / 4u) { return; }
    let v = textureLoad(x_texture, linear_texel(t));
    y4[t] = vec4<f32>(unary_op(OP, v.x, p.alpha, p.beta), unary_op(OP, v.y, p.alpha, p.beta),
                      unary_op(OP, v.z, p.alpha, p.beta), unary_op(OP, v.w, p.alpha, p.beta));
}
