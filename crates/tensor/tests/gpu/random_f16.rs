//! Dropout and image augmentation on f16 tensors against their twins: both compute in f32 and
//! round each result once to f16; the twins run on the same values widened to f32 and round
//! once, so results agree to one f16 ulp (dropout's mask is the f32 one, element for element).

use half::f16;
use wgtrain_kernels::ops::random::RandomParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{AugmentOptions, DType, Tensor};

use super::harness::{assert_close, data, dev};

fn rounded(v: &[f32]) -> Vec<f32> {
    v.iter().map(|&x| f16::from_f32(x).to_f32()).collect()
}

fn read(t: &Tensor) -> Vec<f32> {
    assert_eq!(t.dtype(), DType::F16);
    t.to_vec::<f16>().unwrap().iter().map(|x| x.to_f32()).collect()
}

fn halves(v: &[f32]) -> Vec<f16> {
    v.iter().map(|&x| f16::from_f32(x)).collect()
}

#[test]
fn f16_dropout_drops_what_f32_dropout_drops() {
    if !dev().has_f16() {
        return;
    }
    for (n, p) in [(1usize, 0.5f32), (1001, 0.3), (4099, 0.9)] {
        let x = rounded(&data(n as u64, n, -3.0, 3.0));
        let t = Tensor::from_slice(dev(), &halves(&x), &[n]).unwrap();
        let got = read(&t.dropout(p, 99).unwrap());
        let want = rounded(&reference::dropout(&RandomParams::dropout(n, 99, p, 0), &x));
        assert_close(&got, &want, 0.0, 1.0 / 1024.0, &format!("dropout n={n} p={p}"));
        let zeros = |v: &[f32]| v.iter().map(|&e| e == 0.0).collect::<Vec<_>>();
        assert_eq!(zeros(&got), zeros(&want), "the same mask, n={n}");
    }
}

#[test]
fn f16_augmentation_matches_the_twin_with_every_stage_on() {
    if !dev().has_f16() {
        return;
    }
    let (n, c, h, w) = (5, 3, 9, 11);
    let o = AugmentOptions {
        pad: 2,
        flip_horizontal: true,
        flip_vertical: true,
        rotation: 20.0,
        zoom: 0.2,
        translate: 0.1,
        brightness: 0.2,
        contrast: 0.2,
        saturation: 0.3,
        noise_std: 0.05,
        cutout: 3,
        mean: vec![0.5; 3],
        std: vec![0.25; 3],
        seed: 7,
    };
    let x = rounded(&data(3, n * c * h * w, 0.0, 1.0));
    let t = Tensor::from_slice(dev(), &halves(&x), &[n, c, h, w]).unwrap();
    let got = read(&t.augment_images(&o).unwrap());
    let hw = h * w;
    let means: Vec<f32> = x.chunks(hw).map(|plane| plane.iter().sum::<f32>() / hw as f32).collect();
    let want = rounded(&reference::augment_images(&o.params([n, c, h, w]), &x, &o.mean, &o.std, &means));
    // As in the f32 test: the GPU's sin, cos and log differ from the host's in the last bits;
    // then one f16 ulp.
    assert_close(&got, &want, 1e-3, 1e-3 + 1.0 / 1024.0, "augment f16");
}
