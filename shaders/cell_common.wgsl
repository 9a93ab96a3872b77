// What the fused recurrent cells share (lstm_cell*.wgsl, gru_cell*.wgsl; composed after
// nan.wgsl and math.wgsl): their parameters, and NaN-keeping activations. One invocation per
// (sample, unit); tanh's argument is clamped to +-10, where f32 tanh is +-1 already (WGSL's
// tanh may overflow beyond). Parameters match `CellParams` in crates/kernels/src/ops/cells.rs.

struct CellParams {
    n: u32,
    units: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: CellParams;

fn tanh_(v: f32) -> f32 {
    return keep_nan(tanh(clamp(v, -10.0, 10.0)), v);
}

fn sigmoid_nan(v: f32) -> f32 {
    return keep_nan(sigmoid_(v), v);
}

// sigmoid'(v) = sigmoid(v) sigmoid(-v): exact where s (1 - s) would round 1 - s away.
fn sigmoid_grad(v: f32) -> f32 {
    return keep_nan(sigmoid_(v) * sigmoid_(-v), v);
}

// The invocation's (sample, unit) index, `k = sample * units + unit`, or none past the end.
fn cell_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * 256u + lid;
}
