//! Unary, binary and ternary maps against their twins: awkward sizes, strided and broadcast
//! operands, extreme values. Tolerance: rtol 1e-5 with atol 1e-6 for results near zero.

use wgtrain_kernels::ops::map::{BinaryOp, MapParams, Operand, TernaryOp, UnaryOp, grad_code};
use wgtrain_kernels::reference;
use wgtrain_tensor::Tensor;

use super::harness::{assert_close, data, dev};

/// Past 4096 elements contiguous maps read textures on CPU adapters; 4099 leaves a partial texel.
const SIZES: [usize; 5] = [1, 7, 33, 1000, 4099];

fn contiguous(shape: &[usize]) -> Operand {
    Operand { offset: 0, strides: wgtrain_tensor::shape::contiguous_strides(shape) }
}

fn view_operand(t: &Tensor) -> Operand {
    Operand { offset: t.offset(), strides: t.strides().to_vec() }
}

/// Inputs inside the op's domain.
fn domain(op: UnaryOp, seed: u64, n: usize) -> Vec<f32> {
    use UnaryOp::*;
    match op {
        Log | Sqrt | Rsqrt | PowScalar => data(seed, n, 1e-3, 5.0),
        Recip | RdivScalar => {
            data(seed, n, 0.1, 4.0).iter().enumerate().map(|(i, v)| if i % 2 == 0 { *v } else { -v }).collect()
        }
        _ => data(seed, n, -6.0, 6.0),
    }
}

#[test]
fn every_unary_op_matches_its_twin_on_awkward_sizes() {
    for op in UnaryOp::ALL {
        for n in SIZES {
            let x = domain(op, n as u64, n);
            let t = Tensor::from_slice(dev(), &x, &[n]).unwrap();
            let got = t.unary(op, 0.3, 1.5).unwrap().to_vec::<f32>().unwrap();
            let p = MapParams::new(&[n], &[contiguous(&[n])], op as u32, 0.3, 1.5);
            assert_close(&got, &reference::unary(&p, &x), 1e-6, 1e-5, &format!("{op:?} n={n}"));
        }
    }
}

#[test]
fn unary_ops_read_strided_views() {
    let (shape, x) = ([6usize, 5, 4], data(3, 120, -3.0, 3.0));
    let t = Tensor::from_slice(dev(), &x, &shape).unwrap();
    let v = t.permute(&[2, 0, 1]).unwrap().slice(1, 1, 6, 2).unwrap(); // [4, 3, 5], gaps
    assert!(!v.is_contiguous());
    for op in [UnaryOp::Gelu, UnaryOp::Exp, UnaryOp::Neg] {
        let got = v.unary(op, 0.0, 0.0).unwrap().to_vec::<f32>().unwrap();
        let p = MapParams::new(v.shape(), &[view_operand(&v)], op as u32, 0.0, 0.0);
        assert_close(&got, &reference::unary(&p, &x), 1e-6, 1e-5, &format!("strided {op:?}"));
    }
}

#[test]
fn activations_stay_finite_and_accurate_at_extreme_inputs() {
    let x = vec![-1e4f32, -100.0, -88.0, -50.0, -20.0, -9.0, -1e-7, 0.0, 1e-7, 9.0, 20.0, 50.0, 88.0, 100.0, 1e4];
    let t = Tensor::from_slice(dev(), &x, &[x.len()]).unwrap();
    for op in
        [UnaryOp::Sigmoid, UnaryOp::Tanh, UnaryOp::Softplus, UnaryOp::Gelu, UnaryOp::Silu, UnaryOp::Elu, UnaryOp::Selu]
    {
        let got = t.unary(op, 1.0, 0.0).unwrap().to_vec::<f32>().unwrap();
        let p = MapParams::new(&[x.len()], &[contiguous(&[x.len()])], op as u32, 1.0, 0.0);
        assert_close(&got, &reference::unary(&p, &x), 1e-6, 1e-5, &format!("{op:?} extremes"));
    }
    let tiny = vec![1e-30f32, 1e-20, 1e-10, 1.0, 1e10, 1e30];
    let got = Tensor::from_slice(dev(), &tiny, &[6]).unwrap().log().unwrap().to_vec::<f32>().unwrap();
    let want: Vec<f32> = tiny.iter().map(|v| (*v as f64).ln() as f32).collect();
    assert_close(&got, &want, 1e-6, 1e-5, "log of tiny and huge");
}

