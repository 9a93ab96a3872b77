//! Image augmentation against its twin, and on a known image.

use wgtrain_kernels::ops::augment::draw;
use wgtrain_kernels::reference;
use wgtrain_tensor::{AugmentOptions, Tensor};

use super::harness::{data, dev};

#[test]
fn crops_flips_and_normalization_match_the_twin() {
    for (n, c, h, w, pad) in [(5, 3, 8, 7, 2), (1, 1, 1, 1, 0), (33, 2, 5, 5, 4)] {
        let x = data(n as u64, n * c * h * w, 0.0, 1.0);
        let mean: Vec<f32> = (0..c).map(|i| 0.1 * i as f32).collect();
        let std: Vec<f32> = (0..c).map(|i| 0.5 + 0.25 * i as f32).collect();
        let o = AugmentOptions {
            pad,
            flip_horizontal: true,
            flip_vertical: n == 5,
            mean: mean.clone(),
            std: std.clone(),
            seed: 17,
            ..Default::default()
        };
        let got =
            Tensor::from_slice(dev(), &x, &[n, c, h, w]).unwrap().augment_images(&o).unwrap().to_vec::<f32>().unwrap();
        let p = o.params([n, c, h, w]);
        assert_eq!(got, reference::augment_images(&p, &x, &mean, &std, &[]), "{n}x{c}x{h}x{w} pad {pad}");
    }
}

#[test]
fn a_known_image_is_flipped_and_shifted_as_drawn() {
    // One 1x3x3 image 0..9; find the draws the kernel makes for sample 0 and check by hand.
    let x: Vec<f32> = (0..9).map(|v| v as f32).collect();
    let seed = 5;
    let o = AugmentOptions { pad: 1, flip_horizontal: true, seed, ..Default::default() };
    let y = Tensor::from_slice(dev(), &x, &[1, 1, 3, 3]).unwrap().augment_images(&o).unwrap().to_vec::<f32>().unwrap();
    let (dy, dx) = ((draw(seed, 0, 0) % 3) as isize, (draw(seed, 0, 1) % 3) as isize);
    let flip = draw(seed, 0, 2) & 1 == 1;
    for r in 0..3isize {
        for q in 0..3isize {
            let qq = if flip { 2 - q } else { q };
            let (sr, sq) = (r + dy - 1, qq + dx - 1);
            let want = if (0..3).contains(&sr) && (0..3).contains(&sq) { (sr * 3 + sq) as f32 } else { 0.0 };
            assert_eq!(y[(r * 3 + q) as usize], want, "({r}, {q}) with dy {dy} dx {dx} flip {flip}");
        }
    }
    // No crop and no flip is the identity; bad statistics are an error.
    let id = Tensor::from_slice(dev(), &x, &[1, 1, 3, 3]).unwrap().augment_images(&AugmentOptions::default()).unwrap();
    assert_eq!(id.to_vec::<f32>().unwrap(), x);
    let bad = AugmentOptions { mean: vec![0.0, 0.0], std: vec![1.0, 1.0], ..Default::default() };
    assert!(Tensor::from_slice(dev(), &x, &[1, 1, 3, 3]).unwrap().augment_images(&bad).is_err());
}

/// Channel means `[n, c]` of images `x` on the host.
fn channel_means(x: &[f32], n: usize, c: usize) -> Vec<f32> {
    let hw = x.len() / (n * c);
    x.chunks(hw).map(|plane| plane.iter().sum::<f32>() / hw as f32).collect()
}

#[test]
fn every_stage_matches_the_twin_alone_and_together() {
    let stages = [
        AugmentOptions { rotation: 30.0, ..Default::default() },
        AugmentOptions { zoom: 0.3, translate: 0.2, flip_horizontal: true, pad: 2, ..Default::default() },
        AugmentOptions { brightness: 0.4, contrast: 0.4, saturation: 0.6, ..Default::default() },
        AugmentOptions { noise_std: 0.1, ..Default::default() },
        AugmentOptions { cutout: 4, ..Default::default() },
        AugmentOptions {
            pad: 3,
            flip_horizontal: true,
            flip_vertical: true,
            rotation: 15.0,
            zoom: 0.2,
            translate: 0.1,
            brightness: 0.3,
            contrast: 0.3,
            saturation: 0.3,
            noise_std: 0.05,
            cutout: 3,
            mean: vec![0.5, 0.4, 0.3],
            std: vec![0.2, 0.25, 0.3],
            seed: 0,
        },
    ];
    for (s, stage) in stages.iter().enumerate() {
        for (n, c, h, w) in [(7, 3, 9, 11), (1, 3, 1, 1), (33, 1, 5, 7)] {
            let mut o = AugmentOptions { seed: 100 + s as u32, ..stage.clone() };
            if o.mean.len() != c {
                (o.mean, o.std) = (vec![], vec![]);
            }
            let x = data((s * 10 + n) as u64, n * c * h * w, 0.0, 1.0);
            let t = Tensor::from_slice(dev(), &x, &[n, c, h, w]).unwrap();
            let got = t.augment_images(&o).unwrap().to_vec::<f32>().unwrap();
            let (mean, std) =
                if o.mean.is_empty() { (vec![0.0; c], vec![1.0; c]) } else { (o.mean.clone(), o.std.clone()) };
            let want = reference::augment_images(&o.params([n, c, h, w]), &x, &mean, &std, &channel_means(&x, n, c));
            // The GPU's sin, cos, log and the reduction order differ from the host's in the last bits.
            for (k, (g, r)) in got.iter().zip(&want).enumerate() {
                assert!((g - r).abs() <= 1e-3 * (1.0 + r.abs()), "stage {s} {n}x{c}x{h}x{w} at {k}: {g} vs {r}");
            }
        }
    }
}

