//! `Normalization::adapt` (issue 24, item 10): per-channel statistics of the data, computed
//! on the device, checked against the host's.

use wgtrain::prelude::*;

use crate::harness::{assert_close, data, dev, tensor};

#[test]
fn adapt_takes_each_channels_mean_and_deviation_and_the_layer_normalizes_with_them() {
    // [n, 3, 4, 5] with channel c scaled by c + 1 and shifted by 10 c.
    let (n, c, per) = (7, 3, 20);
    let mut values = data(3, n * c * per);
    for (i, v) in values.iter_mut().enumerate() {
        let ch = (i / per) % c;
        *v = *v * (ch + 1) as f32 + 10.0 * ch as f32;
    }
    let x = tensor(&values, &[n, c, 4, 5]);
    let layer = Normalization::adapted(&x).unwrap();
    for ch in 0..c {
        let vals: Vec<f64> =
            values.iter().enumerate().filter(|(i, _)| (i / per) % c == ch).map(|(_, v)| *v as f64).collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let std = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64).sqrt();
        assert!((layer.mean()[ch] as f64 - mean).abs() < 1e-4, "channel {ch} mean");
        assert!((layer.std()[ch] as f64 - std).abs() < 1e-4, "channel {ch} std");
    }
    // As a model's first layer: every channel comes out with mean 0 and deviation 1.
    let mut m = Model::new(Sequential::new(dev(), &[c, 4, 5]).add(layer).unwrap());
    let out = m.predict(&x, 4).unwrap();
    let means = out.mean(&[0, 2, 3], false).unwrap().to_vec::<f32>().unwrap();
    let sq = out.square().unwrap().mean(&[0, 2, 3], false).unwrap().to_vec::<f32>().unwrap();
    assert_close(&means, &[0.0; 3], 1e-4);
    assert_close(&sq, &[1.0; 3], 1e-4);

    // Features of tabular rows [n, f]; a constant feature normalizes to 0, not to NaN.
    let rows = tensor(&[1.0, 5.0, 3.0, 5.0, 5.0, 5.0], &[3, 2]);
    let layer = Normalization::adapted(&rows).unwrap();
    assert_close(layer.mean(), &[3.0, 5.0], 1e-6);
    assert_close(layer.std(), &[(8.0f32 / 3.0).sqrt(), 1e-7], 1e-6);
    let mut m = Model::new(Sequential::new(dev(), &[2]).add(layer).unwrap());
    let out = m.predict(&rows, 4).unwrap().to_vec::<f32>().unwrap();
    assert!(out.iter().all(|v| v.is_finite()) && out[1] == 0.0, "{out:?}");
    // Data it can't describe is refused.
    assert!(Normalization::adapted(&tensor(&[1.0, f32::NAN], &[2, 1])).is_err());
    assert!(Normalization::adapted(&Tensor::zeros(dev(), &[0, 3], DType::F32).unwrap()).is_err());
}
