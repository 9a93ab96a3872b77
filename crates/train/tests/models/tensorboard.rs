//! TensorBoard event files read back by an independent parser: TFRecord framing with its
//! masked CRC-32C checks, then the protocol-buffer fields of each Event.

use wgtrain::tensorboard::{EventWriter, masked_crc};

use crate::harness::{dev, scratch};

/// One decoded protobuf field: number and value (varint, fixed 64/32 bits, or bytes).
#[derive(Debug, Clone, PartialEq)]
enum Field {
    Varint(u64),
    F64(f64),
    F32(f32),
    Bytes(Vec<u8>),
}

fn varint(b: &[u8], i: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let byte = b[*i];
        *i += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

fn fields(b: &[u8]) -> Vec<(u64, Field)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i);
        let f = match key & 7 {
            0 => Field::Varint(varint(b, &mut i)),
            1 => {
                i += 8;
                Field::F64(f64::from_le_bytes(b[i - 8..i].try_into().unwrap()))
            }
            5 => {
                i += 4;
                Field::F32(f32::from_le_bytes(b[i - 4..i].try_into().unwrap()))
            }
            2 => {
                let n = varint(b, &mut i) as usize;
                i += n;
                Field::Bytes(b[i - n..i].to_vec())
            }
            w => panic!("wire type {w}"),
        };
        out.push((key >> 3, f));
    }
    out
}

fn get(fs: &[(u64, Field)], n: u64) -> Option<Field> {
    fs.iter().find(|(k, _)| *k == n).map(|(_, f)| f.clone())
}

/// The records of a TFRecord file, checking both checksums of each.
fn records(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let len_bytes = &bytes[i..i + 8];
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
        assert_eq!(u32::from_le_bytes(bytes[i + 8..i + 12].try_into().unwrap()), masked_crc(len_bytes), "length crc");
        let data = &bytes[i + 12..i + 12 + len];
        let crc = u32::from_le_bytes(bytes[i + 12 + len..i + 16 + len].try_into().unwrap());
        assert_eq!(crc, masked_crc(data), "data crc");
        out.push(data.to_vec());
        i += 16 + len;
    }
    out
}

#[test]
fn event_files_frame_records_and_encode_scalars_and_histograms() {
    // CRC-32C check value of "123456789" (RFC 3720), masked as TFRecord does.
    assert_eq!(masked_crc(b"123456789"), 0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8));
    let dir = scratch("tensorboard");
    let mut w = EventWriter::new(&dir).unwrap();
    w.scalar("epoch_loss", 3, 0.25).unwrap();
    w.histogram("dense_1/kernel", 3, &[0.0, 1.0, 1.0, 2.0]).unwrap();
    let recs = records(&std::fs::read(w.path()).unwrap());
    assert_eq!(recs.len(), 3);
    let first = fields(&recs[0]);
    assert_eq!(get(&first, 3), Some(Field::Bytes(b"brain.Event:2".to_vec())));
    assert!(matches!(get(&first, 1), Some(Field::F64(t)) if t > 1.6e9));

    let scalar = fields(&recs[1]);
    assert_eq!(get(&scalar, 2), Some(Field::Varint(3)));
    let Some(Field::Bytes(summary)) = get(&scalar, 5) else { panic!("no summary") };
    let Some(Field::Bytes(value)) = get(&fields(&summary), 1) else { panic!("no value") };
    let value = fields(&value);
    assert_eq!(get(&value, 1), Some(Field::Bytes(b"epoch_loss".to_vec())));
    assert_eq!(get(&value, 2), Some(Field::F32(0.25)));

    let Some(Field::Bytes(summary)) = get(&fields(&recs[2]), 5) else { panic!("no summary") };
    let Some(Field::Bytes(value)) = get(&fields(&summary), 1) else { panic!("no value") };
    let Some(Field::Bytes(histo)) = get(&fields(&value), 5) else { panic!("no histogram") };
    let h = fields(&histo);
    assert_eq!(
        (get(&h, 1), get(&h, 2), get(&h, 3)),
        (Some(Field::F64(0.0)), Some(Field::F64(2.0)), Some(Field::F64(4.0)))
    );
    assert_eq!(get(&h, 4), Some(Field::F64(4.0)));
    let Some(Field::Bytes(counts)) = get(&h, 7) else { panic!("no buckets") };
    let counts: Vec<f64> = counts.chunks(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(counts.len(), 30);
    assert_eq!(counts.iter().sum::<f64>(), 4.0);
}

