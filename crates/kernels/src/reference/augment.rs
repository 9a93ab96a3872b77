//! Twin of `augment.wgsl`.

use crate::ops::augment::{AugmentParams, draw};

/// Crops, flips and normalizes `x` `[n, c, h, w]`; `mean` and `std` per channel.
pub fn augment_images(p: &AugmentParams, x: &[f32], mean: &[f32], std: &[f32]) -> Vec<f32> {
    let (n, c, h, w, pad) = (p.n as usize, p.c as usize, p.h as usize, p.w as usize, p.pad as usize);
    let mut y = vec![0.0f32; n * c * h * w];
    for i in 0..n {
        let span = (2 * pad + 1) as u32;
        let (dy, dx) = ((draw(p.seed, i as u32, 0) % span) as usize, (draw(p.seed, i as u32, 1) % span) as usize);
        let flip_h = p.flips & 1 != 0 && draw(p.seed, i as u32, 2) & 1 == 1;
        let flip_v = p.flips & 2 != 0 && draw(p.seed, i as u32, 3) & 1 == 1;
        for ch in 0..c {
            for row in 0..h {
                for col in 0..w {
                    let r = if flip_v { h - 1 - row } else { row };
                    let q = if flip_h { w - 1 - col } else { col };
                    let (sr, sq) = ((r + dy) as isize - pad as isize, (q + dx) as isize - pad as isize);
                    let inside = sr >= 0 && sq >= 0 && (sr as usize) < h && (sq as usize) < w;
                    let v = if inside { x[((i * c + ch) * h + sr as usize) * w + sq as usize] } else { 0.0 };
                    y[((i * c + ch) * h + row) * w + col] = (v - mean[ch]) * (1.0 / std[ch]);
                }
            }
        }
    }
    y
}
