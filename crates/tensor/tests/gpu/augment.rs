//! Image augmentation against its twin, and on a known image.

use wgtrain_kernels::ops::augment::{AugmentParams, draw};
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
        };
        let got =
            Tensor::from_slice(dev(), &x, &[n, c, h, w]).unwrap().augment_images(&o).unwrap().to_vec::<f32>().unwrap();
        let u = |v: usize| v as u32;
        let flips = 1 | ((n == 5) as u32) << 1;
        let p = AugmentParams { n: u(n), c: u(c), h: u(h), w: u(w), pad: u(pad), seed: 17, flips, total: u(x.len()) };
        assert_eq!(got, reference::augment_images(&p, &x, &mean, &std), "{n}x{c}x{h}x{w} pad {pad}");
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
