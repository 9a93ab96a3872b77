//! Embedding, gather, one_hot (kernels against their twins), concat and pad (against host
//! copies), and their error messages.

use rand::Rng;
use wgtrain_kernels::ops::index::IndexParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Tensor};

use super::harness::{assert_close, data, dev, rng};

/// `n` indices in `0..hi`.
fn indices(seed: u64, n: usize, hi: u32) -> Vec<u32> {
    let mut r = rng(seed);
    (0..n).map(|_| r.random_range(0..hi)).collect()
}

#[test]
fn embedding_matches_the_twin() {
    // Out-of-range ids are faults (tests/gpu/faults.rs), so this shared device sees none.
    for (rows, vocab, dim) in [(1usize, 1usize, 1usize), (7, 5, 33), (1000, 37, 7), (33, 1000, 3)] {
        let ids = indices(rows as u64, rows, vocab as u32);
        let table = data(7, vocab * dim, -2.0, 2.0);
        let t = Tensor::from_slice(dev(), &table, &[vocab, dim]).unwrap();
        let i = Tensor::from_slice(dev(), &ids, &[rows]).unwrap();
        let got = Tensor::embedding(&i, &t).unwrap();
        assert_eq!(got.shape(), &[rows, dim]);
        let want = reference::embedding(&IndexParams::embedding(rows, vocab, dim), &ids, &table);
        assert_eq!(got.to_vec::<f32>().unwrap(), want, "embedding {rows}x{vocab}x{dim}");
    }
    // i32 ids of any shape.
    let table = data(3, 12, -1.0, 1.0);
    let t = Tensor::from_slice(dev(), &table, &[4, 3]).unwrap();
    let i = Tensor::from_slice(dev(), &[3i32, 1, 0, 2], &[2, 2]).unwrap();
    let got = Tensor::embedding(&i, &t).unwrap();
    assert_eq!(got.shape(), &[2, 2, 3]);
    let mut want = table[9..12].to_vec();
    want.extend(&table[3..6]);
    want.extend(&table[0..3]);
    want.extend(&table[6..9]);
    assert_eq!(got.to_vec::<f32>().unwrap(), want);
}

#[test]
fn embedding_gradient_is_a_deterministic_scatter_add() {
    for (rows, vocab, dim) in [(1usize, 1usize, 1usize), (7, 5, 33), (1000, 37, 7), (333, 1000, 3), (50, 17, 2)] {
        let ids = indices(rows as u64 + 9, rows, vocab as u32 + 1);
        let dy = data(8, rows * dim, -1.0, 1.0);
        let i = Tensor::from_slice(dev(), &ids, &[rows]).unwrap();
        let g = Tensor::from_slice(dev(), &dy, &[rows, dim]).unwrap();
        let got = Tensor::embedding_backward(&i, &g, vocab).unwrap();
        assert_eq!(got.shape(), &[vocab, dim]);
        let got = got.to_vec::<f32>().unwrap();
        let want = reference::embedding_grad(&IndexParams::embedding(rows, vocab, dim), &ids, &dy);
        assert_close(&got, &want, 1e-6, 1e-5, &format!("embedding grad {rows}x{vocab}x{dim}"));
        let again = Tensor::embedding_backward(&i, &g, vocab).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(got, again, "bit-for-bit repeatable");
    }
}

/// (shape, axis, index extent along the axis, index extents off the axis shrink by `shrink`).
fn gather_case(shape: &[usize], ax: usize, aout: usize, shrink: usize, seed: u64) {
    let mut ishape: Vec<usize> = shape.iter().map(|&e| e.saturating_sub(shrink).max(1)).collect();
    ishape[ax] = aout;
    let n: usize = ishape.iter().product();
    let idx = indices(seed, n, shape[ax] as u32);
    let x = data(seed + 1, shape.iter().product(), -3.0, 3.0);
    let xt = Tensor::from_slice(dev(), &x, shape).unwrap();
    let it = Tensor::from_slice(dev(), &idx, &ishape).unwrap();
    // The twin works on the corner of x the index covers.
    let corner_shape: Vec<usize> = (0..shape.len()).map(|d| if d == ax { shape[d] } else { ishape[d] }).collect();
    let mut corner = xt.clone();
    for d in (0..shape.len()).filter(|&d| d != ax) {
        corner = corner.slice(d as isize, 0, ishape[d], 1).unwrap();
    }
    let corner = corner.to_vec::<f32>().unwrap();
    let (outer, inner) = (ishape[..ax].iter().product(), ishape[ax + 1..].iter().product());
    let p = IndexParams::gather(outer, shape[ax], aout, inner);
    let got = xt.gather(ax as isize, &it).unwrap();
    assert_eq!(got.shape(), &ishape[..]);
    assert_eq!(got.to_vec::<f32>().unwrap(), reference::gather(&p, &idx, &corner), "gather {shape:?} axis {ax}");

    let dy = data(seed + 2, n, -1.0, 1.0);
    let dyt = Tensor::from_slice(dev(), &dy, &ishape).unwrap();
    let dx = Tensor::gather_backward(&dyt, ax as isize, &it, shape).unwrap();
    assert_eq!(dx.shape(), shape);
    let want_corner = reference::gather_grad(&p, &idx, &dy);
    let dx_corner = Tensor::from_slice(dev(), &want_corner, &corner_shape).unwrap();
    let pads: Vec<(usize, usize)> = corner_shape.iter().zip(shape).map(|(&c, &s)| (0, s - c)).collect();
    let want = dx_corner.pad(&pads, 0.0).unwrap().to_vec::<f32>().unwrap();
    assert_close(&dx.to_vec::<f32>().unwrap(), &want, 1e-6, 1e-5, &format!("gather grad {shape:?} axis {ax}"));
}

