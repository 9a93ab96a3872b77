//! Mixed-precision matmul against its twin: f16 operands and bias, f32 products and sums,
//! output rounded once to f16 (or kept f32). The twin takes the same f16 values, sums in f64
//! and rounds as the kernel does; the tolerance is f32 summation (`gemm_tol`) plus one f16
//! ulp of the result (WGSL lets a conversion round either way: relative 2^-10). Runs under
//! every strategy: the software adapters' GEMMs decline f16, and the tiled form takes it; on a
//! GPU whose device verified cooperative matrices, the GPU strategy's f16 calls run on them.

use half::f16;
use wgtrain_kernels::ops::map::UnaryOp;
use wgtrain_kernels::ops::matmul::MatmulParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{CoopStatus, DType, Device, MatmulOptions, Tensor, TensorError};

use super::harness::{assert_close, data, gemm_devs, gemm_tol};

/// One f16 ulp, relative: the most a once-rounded f16 result may differ from the exact value.
const F16_RTOL: f32 = 1.0 / 1024.0;

fn halves(v: &[f32]) -> Vec<f16> {
    v.iter().map(|&x| f16::from_f32(x)).collect()
}

fn widened(v: &[f16]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

/// The twin's result for f16 `a` `[batch, m, k]` (or its transpose when `a_t`) and `b`
/// `[k, n]` broadcast over the batch, in f64.
#[allow(clippy::too_many_arguments)]
fn twin(a: &[f16], b: &[f16], bias: Option<&[f16]>, [batch, m, k, n]: [usize; 4], a_t: bool, act: UnaryOp) -> Vec<f64> {
    let (a_rs, a_cs) = if a_t { (1, m) } else { (k, 1) };
    let p = MatmulParams {
        m: m as u32,
        n: n as u32,
        k: k as u32,
        batch: batch as u32,
        a_off: 0,
        a_rs: a_rs as u32,
        a_cs: a_cs as u32,
        a_bs: (m * k) as u32,
        b_off: 0,
        b_rs: n as u32,
        b_cs: 1,
        b_bs: 0,
        bias_off: 0,
        has_bias: bias.is_some() as u32,
        act: act as u32,
        alpha: 0.1,
    };
    let bias = bias.map(widened);
    reference::matmul::<f64>(&p, &widened(a), &widened(b), bias.as_deref())
}

fn read_f16(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f16>().unwrap().iter().map(|x| x.to_f32()).collect()
}

#[test]
fn f16_matmul_matches_the_twin_under_every_strategy() {
    for (dev, strategy) in gemm_devs() {
        if !dev.has_f16() {
            eprintln!("skipped: the adapter has no SHADER_F16");
            return;
        }
        for (i, &(batch, m, k, n, a_t, bias, act)) in [
            (1, 1, 1, 1, false, false, UnaryOp::Identity),
            (1, 7, 33, 65, false, true, UnaryOp::Relu),
            (3, 33, 7, 17, true, false, UnaryOp::Identity),
            (2, 130, 200, 67, false, true, UnaryOp::LeakyRelu),
            (1, 64, 1000, 64, true, true, UnaryOp::Gelu),
        ]
        .iter()
        .enumerate()
        {
            let ctx = format!("{strategy}: batch {batch}, {m}x{k} @ {k}x{n}, a^T {a_t}, bias {bias}, {act:?}");
            let seed = 40 + i as u64;
            let a = halves(&data(seed, batch * m * k, -1.0, 1.0));
            let b = halves(&data(seed + 100, k * n, -1.0, 1.0));
            let c = halves(&data(seed + 200, n, -1.0, 1.0));
            let a_shape = if a_t { [batch, k, m] } else { [batch, m, k] };
            let ta = Tensor::from_slice(dev, &a, &a_shape).unwrap();
            let ta = if a_t { ta.transpose(-1, -2).unwrap() } else { ta };
            let tb = Tensor::from_slice(dev, &b, &[k, n]).unwrap();
            let tc = Tensor::from_slice(dev, &c, &[n]).unwrap();
            let want = twin(&a, &b, bias.then_some(&c[..]), [batch, m, k, n], a_t, act);
            for out in [DType::F16, DType::F32] {
                let opts = MatmulOptions {
                    bias: bias.then_some(&tc),
                    activation: Some(act),
                    alpha: 0.1,
                    out_dtype: Some(out),
                };
                let y = ta.matmul_with(&tb, opts).unwrap();
                assert_eq!((y.shape(), y.dtype()), (&[batch, m, n][..], out), "{ctx}");
                let (got, rtol) = match out {
                    DType::F16 => (read_f16(&y), F16_RTOL),
                    _ => (y.to_vec::<f32>().unwrap(), 0.0),
                };
                let want: Vec<f32> = want.iter().map(|&v| v as f32).collect();
                assert_close(&got, &want, gemm_tol(k), rtol, &format!("{ctx}, out {out:?}"));
            }
        }
    }
}

#[test]
fn f16_matmul_overflows_to_infinity_propagates_nan_and_keeps_small_products() {
    for (dev, strategy) in gemm_devs() {
        if !dev.has_f16() {
            return;
        }
        // Rows of a, times b = [2, 1]:
        // 0: 60000 * 2 = 120000, past f16's 65504: +inf in f16, exact in f32.
        // 1: 65504 * 1 (the largest f16) stays finite.
        // 2: a NaN operand makes a NaN.
        // 3: 2^-20 * 2 = 2^-19, subnormal in and out of f16 (WGSL may flush subnormals to
        //    zero; lavapipe keeps them, and the result is exact or 0, never anything else).
        // 4: -3 * 2 + (-1) * 1 = -7 (signs, a plain sum).
        let a = halves(&[60000.0, 0.0, 0.0, 65504.0, f32::NAN, 1.0, 2f32.powi(-20), 0.0, -3.0, -1.0]);
        let b = halves(&[2.0, 1.0]);
        let ta = Tensor::from_slice(dev, &a, &[5, 2]).unwrap();
        let tb = Tensor::from_slice(dev, &b, &[2, 1]).unwrap();
        let opts = |out| MatmulOptions { out_dtype: Some(out), ..Default::default() };
        let y16 = read_f16(&ta.matmul_with(&tb, opts(DType::F16)).unwrap());
        let y32 = ta.matmul_with(&tb, opts(DType::F32)).unwrap().to_vec::<f32>().unwrap();
        let ctx = format!("{strategy}: f16 {y16:?}, f32 {y32:?}");
        assert_eq!(y16[0], f32::INFINITY, "{ctx}");
        assert_eq!(y32[0], 120000.0, "{ctx}");
        assert_eq!((y16[1], y32[1]), (65504.0, 65504.0), "{ctx}");
        assert!(y16[2].is_nan() && y32[2].is_nan(), "{ctx}");
        for y in [y16[3], y32[3]] {
            assert!(y == 2f32.powi(-19) || y == 0.0, "{ctx}: a subnormal is kept or flushed");
        }
        assert_eq!((y16[4], y32[4]), (-7.0, -7.0), "{ctx}");
    }
}

#[test]
fn mixed_or_unsupported_dtypes_are_refused_by_name() {
    let dev = Device::new().unwrap();
    let a32 = Tensor::from_slice(&dev, &[1.0f32; 4], &[2, 2]).unwrap();
    let e = a32.matmul_with(&a32, MatmulOptions { out_dtype: Some(DType::F16), ..Default::default() }).unwrap_err();
    assert!(matches!(e, TensorError::Argument { op: "matmul", .. }), "{e}");
    assert!(e.to_string().contains("not F16"), "{e}");
    if dev.has_f16() {
        let a16 = Tensor::from_slice(&dev, &halves(&[1.0; 4]), &[2, 2]).unwrap();
        let e = a32.matmul(&a16).unwrap_err();
        assert!(e.to_string().contains("matmul"), "{e}");
        let b32 = Tensor::from_slice(&dev, &[1.0f32; 2], &[2]).unwrap();
        let e = a16.matmul_with(&a16, MatmulOptions { bias: Some(&b32), ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("matmul"), "{e}");
        let e = a16.matmul_with(&a16, MatmulOptions { out_dtype: Some(DType::U32), ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("not U32"), "{e}");
    }
}

#[test]
fn cooperative_matrices_serve_f16_matmuls_only_where_the_device_verified_them() {
    for (d, strategy) in gemm_devs() {
        let status = d.coop().clone();
        eprintln!("cooperative matrices ({strategy:?}): {status}");
        // A failed check means the kernel is wrong on this adapter: the report must say so.
        assert!(!matches!(status, CoopStatus::Rejected(_)), "{status}");
        if d.is_cpu() && std::env::var("WGTRAIN_COOP").is_err() {
            // lavapipe has no cooperative matrices: the planner never picks the kernel, and the
            // f16 tests above ran on the tiled GEMM.
            assert!(matches!(&status, CoopStatus::Unavailable(why) if why.contains("COOPERATIVE")), "{status}");
        }
    }
}
