//! Device-side checks and the fault record: out-of-range labels and indices (logits and one-hot
//! paths, embedding, gather), `ignore_index`, non-finite flags, and how faults reach the host
//! (at the next read-back of anything, once, the first fault of a batch winning), against the
//! twins in `reference::check_indices` / `check_finite`.
//!
//! Faults are device-wide, so these tests run one at a time on a device of their own: a fault
//! left on the shared device would fail whichever test reads back next.

use std::sync::{Mutex, MutexGuard, OnceLock};

use rand::Rng;
use wgtrain_kernels::ops::fault::{CheckParams, FiniteParams, RECORD_WORDS};
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Device, FaultOp, IndexKind, Tensor, TensorError, XentOptions};

use super::harness::{data, rng};

/// The fault tests' own device, one test at a time.
fn fault_dev() -> MutexGuard<'static, Device> {
    static DEV: OnceLock<Mutex<Device>> = OnceLock::new();
    let m = DEV.get_or_init(|| Mutex::new(Device::new().expect("a GPU adapter")));
    let guard = m.lock().unwrap_or_else(|e| e.into_inner());
    // A test that failed half-way may have left a fault: start clean.
    let _ = Tensor::zeros(&guard, &[1], DType::F32).unwrap().to_vec::<f32>();
    guard
}

/// The fault the next read-back (of a fresh, unrelated tensor) reports.
fn next_fault(dev: &Device) -> Option<TensorError> {
    Tensor::zeros(dev, &[3], DType::F32).unwrap().to_vec::<f32>().err()
}

#[track_caller]
fn expect_index_fault(dev: &Device, op: &str, what: IndexKind, value: i64, position: u64, limit: u64) {
    match next_fault(dev) {
        Some(TensorError::IndexOutOfRange { op: o, what: w, value: v, position: p, limit: l }) => {
            assert_eq!((o, w, v, p, l), (op, what, value, position, limit));
        }
        other => panic!("expected an index fault of {op}, got {other:?}"),
    }
}

fn logits(dev: &Device, n: usize, c: usize) -> Tensor {
    Tensor::from_slice(dev, &data(3, n * c, -2.0, 2.0), &[n, c]).unwrap()
}

#[test]
fn cross_entropy_refuses_labels_out_of_range_at_the_next_read_back() {
    let dev = fault_dev();
    let x = logits(&dev, 4, 5);
    let o = XentOptions::default();
    // label == classes, a negative i32, u32::MAX; the first bad position is reported.
    let u = Tensor::from_slice(&dev, &[1u32, 5, 3, 9], &[4]).unwrap();
    x.cross_entropy_mean(&u, &o).unwrap();
    expect_index_fault(&dev, "cross_entropy", IndexKind::Label, 5, 1, 5);
    let i = Tensor::from_slice(&dev, &[0i32, 1, 2, -1], &[4]).unwrap();
    x.cross_entropy_with_logits(&i, &o).unwrap();
    expect_index_fault(&dev, "cross_entropy", IndexKind::Label, -1, 3, 5);
    let m = Tensor::from_slice(&dev, &[u32::MAX, 0, 0, 0], &[4]).unwrap();
    x.cross_entropy_parts(&m, &o).unwrap();
    expect_index_fault(&dev, "cross_entropy", IndexKind::Label, u32::MAX as i64, 0, 5);
    // Every label bad: an error, not the NaN mean the old kernel gave.
    let bad = Tensor::from_slice(&dev, &[7u32; 4], &[4]).unwrap();
    let e = x.cross_entropy_mean(&bad, &o).unwrap().item::<f32>().unwrap_err().to_string();
    assert!(e.contains("cross_entropy: label 7 at position 0 is out of range 0..5"), "{e}");
    assert!(e.contains("ignore_index"), "the message says how to skip a padding label: {e}");
    // The gradient checks its labels too.
    let up = Tensor::ones(&dev, &[4], DType::F32).unwrap();
    x.cross_entropy_grad(&i, &up, &o).unwrap();
    expect_index_fault(&dev, "cross_entropy", IndexKind::Label, -1, 3, 5);
}

