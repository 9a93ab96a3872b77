// The software-adapter forms of the max-pool passes (../pool.wgsl, composed before
// this file with linear_texture.wgsl).

// The texture variants of the max-pool passes for disjoint windows (KH != 0), for CPU adapters:
// x, dy and the argmax indices are read from linear textures holding the tensors from element
// 0 (storage loads there are scalar loops per lane), and an invocation computes four
// consecutive results, stored as one vec4 (a scalar store there costs about what a vec4 does).
// The outputs are bound in whole vec4s: results past the end land in their buffers' slack.
@group(0) @binding(1) var x_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> argmax4: array<vec4<u32>>;
@group(0) @binding(1) var dy_texture: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var argmax_texture: texture_storage_2d<rgba32uint, read>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4<f32>>;

// The maximum of output o's window and its index in the plane.
struct Best {
    v: f32,
    i: u32,
}

fn window_max(o: u32) -> Best {
    let plane_out = out_h() * out_w();
    let base = (o / plane_out) * in_h() * in_w();
    let corner = ((o % plane_out) / out_w()) * stride_h() * in_w() + (o % out_w()) * stride_w();
    var best = Best(linear_element(x_texture, base + corner), corner);
    for (var kh = 0u; kh < KH; kh++) {
        for (var kw = 0u; kw < KW; kw++) {
            let at = corner + kh * in_w() + kw;
            let v = linear_element(x_texture, base + at);
            if (wins(v, best.v)) { best = Best(v, at); }
        }
    }
    return best;
}

@compute @workgroup_size(256)
fn max_pool_forward_texture(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32) {
    let t = linear_id(wid, nwg, lid);
    if (t * 4u >= p.planes * out_h() * out_w()) { return; }
    let a = window_max(4u * t);
    let b = window_max(4u * t + 1u);
    let c = window_max(4u * t + 2u);
    let d = window_max(4u * t + 3u);
    y4[t] = vec4<f32>(a.v, b.v, c.v, d.v);
    argmax4[t] = vec4<u32>(a.i, b.i, c.i, d.i);
}

// dy routed to input element i: dy of its window when it is that window's argmax, else 0.
fn routed(i: u32) -> f32 {
    let w = owner(i);
    let at = linear_texel(w.o >> 2u);
    let won = w.covered && textureLoad(argmax_texture, at)[w.o & 3u] == i % (in_h() * in_w());
    return select(0.0, textureLoad(dy_texture, at)[w.o & 3u], won);
}

@compute @workgroup_size(256)
fn max_pool_backward_texture(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_index) lid: u32) {
    let t = linear_id(wid, nwg, lid);
    if (t * 4u >= p.planes * in_h() * in_w()) { return; }
    dx4[t] = vec4<f32>(routed(4u * t), routed(4u * t + 1u), routed(4u * t + 2u), routed(4u * t + 3u));
}