/// (tag, sample count) of every histogram in the event file in `dir`.
fn histograms(dir: &std::path::Path) -> Vec<(String, f64)> {
    let file = std::fs::read_dir(dir).unwrap().next().unwrap().unwrap().path();
    let mut out = Vec::new();
    for rec in records(&std::fs::read(file).unwrap()).iter().skip(1) {
        let Some(Field::Bytes(summary)) = get(&fields(rec), 5) else { continue };
        let Some(Field::Bytes(value)) = get(&fields(&summary), 1) else { continue };
        let value = fields(&value);
        if let (Some(Field::Bytes(tag)), Some(Field::Bytes(histo))) = (get(&value, 1), get(&value, 5))
            && let Some(Field::F64(num)) = get(&fields(&histo), 3)
        {
            out.push((String::from_utf8(tag).unwrap(), num));
        }
    }
    out
}

#[test]
fn fit_writes_weight_and_gradient_norm_histograms() {
    use wgtrain::prelude::*;
    let dir = scratch("tensorboard-fit");
    let x = Tensor::rand_uniform(dev(), &[40, 3], -1.0, 1.0, 1).unwrap();
    let y = Tensor::rand_uniform(dev(), &[40, 1], -1.0, 1.0, 2).unwrap();
    let mut model = Model::new(Sequential::new(dev(), &[3]).seed(3).add(Dense::new(1)).unwrap());
    model.compile(Sgd::new(0.1), MeanSquaredError, vec![]).unwrap();
    let tb = TensorBoard::new(&dir).histogram_freq(2);
    let o =
        FitOptions { epochs: 4, batch_size: 10, verbose: false, callbacks: vec![Box::new(tb)], ..Default::default() };
    model.fit(&x, &y, o).unwrap();
    // Epochs 2 and 4 (every 2nd): the kernel, the bias and the 4 steps' gradient norms.
    let h = histograms(&dir.join("train"));
    let tags: Vec<(&str, f64)> = h.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    let epoch = [("dense_1/kernel", 3.0), ("dense_1/bias", 1.0), ("gradient_norm", 4.0)];
    assert_eq!(tags, [epoch, epoch].concat(), "{h:?}");
    // Recording stops with fit.
    model.fit(&x, &y, FitOptions { epochs: 1, batch_size: 10, verbose: false, ..Default::default() }).unwrap();
    assert!(model.take_grad_norms().unwrap().is_empty());
    // A recording the user started survives a fit whose TensorBoard writes no histograms.
    model.record_grad_norms(true);
    let tb = TensorBoard::new(scratch("tensorboard-user"));
    let o =
        FitOptions { epochs: 1, batch_size: 10, verbose: false, callbacks: vec![Box::new(tb)], ..Default::default() };
    model.fit(&x, &y, o).unwrap();
    assert_eq!(model.take_grad_norms().unwrap().len(), 4);
}

#[test]
fn recorded_gradient_norms_match_the_host_gradient() {
    use wgtrain::prelude::*;
    // A linear model without bias under MSE: grad = 2 / n * x^T (x w - y).
    let (n, d) = (7, 3);
    let xs: Vec<f32> = (0..n * d).map(|i| ((i * 37 % 11) as f32 - 5.0) / 5.0).collect();
    let ys: Vec<f32> = (0..n).map(|i| i as f32 / 3.0 - 1.0).collect();
    let x = Tensor::from_slice(dev(), &xs, &[n, d]).unwrap();
    let y = Tensor::from_slice(dev(), &ys, &[n, 1]).unwrap();
    let mut model = Model::new(Sequential::new(dev(), &[d]).seed(5).add(Dense::new(1).use_bias(false)).unwrap());
    model.compile(Sgd::new(0.0), MeanSquaredError, vec![]).unwrap();
    let w = model.params()[0].var.to_vec().unwrap();
    model.record_grad_norms(true);
    model.train_step(&x, &y).unwrap();
    model.train_step(&x, &y).unwrap();
    let mut g = vec![0.0f32; d];
    for i in 0..n {
        let r = (0..d).map(|k| xs[i * d + k] * w[k]).sum::<f32>() - ys[i];
        (0..d).for_each(|k| g[k] += 2.0 / n as f32 * r * xs[i * d + k]);
    }
    let want = g.iter().map(|v| v * v).sum::<f32>().sqrt();
    let got = model.take_grad_norms().unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    // The learning rate is 0, so both steps see the same gradient.
    assert!(got.iter().all(|v| (v - want).abs() <= 1e-5 * want.max(1.0)), "{got:?} vs {want}");
    assert!(model.take_grad_norms().unwrap().is_empty());
}
