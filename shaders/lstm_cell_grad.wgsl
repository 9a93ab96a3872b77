// The fused LSTM cell, backward (see lstm_cell.wgsl): from the gate pre-activations, the
// previous cell state, the cell's output `hc` (h | c) and the gradient `dhc` of that output,
// one invocation per (sample, unit) writes the gradients of the four gate pre-activations
// (columns 0..4 units of each row of `out`, the gates' order) and of the previous cell state
// (columns 4 units..5 units):
//   dc = dc_out + dh sigmoid(o) (1 - tanh(c)^2),
//   d(pre-activation) = d(activation) times the activation's derivative, with
//   d(sigmoid(i)) = dc tanh(g), d(sigmoid(f)) = dc c_prev, d(tanh(g)) = dc sigmoid(i),
//   d(sigmoid(o)) = dh tanh(c), dc_prev = dc sigmoid(f).
// Composed after cell_common.wgsl and lstm_gates.wgsl (the inputs and activations).

@group(0) @binding(3) var<storage, read> hc: array<f32>;
@group(0) @binding(4) var<storage, read> dhc: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn lstm_cell_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let k = cell_index(wid, nwg, lid);
    let u = p.units;
    if (k >= p.n * u) { return; }
    let row = k / u;
    let j = k % u;
    let g = gate_at(row, j, u);
    let a = lstm_activations(g, u); // (i, f, g, o)
    let at = row * 2u * u + j;
    let tc = tanh_(hc[at + u]);
    let dh = dhc[at];
    let dc = dhc[at + u] + dh * a.w * (1.0 - tc * tc);
    let o = row * 5u * u + j;
    out[o] = dc * a.z * sigmoid_grad(gates[g]);
    out[o + u] = dc * c_prev[k] * sigmoid_grad(gates[g + u]);
    out[o + 2u * u] = dc * a.x * (1.0 - a.z * a.z);
    out[o + 3u * u] = dh * tc * sigmoid_grad(gates[g + 3u * u]);
    out[o + 4u * u] = dc * a.y;
}
