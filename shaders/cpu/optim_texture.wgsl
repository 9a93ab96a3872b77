// The software-adapter form of `adam_update4` (../optim.wgsl, composed before this file
// with linear_texture.wgsl).

// `adam_update4` with its four inputs read from linear textures (CPU adapters, where storage
// loads are scalar loops per lane) and its three outputs stored to their buffers; the guard is
// bound last (texture inputs come first).
@group(0) @binding(1) var param_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var grad_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(3) var m_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(4) var v_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(5) var<storage, read_write> param_out: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> m_out: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> v_out: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> guard_last: array<u32>;

@compute @workgroup_size(256)
fn adam_update_texture(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let i = linear(wid, nwg, lid);
    if (i >= p.n / 4u || skip(guard_last[GUARD_SKIP])) { return; }
    let at = linear_texel(i);
    let r = adam4(textureLoad(param_texture, at), textureLoad(grad_texture, at), textureLoad(m_texture, at),
                  textureLoad(v_texture, at), adam_scalars(guard_last[GUARD_SKIPPED]));
    m_out[i] = r.m;
    v_out[i] = r.v;
    param_out[i] = r.x;
}