#[test]
fn every_binary_op_matches_its_twin_with_broadcasting() {
    // (a shape, b shape): equal, scalar, row, column, both sides stretched, rank mismatch.
    let cases: [(&[usize], &[usize]); 8] = [
        (&[33], &[33]),
        (&[7, 33], &[1]),
        (&[7, 33], &[33]),
        (&[7, 33], &[7, 1]),
        (&[7, 1, 5], &[1, 3, 5]),
        (&[2, 3, 4, 5], &[4, 1]),
        (&[1000], &[1000]),
        (&[3, 1367], &[3, 1367]),
    ];
    for op in BinaryOp::ALL {
        for (i, (sa, sb)) in cases.iter().enumerate() {
            let na: usize = sa.iter().product();
            let nb: usize = sb.iter().product();
            let (lo, hi) = if op == BinaryOp::Pow { (0.1, 3.0) } else { (-3.0, 3.0) };
            let mut a = data(i as u64, na, lo, hi);
            let b = data(100 + i as u64, nb, lo, hi);
            if matches!(op, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Le | BinaryOp::Ge) {
                a[0] = b[0]; // exercise equality
            }
            let (ta, tb) = (Tensor::from_slice(dev(), &a, sa).unwrap(), Tensor::from_slice(dev(), &b, sb).unwrap());
            let out = ta.binary(op, &tb).unwrap();
            let (va, vb) = (ta.broadcast_to(out.shape()).unwrap(), tb.broadcast_to(out.shape()).unwrap());
            let p = MapParams::new(out.shape(), &[view_operand(&va), view_operand(&vb)], op as u32, 0.0, 0.0);
            let want = reference::binary(&p, &a, &b);
            assert_close(&out.to_vec::<f32>().unwrap(), &want, 1e-6, 1e-5, &format!("{op:?} {sa:?} with {sb:?}"));
        }
    }
}

#[test]
fn fused_activation_gradients_match_the_derivative_twins() {
    for op in UnaryOp::ALL.into_iter().filter(|o| o.has_fused_grad()) {
        for n in [7usize, 1000, 4099] {
            let x = domain(op, n as u64 + 9, n);
            let dy = data(n as u64 + 10, n, -1.0, 1.0);
            let (tx, tdy) =
                (Tensor::from_slice(dev(), &x, &[n]).unwrap(), Tensor::from_slice(dev(), &dy, &[n]).unwrap());
            let got = tx.unary_grad(op, &tdy, 0.2).unwrap().to_vec::<f32>().unwrap();
            let p = MapParams::new(&[n], &[contiguous(&[n]), contiguous(&[n])], grad_code(op), 0.2, 0.0);
            assert_close(&got, &reference::binary(&p, &x, &dy), 1e-6, 1e-5, &format!("d{op:?}"));
        }
    }
}

#[test]
fn large_contiguous_maps_read_textures_only_from_texel_aligned_offsets() {
    let Ok(private) = wgtrain_tensor::Device::new() else { return };
    let n = 9001;
    let (x, y) = (data(21, n, -3.0, 3.0), data(22, n, -3.0, 3.0));
    let tx = Tensor::from_slice(&private, &x, &[n]).unwrap();
    let ty = Tensor::from_slice(&private, &y, &[n]).unwrap();
    let textured = private.strategy() == wgtrain_tensor::Strategy::CpuTextures;
    for (start, aligned) in [(4usize, true), (3, false), (0, true)] {
        let len = n - start - 1;
        let (va, vb) = (tx.slice(0, start, start + len, 1).unwrap(), ty.slice(0, start, start + len, 1).unwrap());
        let before = private.textures_created();
        let got = va.binary(BinaryOp::Mul, &vb).unwrap().to_vec::<f32>().unwrap();
        let sig = va.sigmoid().unwrap().to_vec::<f32>().unwrap();
        let want: Vec<f32> = (0..len).map(|i| x[start + i] * y[start + i]).collect();
        assert_close(&got, &want, 1e-6, 1e-5, &format!("mul from {start}"));
        let p = MapParams::new(&[len], &[view_operand(&va)], UnaryOp::Sigmoid as u32, 0.0, 0.0);
        assert_close(&sig, &reference::unary(&p, &x), 1e-6, 1e-5, &format!("sigmoid from {start}"));
        if textured && start != 0 {
            // The first aligned run creates the pooled textures; later ones may reuse them.
            assert_eq!(private.textures_created() > before, aligned, "textures from offset {start}");
        }
    }
}

#[test]
fn ternary_ops_match_their_twins_with_broadcasting() {
    let (a, b, c) = (data(1, 7 * 33, -2.0, 2.0), data(2, 33, -2.0, 2.0), data(3, 7, -1.0, 1.0));
    let cond: Vec<f32> = c.iter().map(|v| if *v > 0.0 { 1.0 } else { 0.0 }).collect();
    let ta = Tensor::from_slice(dev(), &a, &[7, 33]).unwrap();
    let tb = Tensor::from_slice(dev(), &b, &[33]).unwrap();
    for (op, third) in [(TernaryOp::Where, &cond), (TernaryOp::PreluGradX, &c), (TernaryOp::PreluGradSlope, &c)] {
        let tc = Tensor::from_slice(dev(), third, &[7, 1]).unwrap();
        let out = Tensor::ternary(op, &ta, &tb, &tc).unwrap();
        let shape = out.shape().to_vec();
        let ops: Vec<Operand> =
            [&ta, &tb, &tc].iter().map(|t| view_operand(&t.broadcast_to(&shape).unwrap())).collect();
        let p = MapParams::new(&shape, &ops, op as u32, 0.0, 0.0);
        assert_close(
            &out.to_vec::<f32>().unwrap(),
            &reference::ternary(&p, &a, &b, third),
            1e-6,
            1e-5,
            &format!("{op:?}"),
        );
    }
}