#[test]
fn only_ignore_index_is_skipped_and_everything_else_still_faults() {
    let dev = fault_dev();
    let x = logits(&dev, 4, 5);
    let o = XentOptions { ignore_index: Some(-100), ..XentOptions::default() };
    let ok = Tensor::from_slice(&dev, &[1i32, -100, 4, -100], &[4]).unwrap();
    x.cross_entropy_mean(&ok, &o).unwrap().item::<f32>().unwrap();
    let bad = Tensor::from_slice(&dev, &[1i32, -100, -1, -100], &[4]).unwrap();
    x.cross_entropy_mean(&bad, &o).unwrap();
    expect_index_fault(&dev, "cross_entropy", IndexKind::Label, -1, 2, 5);
    // Without ignore_index, -100 is a fault like any other value.
    x.cross_entropy_mean(&ok, &XentOptions::default()).unwrap();
    expect_index_fault(&dev, "cross_entropy", IndexKind::Label, -100, 1, 5);
}

#[test]
fn a_fault_is_reported_by_the_next_read_back_of_anything_once_and_without_a_wait() {
    let dev = fault_dev();
    let x = logits(&dev, 2, 3);
    let y = Tensor::from_slice(&dev, &[0u32, 3], &[2]).unwrap();
    let unrelated = Tensor::from_slice(&dev, &[1.0f32, 2.0], &[2]).unwrap();
    let submits = dev.submits();
    let loss = x.cross_entropy_mean(&y, &XentOptions::default()).unwrap();
    let more = loss.add_scalar(1.0).unwrap();
    assert_eq!(dev.submits(), submits, "recording the op and its check submits nothing, so nothing waits");
    let e = unrelated.to_vec::<f32>().unwrap_err();
    assert!(matches!(e, TensorError::IndexOutOfRange { position: 1, value: 3, .. }), "{e}");
    // Reported once: the record was cleared with that read-back.
    assert_eq!(unrelated.to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
    more.item::<f32>().unwrap();
}

#[test]
fn the_first_fault_of_a_batch_wins() {
    let dev = fault_dev();
    let table = Tensor::ones(&dev, &[4, 2], DType::F32).unwrap();
    let ids = Tensor::from_slice(&dev, &[0u32, 2, 4, 8], &[2, 2]).unwrap();
    Tensor::embedding(&ids, &table).unwrap();
    let labels = Tensor::from_slice(&dev, &[9u32], &[1]).unwrap();
    labels.one_hot(3).unwrap();
    expect_index_fault(&dev, "embedding", IndexKind::Index, 4, 2, 4);
    assert!(next_fault(&dev).is_none(), "the one_hot fault went with the record");
}

#[test]
fn embedding_one_hot_and_gather_refuse_indices_out_of_range() {
    let dev = fault_dev();
    let table = Tensor::ones(&dev, &[4, 2], DType::F32).unwrap();
    let neg = Tensor::from_slice(&dev, &[0i32, -3], &[2]).unwrap();
    Tensor::embedding(&neg, &table).unwrap();
    expect_index_fault(&dev, "embedding", IndexKind::Index, -3, 1, 4);

    let labels = Tensor::from_slice(&dev, &[2u32, 0, 3, 1], &[2, 2]).unwrap();
    labels.one_hot(3).unwrap();
    expect_index_fault(&dev, "one_hot", IndexKind::Label, 3, 2, 3);
    // one_hot_with: the ignored label gives a zero row, other values still fault, under the
    // name of the op that asked.
    let pad = Tensor::from_slice(&dev, &[2i32, -1, 0], &[3]).unwrap();
    let hot = pad.one_hot_with(3, Some(-1), FaultOp::SparseCrossEntropy).unwrap();
    assert_eq!(hot.to_vec::<f32>().unwrap(), vec![0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    pad.one_hot_with(3, Some(7), FaultOp::SparseCrossEntropy).unwrap();
    expect_index_fault(&dev, "sparse_categorical_crossentropy", IndexKind::Label, -1, 1, 3);

    let x = Tensor::ones(&dev, &[2, 3], DType::F32).unwrap();
    let idx = Tensor::from_slice(&dev, &[2u32, 1, 0, 3], &[2, 2]).unwrap();
    x.gather(1, &idx).unwrap();
    let e = next_fault(&dev).expect("a gather fault").to_string();
    assert_eq!(e, "gather: index 3 at position 3 is out of range 0..3");
}

#[test]
fn check_indices_matches_the_twin() {
    let dev = fault_dev();
    let mut r = rng(41);
    for n in [1usize, 7, 33, 257, 1000, 100_003] {
        for (limit, ignore, bad_count) in
            [(10usize, None, 0usize), (10, None, 3), (1000, Some(5u32), 2), (3, Some(7), 1)]
        {
            let mut ids: Vec<u32> = (0..n).map(|_| r.random_range(0..limit as u32)).collect();
            for _ in 0..bad_count {
                let at = r.random_range(0..n);
                ids[at] = if r.random_bool(0.5) { limit as u32 + r.random_range(0..3) } else { u32::MAX };
            }
            if let Some(v) = ignore {
                let at = r.random_range(0..n);
                ids[at] = v;
            }
            let t = Tensor::from_slice(&dev, &ids, &[n]).unwrap();
            // Embedding (a [limit, 1] table) runs the check; one_hot where an ignored label is
            // wanted and its [n, limit] output stays small.
            let op = match ignore {
                None => {
                    Tensor::embedding(&t, &Tensor::ones(&dev, &[limit, 1], DType::F32).unwrap()).unwrap();
                    FaultOp::Embedding
                }
                Some(_) if n * limit > 4_000_000 => continue,
                Some(v) => {
                    t.one_hot_with(limit, Some(v.into()), FaultOp::OneHot).unwrap();
                    FaultOp::OneHot
                }
            };
            let mut want = [0u32; RECORD_WORDS];
            reference::check_indices(&CheckParams::new(op, n, limit, ignore, false), &ids, &mut want);
            let ctx = format!("n {n} limit {limit} ignore {ignore:?} bad {bad_count}");
            match next_fault(&dev) {
                None => assert_eq!(want, [0; RECORD_WORDS], "{ctx}: the twin found a fault"),
                Some(TensorError::IndexOutOfRange { value, position, limit: l, .. }) => {
                    assert_eq!((value as u32, position as u32, l as u32), (want[2], want[1], want[3]), "{ctx}");
                }
                Some(e) => panic!("{ctx}: {e}"),
            }
        }
    }
}

#[test]
fn check_finite_keeps_the_smallest_tag_and_matches_the_twin() {
    let dev = fault_dev();
    let mut want = [0u32; RECORD_WORDS];
    let cases: [(u32, Vec<f32>); 4] = [
        (9, vec![1.0, f32::INFINITY]),
        (4, data(5, 1000, -1.0, 1.0)),
        (6, vec![f32::NAN; 257]),
        (2, vec![0.0, -0.0, f32::MAX, f32::MIN_POSITIVE]),
    ];
    for (tag, v) in &cases {
        Tensor::from_slice(&dev, v, &[v.len()]).unwrap().check_finite(*tag).unwrap();
        reference::check_finite(&FiniteParams { n: v.len() as u32, tag: *tag, _pad: [0; 2] }, v, &mut want);
    }
    assert_eq!(!want[5], 6, "the twin keeps the smallest flagged tag");
    assert!(matches!(next_fault(&dev), Some(TensorError::NonFinite { tag: 6 })));
    assert!(next_fault(&dev).is_none(), "cleared by the read-back");
    let e = Tensor::zeros(&dev, &[2], DType::U32).unwrap().check_finite(0).unwrap_err().to_string();
    assert!(e.contains("check_finite") && e.contains("expected F32, got U32"), "{e}");
}
