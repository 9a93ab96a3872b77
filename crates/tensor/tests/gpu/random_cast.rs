//! Counter-based random tensors, dropout, fills and casts against their twins.

use half::f16;
use wgtrain_kernels::ops::random::RandomParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Tensor};

use super::harness::{assert_close, data, dev};

#[test]
fn uniform_samples_are_bit_exact_against_the_twin() {
    for (n, lo, hi, seed) in
        [(1usize, 0.0f32, 1.0f32, 0u64), (1000, -2.0, 2.0, 7), (4097, 0.0, 1.0, u64::MAX), (33, 3.0, 3.5, 1 << 40)]
    {
        let got = Tensor::rand_uniform(dev(), &[n], lo, hi, seed).unwrap().to_vec::<f32>().unwrap();
        let want = reference::random_fill(&RandomParams::uniform(n, seed, lo, hi));
        assert_eq!(got, want, "uniform n={n} [{lo}, {hi}) seed={seed}");
        assert!(got.iter().all(|v| *v >= lo && *v < hi));
    }
}

#[test]
fn normal_samples_are_within_four_ulp_of_the_twin_and_look_normal() {
    let n = 20_000;
    let got = Tensor::rand_normal(dev(), &[n], 0.5, 2.0, 42).unwrap().to_vec::<f32>().unwrap();
    let want = reference::random_fill(&RandomParams::normal(n, 42, 0.5, 2.0));
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        // 4 ULP of the sample's magnitude, with the magnitude floored at the std (samples near
        // the mean are differences of O(std) terms).
        let ulp = f32::EPSILON * w.abs().max(2.0);
        assert!((g - w).abs() <= 4.0 * ulp, "[{i}] got {g}, want {w}");
    }
    let mean = got.iter().map(|v| *v as f64).sum::<f64>() / n as f64;
    let var = got.iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
    assert!((mean - 0.5).abs() < 0.05 && (var.sqrt() - 2.0).abs() < 0.05, "mean {mean}, std {}", var.sqrt());
}

#[test]
fn different_seeds_give_different_streams() {
    let a = Tensor::rand_uniform(dev(), &[64], 0.0, 1.0, 1).unwrap().to_vec::<f32>().unwrap();
    let b = Tensor::rand_uniform(dev(), &[64], 0.0, 1.0, 2).unwrap().to_vec::<f32>().unwrap();
    assert!(a.iter().zip(&b).filter(|(x, y)| x == y).count() < 4);
}

#[test]
fn dropout_matches_the_twin_and_its_gradient_is_the_same_mask() {
    for (n, p) in [(7usize, 0.5f32), (1000, 0.1), (4099, 0.9)] {
        let x = data(n as u64, n, -2.0, 2.0);
        let t = Tensor::from_slice(dev(), &x, &[n]).unwrap();
        let got = t.dropout(p, 99).unwrap().to_vec::<f32>().unwrap();
        let want = reference::dropout(&RandomParams::dropout(n, 99, p, 0), &x);
        assert_eq!(got, want, "dropout n={n} p={p}");
        let kept = got.iter().filter(|v| **v != 0.0).count() as f32 / n as f32;
        assert!((kept - (1.0 - p)).abs() < 0.1 + 3.0 / (n as f32).sqrt(), "kept {kept} for p={p}");
    }
    let ones = Tensor::from_slice(dev(), &[1.0f32; 256], &[256]).unwrap();
    let x = Tensor::from_slice(dev(), &data(5, 256, 0.5, 1.0), &[256]).unwrap();
    let mask_y = x.dropout(0.3, 5).unwrap().to_vec::<f32>().unwrap();
    let mask_g = ones.dropout(0.3, 5).unwrap().to_vec::<f32>().unwrap();
    for (y, g) in mask_y.iter().zip(&mask_g) {
        assert_eq!(*y == 0.0, *g == 0.0);
    }
}

#[test]
fn a_shard_drawn_from_its_stream_position_gets_the_whole_batchs_mask() {
    // A data-parallel rank holds rows 3..7 of an [8, 5] batch: from position 3 x 5 its mask is
    // those rows' mask in the whole batch, and the twin agrees.
    let x = data(9, 40, -2.0, 2.0);
    let whole = Tensor::from_slice(dev(), &x, &[8, 5]).unwrap().dropout(0.4, 11).unwrap().to_vec::<f32>().unwrap();
    let shard = Tensor::from_slice(dev(), &x[15..35], &[4, 5]).unwrap();
    let got = shard.dropout_at(0.4, 11, 15).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(got, whole[15..35]);
    assert_eq!(got, reference::dropout(&RandomParams::dropout(20, 11, 0.4, 15), &x[15..35]));
    let e = shard.dropout_at(0.4, 11, u32::MAX as u64 - 3).unwrap_err().to_string();
    assert!(e.contains("dropout") && e.contains("2^32"), "{e}");
}

