// The fused GRU cell, forward: one invocation per (sample, unit) reads the unit's update, reset
// and candidate parts of the input's projection `xp` and of the previous state's projection
// `hp` (blocks of `units` in each row, in that order; `hp` carries its own bias, Keras'
// `reset_after`) and the previous state, and writes the new state:
//   z = sigmoid(xz + hz), r = sigmoid(xr + hr), g = tanh(xc + r hc), h = g + z (h_prev - g).
// Composed after cell_common.wgsl and gru_gates.wgsl (the inputs and activations).

@group(0) @binding(4) var<storage, read_write> h: array<f32>;

@compute @workgroup_size(256)
fn gru_cell(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let k = cell_index(wid, nwg, lid);
    let u = p.units;
    if (k >= p.n * u) { return; }
    let a = gru_activations((k / u) * 3u * u + k % u, u); // (z, r, g)
    h[k] = a.z + a.x * (h_prev[k] - a.z);
}
