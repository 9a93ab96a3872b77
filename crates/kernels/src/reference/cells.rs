//! Twins of the fused recurrent cells (`lstm_cell.wgsl`, `gru_cell.wgsl` and their gradients),
//! in f64.

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// The four activations of unit `j` of row `r`: (input, forget, candidate, output).
fn activations(gates: &[f32], r: usize, j: usize, u: usize) -> [f64; 4] {
    let g = |b: usize| gates[r * 4 * u + b * u + j] as f64;
    [sigmoid(g(0)), sigmoid(g(1)), g(2).tanh(), sigmoid(g(3))]
}

/// `hc` `[n, 2u]`: h = sigmoid(o) tanh(c) then c = sigmoid(f) c_prev + sigmoid(i) tanh(g), from
/// gate pre-activations `[n, 4u]` (input, forget, candidate, output) and `c_prev` `[n, u]`.
pub fn lstm_cell(gates: &[f32], c_prev: &[f32], n: usize, u: usize) -> Vec<f32> {
    let mut hc = vec![0.0; n * 2 * u];
    for r in 0..n {
        for j in 0..u {
            let [i, f, cand, o] = activations(gates, r, j, u);
            let c = f * c_prev[r * u + j] as f64 + i * cand;
            hc[r * 2 * u + j] = (o * c.tanh()) as f32;
            hc[r * 2 * u + u + j] = c as f32;
        }
    }
    hc
}

/// `[n, 5u]`: the gradient of the gate pre-activations, then of `c_prev`, given the cell's
/// output `hc` and its gradient `dhc` (both `[n, 2u]`).
pub fn lstm_cell_grad(gates: &[f32], c_prev: &[f32], hc: &[f32], dhc: &[f32], n: usize, u: usize) -> Vec<f32> {
    let mut out = vec![0.0; n * 5 * u];
    for r in 0..n {
        for j in 0..u {
            let [i, f, cand, o] = activations(gates, r, j, u);
            let at = r * 2 * u + j;
            let tc = (hc[at + u] as f64).tanh();
            let dh = dhc[at] as f64;
            let dc = dhc[at + u] as f64 + dh * o * (1.0 - tc * tc);
            let row = &mut out[r * 5 * u..(r + 1) * 5 * u];
            row[j] = (dc * cand * i * (1.0 - i)) as f32;
            row[u + j] = (dc * c_prev[r * u + j] as f64 * f * (1.0 - f)) as f32;
            row[2 * u + j] = (dc * i * (1.0 - cand * cand)) as f32;
            row[3 * u + j] = (dh * tc * o * (1.0 - o)) as f32;
            row[4 * u + j] = (dc * f) as f32;
        }
    }
    out
}

/// The GRU step: h `[n, u]` from the input's projection `xp` and the state's projection `hp`
/// (both `[n, 3u]`: update, reset, candidate) and `h_prev` `[n, u]`.
pub fn gru_cell(xp: &[f32], hp: &[f32], h_prev: &[f32], n: usize, u: usize) -> Vec<f32> {
    let mut h = vec![0.0; n * u];
    for r in 0..n {
        for j in 0..u {
            let (z, _, g) = gru_parts(xp, hp, r, j, u);
            let k = r * u + j;
            h[k] = (g + z * (h_prev[k] as f64 - g)) as f32;
        }
    }
    h
}

/// (z, r, g) of unit `j` of row `row`.
fn gru_parts(xp: &[f32], hp: &[f32], row: usize, j: usize, u: usize) -> (f64, f64, f64) {
    let at = |b: usize| row * 3 * u + b * u + j;
    let z = sigmoid(xp[at(0)] as f64 + hp[at(0)] as f64);
    let r = sigmoid(xp[at(1)] as f64 + hp[at(1)] as f64);
    let g = (xp[at(2)] as f64 + r * hp[at(2)] as f64).tanh();
    (z, r, g)
}

/// `[n, 7u]`: the gradients of `xp` (`3u`), of `hp` (`3u`) and of `h_prev` (`u`), given the
/// new state's gradient `dh` `[n, u]`.
pub fn gru_cell_grad(xp: &[f32], hp: &[f32], h_prev: &[f32], dh: &[f32], n: usize, u: usize) -> Vec<f32> {
    let mut out = vec![0.0; n * 7 * u];
    for row in 0..n {
        for j in 0..u {
            let (z, r, g) = gru_parts(xp, hp, row, j, u);
            let k = row * u + j;
            let (d, hc) = (dh[k] as f64, hp[row * 3 * u + 2 * u + j] as f64);
            let dz = d * (h_prev[k] as f64 - g) * z * (1.0 - z);
            let dc = d * (1.0 - z) * (1.0 - g * g);
            let dr = dc * hc * r * (1.0 - r);
            let o = &mut out[row * 7 * u..(row + 1) * 7 * u];
            for (b, v) in [dz, dr, dc, dz, dr, dc * r, d * z].into_iter().enumerate() {
                o[b * u + j] = v as f32;
            }
        }
    }
    out
}