#[test]
fn rotation_and_zoom_keep_a_constant_image_constant_inside() {
    // Bilinear taps of a constant image give the constant wherever all four taps are inside.
    let (h, w) = (16, 16);
    let o = AugmentOptions { rotation: 20.0, zoom: 0.1, seed: 3, ..Default::default() };
    let y = Tensor::full(dev(), &[4, 1, h, w], 0.75).unwrap().augment_images(&o).unwrap().to_vec::<f32>().unwrap();
    for img in y.chunks(h * w) {
        // A 20-degree turn with at most 10 % zoom moves the centre 4x4 block less than 3 pixels.
        for r in 6..10 {
            for q in 6..10 {
                assert!((img[r * w + q] - 0.75).abs() < 1e-5, "({r}, {q}) = {}", img[r * w + q]);
            }
        }
        // The corners rotate out of the image somewhere in a batch of 4, or stay; never above.
        assert!(img.iter().all(|&v| (-1e-6..=0.75 + 1e-5).contains(&v)));
    }
}

#[test]
fn noise_has_the_asked_spread_and_cutout_zeroes_a_square() {
    let n = 64;
    let o = AugmentOptions { noise_std: 0.5, seed: 9, ..Default::default() };
    let y = Tensor::zeros(dev(), &[n, 1, 32, 32], wgtrain_tensor::DType::F32)
        .unwrap()
        .augment_images(&o)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let mean = y.iter().sum::<f32>() / y.len() as f32;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / y.len() as f32;
    assert!(mean.abs() < 0.01 && (var.sqrt() - 0.5).abs() < 0.01, "mean {mean}, std {}", var.sqrt());

    let o = AugmentOptions { cutout: 5, seed: 4, ..Default::default() };
    let y = Tensor::ones(dev(), &[n, 1, 12, 12], wgtrain_tensor::DType::F32)
        .unwrap()
        .augment_images(&o)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    for (i, img) in y.chunks(144).enumerate() {
        let zeros: Vec<(usize, usize)> = (0..144).filter(|k| img[*k] == 0.0).map(|k| (k / 12, k % 12)).collect();
        assert!(!zeros.is_empty() && zeros.len() <= 25, "image {i}: {} zeros", zeros.len());
        // The zeros form one axis-aligned rectangle (the clipped square) and every other pixel is 1.
        let (r0, r1) = (zeros.iter().map(|z| z.0).min().unwrap(), zeros.iter().map(|z| z.0).max().unwrap());
        let (c0, c1) = (zeros.iter().map(|z| z.1).min().unwrap(), zeros.iter().map(|z| z.1).max().unwrap());
        assert_eq!(zeros.len(), (r1 - r0 + 1) * (c1 - c0 + 1), "image {i}");
        assert!(img.iter().all(|&v| v == 0.0 || v == 1.0));
    }
}

#[test]
fn bad_strengths_are_errors_naming_the_field() {
    let x = Tensor::zeros(dev(), &[1, 2, 4, 4], wgtrain_tensor::DType::F32).unwrap();
    for (o, field) in [
        (AugmentOptions { zoom: 1.0, ..Default::default() }, "zoom"),
        (AugmentOptions { rotation: f32::NAN, ..Default::default() }, "rotation"),
        (AugmentOptions { noise_std: -1.0, ..Default::default() }, "noise_std"),
        (AugmentOptions { brightness: 0.2, ..Default::default() }, "channels"),
    ] {
        let e = x.augment_images(&o).unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
}

#[test]
fn a_nan_pixel_survives_the_colour_clamps() {
    // Brightness, contrast and saturation clamp to [0, 1]; a NaN must come out NaN (the twin's
    // f64 clamp propagates it), here through the contrast mean to the whole first image.
    for c in [1usize, 3] {
        let (n, h, w) = (3, 4, 5);
        let mut x = data(70 + c as u64, n * c * h * w, 0.0, 1.0);
        x[6] = f32::NAN;
        let o = AugmentOptions { brightness: 0.4, contrast: 0.4, saturation: 0.6, seed: 3, ..Default::default() };
        let got =
            Tensor::from_slice(dev(), &x, &[n, c, h, w]).unwrap().augment_images(&o).unwrap().to_vec::<f32>().unwrap();
        let means = channel_means(&x, n, c);
        let want = reference::augment_images(&o.params([n, c, h, w]), &x, &vec![0.0; c], &vec![1.0; c], &means);
        for (k, (g, r)) in got.iter().zip(&want).enumerate() {
            let ok = if r.is_nan() { g.is_nan() } else { (g - r).abs() <= 1e-3 * (1.0 + r.abs()) };
            assert!(ok, "{c} channels at {k}: {g} vs {r}");
        }
        assert!(got[6].is_nan(), "the NaN pixel came out {}", got[6]);
    }
}