#[test]
fn dropout_keeps_nan_where_it_drops() {
    // PyTorch's dropout is x * mask / (1 - p): NaN * 0 is NaN, so a dropped NaN stays NaN.
    let n = 4099;
    let mut x = data(8, n, -2.0, 2.0);
    for k in (0..n).step_by(3) {
        x[k] = f32::NAN;
    }
    let got = Tensor::from_slice(dev(), &x, &[n]).unwrap().dropout(0.5, 7).unwrap().to_vec::<f32>().unwrap();
    let want = reference::dropout(&RandomParams::dropout(n, 7, 0.5, 0), &x);
    let bits = |v: &[f32]| v.iter().map(|x| if x.is_nan() { u32::MAX } else { x.to_bits() }).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want));
    assert!((0..n).step_by(3).all(|k| got[k].is_nan()), "a dropped NaN became 0");
}

#[test]
fn fills_and_arange() {
    assert_eq!(Tensor::zeros(dev(), &[3, 3], DType::F32).unwrap().to_vec::<f32>().unwrap(), vec![0.0; 9]);
    assert_eq!(Tensor::ones(dev(), &[5], DType::I32).unwrap().to_vec::<i32>().unwrap(), vec![1; 5]);
    assert_eq!(Tensor::full(dev(), &[2], -3.5).unwrap().to_vec::<f32>().unwrap(), vec![-3.5; 2]);
    let a = Tensor::arange(dev(), 1.0, 0.5, 1000).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(a, (0..1000).map(|i| 1.0 + i as f32 * 0.5).collect::<Vec<_>>());
}

#[test]
fn casts_between_every_dtype_pair() {
    let x = vec![-3.7f32, -0.5, 0.0, 0.49, 2.5, 65504.0, 1e-3, 7.0];
    let t = Tensor::from_slice(dev(), &x, &[8]).unwrap();
    let i = t.cast(DType::I32).unwrap();
    assert_eq!(i.to_vec::<i32>().unwrap(), x.iter().map(|v| *v as i32).collect::<Vec<_>>());
    let u = t.cast(DType::U32).unwrap();
    assert_eq!(u.to_vec::<u32>().unwrap(), x.iter().map(|v| v.max(0.0) as u32).collect::<Vec<_>>());
    assert_eq!(
        i.cast(DType::F32).unwrap().to_vec::<f32>().unwrap(),
        x.iter().map(|v| (*v as i32) as f32).collect::<Vec<_>>()
    );
    assert_eq!(
        u.cast(DType::F32).unwrap().to_vec::<f32>().unwrap(),
        x.iter().map(|v| (v.max(0.0) as u32) as f32).collect::<Vec<_>>()
    );
    let neg = Tensor::from_slice(dev(), &[-1i32, 5], &[2]).unwrap();
    assert_eq!(neg.cast(DType::U32).unwrap().to_vec::<u32>().unwrap(), vec![u32::MAX, 5]);
}

/// The test adapter (lavapipe) has SHADER_F16: these tests must not skip there.
#[test]
fn f16_storage_and_casts_round_trip() {
    assert!(
        dev().has_f16() || std::env::var("WGTRAIN_ALLOW_NO_F16").is_ok(),
        "the test adapter must support SHADER_F16"
    );
    if !dev().has_f16() {
        return;
    }
    let x = data(3, 1000, -100.0, 100.0);
    let t = Tensor::from_slice(dev(), &x, &[10, 100]).unwrap();
    let h = t.cast(DType::F16).unwrap();
    assert_eq!(h.dtype(), DType::F16);
    let hv = h.to_vec::<f16>().unwrap();
    let want: Vec<f16> = x.iter().map(|v| f16::from_f32(*v)).collect();
    assert_eq!(hv, want, "f32 -> f16 rounds to nearest even like `half`");
    let back = h.cast(DType::F32).unwrap().to_vec::<f32>().unwrap();
    assert_close(&back, &x, 0.0, 1e-2, "f16 round trip");
    // Strided f16 copy (transpose) and f16 upload.
    let ht = h.transpose(0, 1).unwrap().contiguous().unwrap().to_vec::<f16>().unwrap();
    assert_eq!(ht[1], want[100]);
    let up = Tensor::from_slice(dev(), &want, &[1000]).unwrap().cast(DType::F32).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(up, want.iter().map(|v| v.to_f32()).collect::<Vec<_>>());
}
