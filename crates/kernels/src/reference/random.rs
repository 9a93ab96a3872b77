//! Twins of `random.wgsl`: Philox4x32-10 with native 64-bit products (the shader builds them
//! from 16-bit halves), and the same sample transforms.

use crate::ops::random::{RandomParams, UNIFORM};

/// The Philox4x32-10 block function (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    const M0: u64 = 0xD251_1F53;
    const M1: u64 = 0xCD9E_8D57;
    let (mut c, mut k) = (counter, key);
    for _ in 0..10 {
        let p0 = M0 * c[0] as u64;
        let p1 = M1 * c[2] as u64;
        c = [((p1 >> 32) as u32) ^ c[1] ^ k[0], p1 as u32, ((p0 >> 32) as u32) ^ c[3] ^ k[1], p0 as u32];
        k = [k[0].wrapping_add(0x9E37_79B9), k[1].wrapping_add(0xBB67_AE85)];
    }
    c
}

fn words(p: &RandomParams, i: usize) -> [u32; 4] {
    philox4x32_10([p.first.wrapping_add(i as u32), 0, 0, 0], [p.seed_lo, p.seed_hi])
}

/// Top 24 bits as a uniform in [0, 1): exact in f32.
fn unit(w: u32) -> f32 {
    (w >> 8) as f32 / 16_777_216.0
}

/// Twin of `random_fill`. Uniform samples are computed in f32 exactly as the shader does;
/// normals in f64 (the shader's log and cos are approximate), then rounded.
pub fn random_fill(p: &RandomParams) -> Vec<f32> {
    (0..p.n as usize)
        .map(|i| {
            let w = words(p, i);
            if p.op == UNIFORM {
                p.a + (p.b - p.a) * unit(w[0])
            } else {
                let u1 = ((w[0] >> 8) + 1) as f64 / 16_777_216.0;
                let u2 = unit(w[1]) as f64;
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                (p.a as f64 + p.b as f64 * z) as f32
            }
        })
        .collect()
}

/// Twin of `dropout_apply`: keep `x[i] * scale` where the uniform sample is >= p.a; a NaN stays
/// NaN where it is dropped too (NaN * 0, as PyTorch's `x * mask`).
pub fn dropout(p: &RandomParams, x: &[f32]) -> Vec<f32> {
    let keep = |i: usize, v: f32| if unit(words(p, i)[0]) >= p.a { v * p.scale } else { 0.0 };
    x.iter().enumerate().map(|(i, &v)| if v.is_nan() { v } else { keep(i, v) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_matches_the_published_known_answers() {
        // Known-answer vectors from the Random123 distribution (kat_vectors, philox4x32_10).
        assert_eq!(philox4x32_10([0; 4], [0; 2]), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]);
        assert_eq!(philox4x32_10([u32::MAX; 4], [u32::MAX; 2]), [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]);
        assert_eq!(
            philox4x32_10([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0]),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }
}