/// `x` with NaN, +Inf and -Inf written over a few elements (NaN first: a one-element input is NaN).
fn with_specials(mut x: Vec<f32>) -> Vec<f32> {
    let n = x.len();
    for (at, v) in [(0, f32::NAN), (n / 3, f32::INFINITY), (2 * n / 3, f32::NEG_INFINITY), (n - 1, -f32::NAN)] {
        if at > 0 || v.is_nan() {
            x[at] = v;
        }
    }
    x
}

/// Infinities replaced by 2: WGSL's pow is exp2(y log2 x), and lavapipe's is NaN at x = +Inf.
fn finite_or_nan(x: &mut [f32]) {
    x.iter_mut().filter(|v| v.is_infinite()).for_each(|v| *v = 2.0);
}

#[test]
fn every_unary_op_propagates_nan_and_infinities_like_its_twin() {
    // Sizes below and past 4096 elements: the storage and the texture kernels.
    for op in UnaryOp::ALL {
        for n in SIZES {
            let mut x = with_specials(domain(op, n as u64, n));
            if op == UnaryOp::PowScalar {
                finite_or_nan(&mut x);
            }
            let t = Tensor::from_slice(dev(), &x, &[n]).unwrap();
            let got = t.unary(op, 0.3, 1.5).unwrap().to_vec::<f32>().unwrap();
            let p = MapParams::new(&[n], &[contiguous(&[n])], op as u32, 0.3, 1.5);
            assert_close(&got, &reference::unary(&p, &x), 1e-6, 1e-5, &format!("{op:?} n={n} with NaN/Inf"));
            let comparison = matches!(op as u32, 25..=30);
            assert_eq!(got[0].is_nan(), !comparison, "{op:?}(NaN) = {}", got[0]);
        }
    }
    let strided = Tensor::from_slice(dev(), &with_specials(data(5, 40, -2.0, 2.0)), &[8, 5]).unwrap();
    let v = strided.transpose(0, 1).unwrap();
    let relu = v.unary(UnaryOp::Relu, 0.0, 0.0).unwrap().to_vec::<f32>().unwrap();
    assert!(relu[0].is_nan(), "relu(NaN) of a strided view: {}", relu[0]);
}

#[test]
fn every_binary_op_propagates_nan_like_its_twin() {
    let cases: [(&[usize], &[usize]); 3] = [(&[33], &[33]), (&[7, 33], &[33]), (&[3, 1367], &[3, 1367])];
    for op in BinaryOp::ALL {
        for (i, (sa, sb)) in cases.iter().enumerate() {
            let (na, nb): (usize, usize) = (sa.iter().product(), sb.iter().product());
            let (lo, hi) = if op == BinaryOp::Pow { (0.1, 3.0) } else { (-3.0, 3.0) };
            let mut a = with_specials(data(40 + i as u64, na, lo, hi));
            if op == BinaryOp::Pow {
                finite_or_nan(&mut a);
            }
            let mut b = data(50 + i as u64, nb, lo, hi);
            b[1] = f32::NAN; // b's own NaN, against a's number there
            let (ta, tb) = (Tensor::from_slice(dev(), &a, sa).unwrap(), Tensor::from_slice(dev(), &b, sb).unwrap());
            let out = ta.binary(op, &tb).unwrap();
            let (va, vb) = (ta.broadcast_to(out.shape()).unwrap(), tb.broadcast_to(out.shape()).unwrap());
            let p = MapParams::new(out.shape(), &[view_operand(&va), view_operand(&vb)], op as u32, 0.0, 0.0);
            let want = reference::binary(&p, &a, &b);
            let got = out.to_vec::<f32>().unwrap();
            assert_close(&got, &want, 1e-6, 1e-5, &format!("{op:?} {sa:?} with NaN"));
            if matches!(op, BinaryOp::Maximum | BinaryOp::Minimum) {
                assert!(got[0].is_nan() && got[1].is_nan(), "{op:?} dropped a NaN: {:?}", &got[..2]);
            }
        }
    }
}

#[test]
fn fused_gradients_are_nan_where_the_input_or_the_upstream_gradient_is() {
    for op in UnaryOp::ALL.into_iter().filter(|o| o.has_fused_grad()) {
        for n in [7usize, 4099] {
            let x = with_specials(domain(op, n as u64 + 9, n));
            let mut dy = data(n as u64 + 10, n, -1.0, 1.0);
            dy[1] = f32::NAN;
            let (tx, tdy) =
                (Tensor::from_slice(dev(), &x, &[n]).unwrap(), Tensor::from_slice(dev(), &dy, &[n]).unwrap());
            let got = tx.unary_grad(op, &tdy, 0.2).unwrap().to_vec::<f32>().unwrap();
            assert!(got[0].is_nan() && got[1].is_nan(), "d{op:?}: {:?}", &got[..2]);
            let p = MapParams::new(&[n], &[contiguous(&[n]), contiguous(&[n])], grad_code(op), 0.2, 0.0);
            assert_close(&got, &reference::binary(&p, &x, &dy), 1e-6, 1e-5, &format!("d{op:?} with NaN/Inf"));
        }
    }
}
