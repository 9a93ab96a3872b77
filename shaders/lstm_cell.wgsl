// The fused LSTM cell, forward: one invocation per (sample, unit) reads the unit's four gate
// pre-activations (input, forget, candidate, output: blocks of `units` in each row of
// `gates`) and the previous cell state, and writes the new hidden and cell states side by
// side, h in columns 0..units and c in units..2 units of `hc`:
//   c = sigmoid(f) c_prev + sigmoid(i) tanh(g),  h = sigmoid(o) tanh(c).
// One dispatch instead of the ten a step's elementwise graph takes. NaN in gives NaN out (see
// nan.wgsl); tanh's argument is clamped to +-10, where f32 tanh is +-1 already (WGSL's tanh
// may overflow beyond). Parameters match `CellParams` in crates/kernels/src/ops/cells.rs.

struct CellParams {
    n: u32,
    units: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: CellParams;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> c_prev: array<f32>;
@group(0) @binding(3) var<storage, read_write> hc: array<f32>;

fn tanh_(v: f32) -> f32 {
    return keep_nan(tanh(clamp(v, -10.0, 10.0)), v);
}

fn sigmoid_nan(v: f32) -> f32 {
    return keep_nan(sigmoid_(v), v);
}

@compute @workgroup_size(256)
fn lstm_cell(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let k = (wid.x + wid.y * nwg.x) * 256u + lid;
    let u = p.units;
    if (k >= p.n * u) { return; }
    let row = k / u;
    let j = k % u;
    let g = row * 4u * u + j;
    let i_gate = sigmoid_nan(gates[g]);
    let f_gate = sigmoid_nan(gates[g + u]);
    let cand = tanh_(gates[g + 2u * u]);
    let o_gate = sigmoid_nan(gates[g + 3u * u]);
    let c = f_gate * c_prev[k] + i_gate * cand;
    hc[row * 2u * u + j] = o_gate * tanh_(c);
    hc[row * 2u * u + u + j] = c;
}
