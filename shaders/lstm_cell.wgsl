// The fused LSTM cell, forward: one invocation per (sample, unit) reads the unit's four gate
// pre-activations (input, forget, candidate, output: blocks of `units` in each row of
// `gates`) and the previous cell state, and writes the new hidden and cell states side by
// side, h in columns 0..units and c in units..2 units of `hc`:
//   c = sigmoid(f) c_prev + sigmoid(i) tanh(g),  h = sigmoid(o) tanh(c).
// One dispatch instead of the ten a step's elementwise graph takes. Composed after
// cell_common.wgsl and lstm_gates.wgsl (the inputs and activations).

@group(0) @binding(3) var<storage, read_write> hc: array<f32>;

@compute @workgroup_size(256)
fn lstm_cell(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let k = cell_index(wid, nwg, lid);
    let u = p.units;
    if (k >= p.n * u) { return; }
    let row = k / u;
    let j = k % u;
    let a = lstm_activations(gate_at(row, j, u), u); // (i, f, g, o)
    let c = a.y * c_prev[k] + a.x * a.z;
    hc[row * 2u * u + j] = a.w * tanh_(c);
    hc[row * 2u * u + u + j] = c;
}
