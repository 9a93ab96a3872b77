//! TensorBoard event files read back by an independent parser: TFRecord framing with its
//! masked CRC-32C checks, then the protocol-buffer fields of each Event.

use wgtrain::tensorboard::{EventWriter, masked_crc};

use crate::harness::scratch;

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
