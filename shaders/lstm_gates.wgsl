// What the LSTM cell's two kernels share (composed after cell_common.wgsl): their first two
// inputs, and the activations of unit `j` of row `row`. The gates come in Keras' order, blocks
// of `u` columns in each row of `gates`: input, forget, candidate, output.

@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> c_prev: array<f32>;

// The index of unit `j`'s input gate in `gates`; the other gates follow `u` apart.
fn gate_at(row: u32, j: u32, u: u32) -> u32 {
    return row * 4u * u + j;
}

// (sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)) of the unit at gate index `g`.
fn lstm_activations(g: u32, u: u32) -> vec4<f32> {
    return vec4<f32>(sigmoid_nan(gates[g]), sigmoid_nan(gates[g + u]), tanh_(gates[g + 2u * u]),
                     sigmoid_nan(gates[g + 3u * u]));
}