#[test]
fn gather_and_its_gradient_match_the_twin() {
    gather_case(&[1], 0, 1, 0, 1);
    gather_case(&[7], 0, 33, 0, 2);
    gather_case(&[3, 7, 5], 1, 4, 0, 3);
    gather_case(&[3, 7, 5], 0, 9, 0, 4);
    gather_case(&[3, 7, 5], 2, 1, 0, 5);
    gather_case(&[4, 9, 6], 1, 5, 2, 6);
    gather_case(&[10, 1000], 1, 33, 0, 7);
    gather_case(&[2, 3, 4, 5, 6], 3, 8, 1, 8);
    // i32 indices. The gradient takes indices its forward op already checked; a negative one
    // there adds nothing (the forward's check reports it: tests/gpu/faults.rs).
    let x = Tensor::from_slice(dev(), &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let ok = Tensor::from_slice(dev(), &[2i32, 1, 0, 0], &[2, 2]).unwrap();
    assert_eq!(x.gather(1, &ok).unwrap().to_vec::<f32>().unwrap(), vec![3.0, 2.0, 4.0, 4.0]);
    let idx = Tensor::from_slice(dev(), &[2i32, -1, 0, 0], &[2, 2]).unwrap();
    let dy = Tensor::from_slice(dev(), &[1.0f32, 10.0, 100.0, 1000.0], &[2, 2]).unwrap();
    let dx = Tensor::gather_backward(&dy, 1, &idx, &[2, 3]).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(dx, vec![0.0, 0.0, 1.0, 1100.0, 0.0, 0.0]);
}

#[test]
fn one_hot_matches_the_twin() {
    for (rows, classes) in [(1usize, 1usize), (7, 10), (1000, 33), (33, 1000)] {
        let labels = indices(rows as u64, rows, classes as u32);
        let got = Tensor::from_slice(dev(), &labels, &[rows]).unwrap().one_hot(classes).unwrap();
        assert_eq!(got.shape(), &[rows, classes]);
        assert_eq!(got.to_vec::<f32>().unwrap(), reference::one_hot(&IndexParams::one_hot(rows, classes), &labels));
    }
}

/// Host concat of row-major blocks along `ax`.
fn host_concat(parts: &[(Vec<f32>, Vec<usize>)], ax: usize) -> Vec<f32> {
    let outer: usize = parts[0].1[..ax].iter().product();
    let mut out = Vec::new();
    for o in 0..outer {
        for (v, s) in parts {
            let block: usize = s[ax..].iter().product();
            out.extend_from_slice(&v[o * block..(o + 1) * block]);
        }
    }
    out
}

#[test]
fn concat_matches_a_host_concat_on_every_axis_and_strided_inputs() {
    for ax in 0..3 {
        let with_axis = |k: usize| {
            let mut s = vec![3, 5, 2];
            s[ax] = k;
            s
        };
        let shapes: Vec<Vec<usize>> = [1usize, 7, 33].into_iter().map(with_axis).collect();
        let parts: Vec<(Vec<f32>, Vec<usize>)> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| (data(i as u64, s.iter().product(), -1.0, 1.0), s.clone()))
            .collect();
        let ts: Vec<Tensor> = parts.iter().map(|(v, s)| Tensor::from_slice(dev(), v, s).unwrap()).collect();
        let refs: Vec<&Tensor> = ts.iter().collect();
        let got = Tensor::concat(&refs, ax as isize).unwrap();
        assert_eq!(got.to_vec::<f32>().unwrap(), host_concat(&parts, ax), "concat axis {ax}");
    }
    // A transposed (strided) input and a negative axis; integer dtypes.
    let a = Tensor::from_slice(dev(), &[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let got = Tensor::concat(&[&a, &a.transpose(0, 1).unwrap()], -1).unwrap();
    assert_eq!(got.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 1.0, 3.0, 3.0, 4.0, 2.0, 4.0]);
    let u = Tensor::from_slice(dev(), &[1u32, 2, 3], &[3]).unwrap();
    assert_eq!(Tensor::concat(&[&u, &u], 0).unwrap().to_vec::<u32>().unwrap(), vec![1, 2, 3, 1, 2, 3]);
}

#[test]
fn pad_matches_a_host_pad() {
    let (h, w) = (7usize, 33usize);
    let x = data(1, h * w, -1.0, 1.0);
    let t = Tensor::from_slice(dev(), &x, &[h, w]).unwrap();
    let ((t0, b0), (l0, r0)) = ((2usize, 1usize), (0usize, 5usize));
    let got = t.pad(&[(t0, b0), (l0, r0)], -7.5).unwrap();
    let (oh, ow) = (h + t0 + b0, w + l0 + r0);
    assert_eq!(got.shape(), &[oh, ow]);
    let mut want = vec![-7.5f32; oh * ow];
    for i in 0..h {
        want[(i + t0) * ow + l0..(i + t0) * ow + l0 + w].copy_from_slice(&x[i * w..(i + 1) * w]);
    }
    assert_eq!(got.to_vec::<f32>().unwrap(), want);
    // Zero padding of nothing, integer dtypes, a strided input.
    assert_eq!(t.pad(&[(0, 0), (0, 0)], 0.0).unwrap().to_vec::<f32>().unwrap(), x);
    let i = Tensor::from_slice(dev(), &[1i32, 2], &[2]).unwrap();
    assert_eq!(i.pad(&[(1, 2)], 9.0).unwrap().to_vec::<i32>().unwrap(), vec![9, 1, 2, 9, 9]);
    let tt = t.transpose(0, 1).unwrap().pad(&[(1, 0), (0, 1)], 0.0).unwrap();
    assert_eq!(tt.shape(), &[w + 1, h + 1]);
    assert_eq!(tt.to_vec::<f32>().unwrap()[(h + 1) + 1], x[w]);
}

#[test]
fn index_op_errors_name_the_op_and_operands() {
    let a = Tensor::zeros(dev(), &[2, 3], DType::F32).unwrap();
    let b = Tensor::zeros(dev(), &[4, 5], DType::F32).unwrap();
    let e = Tensor::concat(&[&a, &b], 0).unwrap_err().to_string();
    assert!(e.contains("concat") && e.contains("[2, 3]") && e.contains("[4, 5]"), "{e}");
    let e = Tensor::concat(&[&a, &a], 2).unwrap_err().to_string();
    assert!(e.contains("concat") && e.contains("axis 2 is out of range for rank 2"), "{e}");
    let e = Tensor::concat(&[], 0).unwrap_err().to_string();
    assert!(e.contains("concat") && e.contains("no tensors"), "{e}");
    let e = Tensor::concat(&[&a, &Tensor::zeros(dev(), &[2, 3], DType::U32).unwrap()], 0).unwrap_err().to_string();
    assert!(e.contains("expected F32, got U32"), "{e}");

    let e = Tensor::embedding(&a, &b).unwrap_err().to_string();
    assert!(e.contains("embedding") && e.contains("expected U32, got F32"), "{e}");
    let ids = Tensor::zeros(dev(), &[3], DType::U32).unwrap();
    let e = Tensor::embedding(&ids, &Tensor::zeros(dev(), &[4], DType::F32).unwrap()).unwrap_err().to_string();
    assert!(e.contains("embedding") && e.contains("rank-2 table") && e.contains("[4]"), "{e}");
    let e = Tensor::embedding_backward(&ids, &b, 10).unwrap_err().to_string();
    assert!(e.contains("embedding_backward") && e.contains("[3]") && e.contains("[4, 5]"), "{e}");

    let idx = Tensor::zeros(dev(), &[2, 3], DType::U32).unwrap();
    let e = a.gather(2, &idx).unwrap_err().to_string();
    assert!(e.contains("gather") && e.contains("axis 2 is out of range"), "{e}");
    let e = a.gather(1, &a).unwrap_err().to_string();
    assert!(e.contains("gather") && e.contains("expected U32, got F32"), "{e}");
    let big = Tensor::zeros(dev(), &[4, 1], DType::U32).unwrap();
    let e = a.gather(1, &big).unwrap_err().to_string();
    assert!(e.contains("gather") && e.contains("[2, 3]") && e.contains("[4, 1]"), "{e}");
    let e = Tensor::gather_backward(&b, 1, &idx, &[2, 3]).unwrap_err().to_string();
    assert!(e.contains("gather_backward") && e.contains("[4, 5]") && e.contains("[2, 3]"), "{e}");
    let e = a.one_hot(3).unwrap_err().to_string();
    assert!(e.contains("one_hot") && e.contains("expected U32, got F32"), "{e}");
    let e = a.pad(&[(1, 1)], 0.0).unwrap_err().to_string();
    assert!(e.contains("pad") && e.contains("[2, 3]"), "{e}");
}
