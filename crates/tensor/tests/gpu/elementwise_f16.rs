//! Elementwise maps on f16 tensors against their twins: the kernels widen to f32, compute and
//! round each result once to f16; the twins take the same f16 inputs, compute in f64 and
//! round once. Tolerance: one f16 ulp (relative 2^-10; WGSL may round either way) plus the f32
//! maps' own 1e-5. Runs under whatever strategy the suite runs (CI runs all three): the
//! texture forms are f32 only, so f16 maps always take the storage-buffer form.

use half::f16;
use wgtrain_kernels::ops::map::{BinaryOp, MapParams, Operand, TernaryOp, UnaryOp, grad_code};
use wgtrain_kernels::reference;
use wgtrain_tensor::{DType, Tensor};

use super::harness::{assert_close, data, dev};

const RTOL: f32 = 1.0 / 1024.0 + 1e-5;
const ATOL: f32 = 1e-6;

fn halves(v: &[f32]) -> Vec<f16> {
    v.iter().map(|&x| f16::from_f32(x)).collect()
}

fn floats(v: &[f16]) -> Vec<f32> {
    v.iter().map(|x| x.to_f32()).collect()
}

fn read(t: &Tensor) -> Vec<f32> {
    assert_eq!(t.dtype(), DType::F16, "an f16 op returns f16");
    floats(&t.to_vec::<f16>().unwrap())
}

fn contiguous(shape: &[usize]) -> Operand {
    Operand { offset: 0, strides: wgtrain_tensor::shape::contiguous_strides(shape) }
}

fn view_operand(t: &Tensor) -> Operand {
    Operand { offset: t.offset(), strides: t.strides().to_vec() }
}

/// Inputs inside the op's domain, as f16.
fn domain(op: UnaryOp, seed: u64, n: usize) -> Vec<f16> {
    use UnaryOp::*;
    halves(&match op {
        Log | Sqrt | Rsqrt | PowScalar => data(seed, n, 1e-2, 5.0),
        Recip | RdivScalar => {
            data(seed, n, 0.1, 4.0).iter().enumerate().map(|(i, v)| if i % 2 == 0 { *v } else { -v }).collect()
        }
        _ => data(seed, n, -6.0, 6.0),
    })
}

#[test]
fn every_unary_op_on_f16_matches_its_twin() {
    if !dev().has_f16() {
        return;
    }
    for op in UnaryOp::ALL {
        for n in [1usize, 33, 4099] {
            let x = domain(op, n as u64, n);
            let t = Tensor::from_slice(dev(), &x, &[n]).unwrap();
            let got = read(&t.unary(op, 0.3, 1.5).unwrap());
            let p = MapParams::new(&[n], &[contiguous(&[n])], op as u32, 0.3, 1.5);
            assert_close(&got, &floats(&reference::unary::<f16>(&p, &x)), ATOL, RTOL, &format!("{op:?} n={n}"));
        }
    }
}

#[test]
fn every_binary_op_on_f16_matches_its_twin_with_broadcasting() {
    if !dev().has_f16() {
        return;
    }
    let cases: [(&[usize], &[usize]); 4] =
        [(&[33], &[33]), (&[7, 33], &[1]), (&[7, 1, 5], &[1, 3, 5]), (&[4099], &[4099])];
    for op in BinaryOp::ALL {
        for (i, (sa, sb)) in cases.iter().enumerate() {
            let (lo, hi) = if op == BinaryOp::Pow { (0.1, 3.0) } else { (-3.0, 3.0) };
            let mut a = halves(&data(i as u64, sa.iter().product(), lo, hi));
            let b = halves(&data(100 + i as u64, sb.iter().product(), lo, hi));
            a[0] = b[0]; // equality, for the comparisons
            let (ta, tb) = (Tensor::from_slice(dev(), &a, sa).unwrap(), Tensor::from_slice(dev(), &b, sb).unwrap());
            let out = ta.binary(op, &tb).unwrap();
            let (va, vb) = (ta.broadcast_to(out.shape()).unwrap(), tb.broadcast_to(out.shape()).unwrap());
            let p = MapParams::new(out.shape(), &[view_operand(&va), view_operand(&vb)], op as u32, 0.0, 0.0);
            let want = floats(&reference::binary::<f16>(&p, &a, &b));
            assert_close(&read(&out), &want, ATOL, RTOL, &format!("{op:?} {sa:?} with {sb:?}"));
        }
    }
}

