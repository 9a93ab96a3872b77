// The software-adapter form of `binary_map` (../binary.wgsl, composed before this file
// with linear_texture.wgsl).

// The texture variant, for contiguous operands on CPU adapters (see `unary_map_texture`).
@group(0) @binding(1) var a_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var b_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(3) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn binary_map_texture(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let t = linear_id(wid, nwg, lid);
    if (t >= (p.n + 3u) / 4u) { return; }
    let u = textureLoad(a_texture, linear_texel(t));
    let v = textureLoad(b_texture, linear_texel(t));
    out4[t] = vec4<f32>(apply(OP, u.x, v.x), apply(OP, u.y, v.y), apply(OP, u.z, v.z), apply(OP, u.w, v.w));
}
