// The fused LSTM cell, forward: one invocation per (sample, unit) reads the unit's four gate
// pre-activations (input, forget, candidate, output: blocks of `units` in each row of
// `gates`) and the previous cell state, and writes the new hidden and cell states side by
// side, h in columns 0..units and c in units..2 units of `hc`:
//   c = sigmoid(f) c_prev + sigmoid(i) tanh(g),  h = sigmoid(o) tanh(c).
// One dispatch instead of the ten a step's elementwise graph takes. Composed after
// cell_common.wgsl (parameters and activations).

@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> c_prev: array<f32>;
@group(0) @binding(3) var<storage, read_write> hc: array<f32>;

@compute @workgroup_size(256)
fn lstm_cell(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let k = cell_index(wid, nwg, lid);
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