#[test]
fn fused_gradients_and_ternary_ops_on_f16_match_their_twins() {
    if !dev().has_f16() {
        return;
    }
    let n = 1000;
    for op in UnaryOp::ALL.into_iter().filter(|o| o.has_fused_grad()) {
        let x = domain(op, 9, n);
        let dy = halves(&data(10, n, -1.0, 1.0));
        let (tx, tdy) = (Tensor::from_slice(dev(), &x, &[n]).unwrap(), Tensor::from_slice(dev(), &dy, &[n]).unwrap());
        let got = read(&tx.unary_grad(op, &tdy, 0.2).unwrap());
        let p = MapParams::new(&[n], &[contiguous(&[n]), contiguous(&[n])], grad_code(op), 0.2, 0.0);
        assert_close(&got, &floats(&reference::binary::<f16>(&p, &x, &dy)), ATOL, RTOL, &format!("d{op:?}"));
    }
    let [a, b, c] = [1, 2, 3].map(|s| halves(&data(s, n, -2.0, 2.0)));
    let [ta, tb, tc] = [&a, &b, &c].map(|v| Tensor::from_slice(dev(), v, &[n]).unwrap());
    for op in TernaryOp::ALL {
        let got = read(&Tensor::ternary(op, &ta, &tb, &tc).unwrap());
        let ops = [contiguous(&[n]), contiguous(&[n]), contiguous(&[n])];
        let p = MapParams::new(&[n], &ops, op as u32, 0.0, 0.0);
        assert_close(&got, &floats(&reference::ternary::<f16>(&p, &a, &b, &c)), ATOL, RTOL, &format!("{op:?}"));
    }
}

#[test]
fn f16_maps_keep_nan_and_infinities_and_overflow_to_infinity() {
    if !dev().has_f16() {
        return;
    }
    let sub = 2f32.powi(-20); // an f16 subnormal
    let x = halves(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 65504.0, -65504.0, sub, 40000.0]);
    let t = Tensor::from_slice(dev(), &x, &[x.len()]).unwrap();
    let relu = read(&t.relu().unwrap());
    assert!(relu[0].is_nan(), "relu keeps NaN: {relu:?}");
    assert_eq!(relu[1..5], [f32::INFINITY, 0.0, 65504.0, 0.0], "{relu:?}");
    assert!(relu[5] == sub || relu[5] == 0.0, "a subnormal is kept or flushed: {relu:?}");
    let neg = read(&t.neg().unwrap());
    assert_eq!(neg[1..5], [f32::NEG_INFINITY, f32::INFINITY, -65504.0, 65504.0], "{neg:?}");
    let twice = read(&t.add(&t).unwrap());
    assert!(twice[0].is_nan(), "{twice:?}");
    assert_eq!(twice[3..5], [f32::INFINITY, f32::NEG_INFINITY], "65504 + 65504 overflows f16: {twice:?}");
    assert_eq!(twice[6], f32::INFINITY, "80000 is past f16's range: {twice:?}");
}

#[test]
fn mixed_f16_and_f32_operands_are_refused_by_name() {
    if !dev().has_f16() {
        return;
    }
    let a = Tensor::from_slice(dev(), &halves(&[1.0, 2.0]), &[2]).unwrap();
    let b = Tensor::from_slice(dev(), &[1.0f32, 2.0], &[2]).unwrap();
    let e = a.add(&b).unwrap_err();
    assert!(e.to_string().contains("binary") && e.to_string().contains("F16"), "{e}");
    let e = Tensor::ternary(TernaryOp::Where, &a, &a, &b).unwrap_err();
    assert!(e.to_string().contains("ternary"), "{e}");
}
