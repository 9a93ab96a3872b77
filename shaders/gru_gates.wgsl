// What the GRU cell's two kernels share (composed after cell_common.wgsl): their three inputs,
// and the activations of one unit. Each row of `xp` (the input's projection) and `hp` (the
// state's, with its own bias: Keras' `reset_after`) holds blocks of `u` columns: update,
// reset, candidate.

@group(0) @binding(1) var<storage, read> xp: array<f32>;
@group(0) @binding(2) var<storage, read> hp: array<f32>;
@group(0) @binding(3) var<storage, read> h_prev: array<f32>;

// The pre-activations (xz + hz, xr + hr) of the unit whose update column is `at`.
fn gru_pre(at: u32, u: u32) -> vec2<f32> {
    return vec2<f32>(xp[at] + hp[at], xp[at + u] + hp[at + u]);
}

// (z, r, g): the update and reset gates and the candidate g = tanh(xc + r hc).
fn gru_activations(at: u32, u: u32) -> vec3<f32> {
    let pre = gru_pre(at, u);
    let r = sigmoid_nan(pre.y);
    return vec3<f32>(sigmoid_nan(pre.x), r, tanh_(xp[at + 2u * u] + r * hp[at + 2u * u]));
}
