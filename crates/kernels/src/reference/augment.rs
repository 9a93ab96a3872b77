//! Twin of `augment.wgsl`.

use crate::ops::augment::{AugmentParams, draw, sym, unit};

/// Augments `x` `[n, c, h, w]` as the kernel does: `mean` and `std` per channel, `means` the
/// source images' channel means `[n, c]` (used only by the colour stage).
pub fn augment_images(p: &AugmentParams, x: &[f32], mean: &[f32], std: &[f32], means: &[f32]) -> Vec<f32> {
    let (n, c, h, w) = (p.n as usize, p.c as usize, p.h as usize, p.w as usize);
    let mut y = vec![0.0f32; n * c * h * w];
    for i in 0..n {
        for ch in 0..c {
            for row in 0..h {
                for col in 0..w {
                    let o = ((i * c + ch) * h + row) * w + col;
                    let mut v = jittered(p, x, means, i, ch, row, col);
                    if p.noise_std != 0.0 {
                        v += p.noise_std * gauss(p.seed, o as u32);
                    }
                    v = (v - mean[ch]) * (1.0 / std[ch]);
                    if p.cutout != 0 && in_cutout(p, i as u32, row, col) {
                        v = 0.0;
                    }
                    y[o] = v;
                }
            }
        }
    }
    y
}

fn texel(p: &AugmentParams, x: &[f32], i: usize, ch: usize, sr: i64, sq: i64) -> f32 {
    let (c, h, w) = (p.c as usize, p.h as i64, p.w as i64);
    if sr < 0 || sq < 0 || sr >= h || sq >= w {
        return 0.0;
    }
    x[((i * c + ch) * h as usize + sr as usize) * w as usize + sq as usize]
}

fn sample(p: &AugmentParams, x: &[f32], i: usize, ch: usize, row: usize, col: usize) -> f32 {
    let (s, iu) = (p.seed, i as u32);
    let span = 2 * p.pad + 1;
    let (dy, dx) = (draw(s, iu, 0) % span, draw(s, iu, 1) % span);
    let (h, w) = (p.h as usize, p.w as usize);
    let q = if p.flips & 1 != 0 && draw(s, iu, 2) & 1 == 1 { w - 1 - col } else { col };
    let r = if p.flips & 2 != 0 && draw(s, iu, 3) & 1 == 1 { h - 1 - row } else { row };
    let pad = p.pad as i64;
    if !p.affine() {
        return texel(p, x, i, ch, (r as u32 + dy) as i64 - pad, (q as u32 + dx) as i64 - pad);
    }
    let angle = sym(s, iu, 4, p.rotation);
    let scale = 1.0 + sym(s, iu, 5, p.zoom);
    let (cy, cx) = (0.5 * (p.h - 1) as f32, 0.5 * (p.w - 1) as f32);
    let y0 = r as f32 - cy - sym(s, iu, 6, p.translate) * p.h as f32;
    let x0 = q as f32 - cx - sym(s, iu, 7, p.translate) * p.w as f32;
    let (cs, sn) = (angle.cos(), angle.sin());
    let fy = (cs * y0 - sn * x0) / scale + cy + (dy as f32 - p.pad as f32);
    let fx = (sn * y0 + cs * x0) / scale + cx + (dx as f32 - p.pad as f32);
    let (ty, tx) = (fy.floor(), fx.floor());
    let (wy, wx) = (fy - ty, fx - tx);
    let (iy, ix) = (ty as i64, tx as i64);
    let t = |a, b| texel(p, x, i, ch, a, b);
    let top = t(iy, ix) * (1.0 - wx) + t(iy, ix + 1) * wx;
    let bottom = t(iy + 1, ix) * (1.0 - wx) + t(iy + 1, ix + 1) * wx;
    top * (1.0 - wy) + bottom * wy
}

fn grey(v: [f32; 3]) -> f32 {
    0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]
}

fn jittered(p: &AugmentParams, x: &[f32], means: &[f32], i: usize, ch: usize, row: usize, col: usize) -> f32 {
    if !p.color() {
        return sample(p, x, i, ch, row, col);
    }
    let (s, iu) = (p.seed, i as u32);
    let b = 1.0 + sym(s, iu, 8, p.brightness);
    let cf = 1.0 + sym(s, iu, 9, p.contrast);
    let sf = 1.0 + sym(s, iu, 10, p.saturation);
    if p.c == 1 {
        let m = b * means[i];
        let v = (b * sample(p, x, i, 0, row, col)).clamp(0.0, 1.0);
        return ((v - m) * cf + m).clamp(0.0, 1.0);
    }
    let m = b * grey([means[i * 3], means[i * 3 + 1], means[i * 3 + 2]]);
    let mut v = [0.0f32; 3];
    for (k, vk) in v.iter_mut().enumerate() {
        let bright = (b * sample(p, x, i, k, row, col)).clamp(0.0, 1.0);
        *vk = ((bright - m) * cf + m).clamp(0.0, 1.0);
    }
    let g = grey(v);
    ((v[ch] - g) * sf + g).clamp(0.0, 1.0)
}

/// The kernel's standard normal draw for output element `o` (Box-Muller).
pub fn gauss(seed: u32, o: u32) -> f32 {
    let u1 = ((draw(seed, o, 16) >> 8) as f32 + 1.0) * (1.0 / 16_777_216.0);
    let u2 = unit(draw(seed, o, 17));
    (-2.0 * u1.ln()).sqrt() * (6.283_185_5 * u2).cos()
}

/// Whether pixel (row, col) of sample `i` falls in its cutout square.
pub fn in_cutout(p: &AugmentParams, i: u32, row: usize, col: usize) -> bool {
    let half = (p.cutout / 2) as i64;
    let top = (draw(p.seed, i, 11) % p.h) as i64 - half;
    let left = (draw(p.seed, i, 12) % p.w) as i64 - half;
    let (dr, dc) = (row as i64 - top, col as i64 - left);
    dr >= 0 && dc >= 0 && dr < p.cutout as i64 && dc < p.cutout as i64
}
