// The fused GRU cell, backward (see gru_cell.wgsl): from the two projections, the previous
// state and the new state's gradient `dh`, one invocation per (sample, unit) writes, in each
// row of `out`, the gradient of the input's projection (columns 0..3 units: update, reset,
// candidate), of the state's projection (3 units..6 units) and of the previous state
// (6 units..7 units):
//   dz = dh (h_prev - g) z (1 - z),  dc = dh (1 - z) (1 - g^2),  dr = dc hc r (1 - r),
//   d(xz, xr, xc) = (dz, dr, dc),  d(hz, hr, hc) = (dz, dr, dc r),  dh_prev = dh z.
// Composed after cell_common.wgsl and gru_gates.wgsl (the inputs and activations).

@group(0) @binding(4) var<storage, read> dh: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn gru_cell_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let k = cell_index(wid, nwg, lid);
    let u = p.units;
    if (k >= p.n * u) { return; }
    let row = k / u;
    let j = k % u;
    let at = row * 3u * u + j;
    let pre = gru_pre(at, u);
    let a = gru_activations(at, u); // (z, r, g)
    let z = a.x;
    let r = a.y;
    let g = a.z;
    let hc = hp[at + 2u * u];
    let d = dh[k];
    let dz = d * (h_prev[k] - g) * sigmoid_grad(pre.x);
    let dc = d * (1.0 - z) * (1.0 - g * g);
    let dr = dc * hc * sigmoid_grad(pre.y);
    let o = row * 7u * u + j;
    out[o] = dz;
    out[o + u] = dr;
    out[o + 2u * u] = dc;
    out[o + 3u * u] = dz;
    out[o + 4u * u] = dr;
    out[o + 5u * u] = dc * r;
    out[o + 6u * u] = d * z;
}
