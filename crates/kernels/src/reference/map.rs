//! Twins of the elementwise kernels. Each output element is computed in f64 from the operand
//! elements the params address, then rounded to `T`.

use super::float::{Float, erf, erfc, max_nan, min_nan};
use super::offset_of;
use crate::ops::map::{BinaryOp, MapParams, TernaryOp, UnaryOp};

const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Standard normal CDF.
fn phi(x: f64) -> f64 {
    if x < 0.0 { 0.5 * erfc(-x / std::f64::consts::SQRT_2) } else { 0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2)) }
}

fn b2f(c: bool) -> f64 {
    if c { 1.0 } else { 0.0 }
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

macro_rules! unary_twins {
    (@df fused($df:expr)) => { Some($df) };
    (@df composed) => { None };
    ($($(#[$doc:meta])* $name:ident = $code:literal, fn $method:ident($($arg:ident),*) {
        activation: $activation:ident $($keras:literal)?, nan_out: $nan_out:literal, f: $f:expr, df: $df_kind:ident $(($df:expr))? $(,)?
    })*) => {
        /// f(x, alpha, beta) of each unary op: the `f` of its row in the op table.
        fn value_of(op: UnaryOp) -> fn(f64, f64, f64) -> f64 {
            match op { $(UnaryOp::$name => $f,)* }
        }

        /// f'(x, alpha) of the ops with a fused gradient: the `df` of their rows.
        fn derivative_of(op: UnaryOp) -> Option<fn(f64, f64) -> f64> {
            match op { $(UnaryOp::$name => unary_twins!(@df $df_kind $(($df))?),)* }
        }
    };
}

macro_rules! binary_twins {
    ($($(#[$doc:meta])* $name:ident = $code:literal, fn $method:ident { f: $f:expr })*) => {
        /// f(a, b) of each binary op: the `f` of its row in the op table.
        fn binary_value_of(op: BinaryOp) -> fn(f64, f64) -> f64 {
            match op { $(BinaryOp::$name => $f,)* }
        }
    };
}

crate::for_each_unary_op!(unary_twins);
crate::for_each_binary_op!(binary_twins);

/// f(x) of a unary op with scalar arguments a (alpha) and b (beta). NaN in gives NaN out
/// (PyTorch) for every op but the comparisons (NaN compares false, unequal to everything) and
/// pow (pow(NaN, 0) = 1): the rows with `nan_out: false`.
pub fn unary_scalar(op: UnaryOp, x: f64, a: f64, b: f64) -> f64 {
    if op.nan_in_nan_out() && x.is_nan() {
        return x;
    }
    value_of(op)(x, a, b)
}

/// f'(x) of a unary op (for the fused gradients); NaN at NaN (see `binary.wgsl` for why), 0
/// for an op without a fused gradient (the shader's `default`).
fn derivative(op: UnaryOp, x: f64, a: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    derivative_of(op).map_or(0.0, |df| df(x, a))
}

fn gather<T: Float>(p: &MapParams, s: usize, data: &[T], i: usize) -> f64 {
    data[offset_of(&p.dims(), &p.operand_strides(s), p.offsets[s] as usize, i)].to_f64()
}

/// Twin of `unary_map`.
pub fn unary<T: Float>(p: &MapParams, x: &[T]) -> Vec<T> {
    let op = UnaryOp::from_code(p.op).expect("unary op code");
    (0..p.n as usize)
        .map(|i| T::from_f64(unary_scalar(op, gather(p, 0, x, i), p.alpha as f64, p.beta as f64)))
        .collect()
}

/// Twin of `binary_map` (codes >= 100 are fused unary gradients `b * f'(a)`).
pub fn binary<T: Float>(p: &MapParams, a: &[T], b: &[T]) -> Vec<T> {
    let f = |u: f64, v: f64| -> f64 {
        if p.op >= 100 {
            let op = UnaryOp::from_code(p.op - 100).expect("gradient op code");
            return v * derivative(op, u, p.alpha as f64);
        }
        binary_value_of(BinaryOp::from_code(p.op).expect("binary op code"))(u, v)
    };
    (0..p.n as usize).map(|i| T::from_f64(f(gather(p, 0, a, i), gather(p, 1, b, i)))).collect()
}

/// Twin of `ternary_map`.
pub fn ternary<T: Float>(p: &MapParams, a: &[T], b: &[T], c: &[T]) -> Vec<T> {
    (0..p.n as usize)
        .map(|i| {
            let (u, v, w) = (gather(p, 0, a, i), gather(p, 1, b, i), gather(p, 2, c, i));
            let r = match p.op {
                x if x == TernaryOp::Where as u32 => {
                    if w != 0.0 {
                        u
                    } else {
                        v
                    }
                }
                x if x == TernaryOp::PreluGradX as u32 => w * if u > 0.0 { 1.0 } else { v },
                _ => w * if u > 0.0 { 0.0 } else { u },
            };
            T::from_f64(r)
        })
        .collect()
}

/// Twin of `copy_strided`: writes `src` (operand 0) into `dst` (operand 1's view).
pub fn strided_copy<E: Copy>(p: &MapParams, src: &[E], dst: &mut [E]) {
    let dims = p.dims();
    for i in 0..p.n as usize {
        let s = offset_of(&dims, &p.operand_strides(0), p.offsets[0] as usize, i);
        let d = offset_of(&dims, &p.operand_strides(1), p.offsets[1] as usize, i);
        dst[d] = src[s];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::map::grad_code;

    fn params(op: u32, n: usize, operands: usize) -> MapParams {
        let o = crate::ops::map::Operand { offset: 0, strides: vec![1] };
        MapParams::new(&[n], &vec![o; operands], op, 0.3, 1.5)
    }

    #[test]
    fn nan_propagates_through_every_op_but_comparisons_and_pow() {
        use UnaryOp::*;
        for op in UnaryOp::ALL {
            let y = unary_scalar(op, f64::NAN, 0.3, 1.5);
            match op {
                GtScalar | GeScalar | LtScalar | LeScalar | EqScalar => assert_eq!(y, 0.0, "{op:?}"),
                NeScalar => assert_eq!(y, 1.0, "{op:?}"),
                PowScalar => assert!(y.is_nan(), "{op:?}"),
                _ => assert!(y.is_nan(), "{op:?}(NaN) = {y}, want NaN (PyTorch)"),
            }
        }
        assert_eq!(unary_scalar(PowScalar, f64::NAN, 0.0, 0.0), 1.0, "pow(NaN, 0) = 1");
        // NaN bounds or scalar operands propagate too.
        assert!(unary_scalar(Clamp, 0.5, f64::NAN, 1.0).is_nan());
        assert!(unary_scalar(MaxScalar, 0.5, f64::NAN, 0.0).is_nan());
        let x = [f32::NAN, -1.0, 2.0];
        let y = unary(&params(Relu as u32, 3, 1), &x);
        assert!(y[0].is_nan() && y[1] == 0.0 && y[2] == 2.0, "{y:?}");
    }

    #[test]
    fn maximum_minimum_and_gradients_propagate_nan() {
        let (a, b) = ([f32::NAN, 1.0, 2.0, 0.5], [0.0f32, f32::NAN, -1.0, 1.0]);
        for (op, rest) in [(BinaryOp::Maximum, [2.0, 1.0]), (BinaryOp::Minimum, [-1.0, 0.5])] {
            let y = binary(&params(op as u32, 4, 2), &a, &b);
            assert!(y[0].is_nan() && y[1].is_nan() && y[2..] == rest, "{op:?}: {y:?}");
        }
        // A NaN input or upstream gradient gives a NaN gradient, for every fused activation.
        for op in UnaryOp::ALL.into_iter().filter(|o| o.has_fused_grad()) {
            let x = [f32::NAN, -2.0, 2.0];
            let dy = [1.0f32, f32::NAN, f32::NAN];
            let g = binary(&params(grad_code(op), 3, 2), &x, &dy);
            assert!(g.iter().all(|v| v.is_nan()), "d{op:?}: {g:?}");
        }
    }

    #[test]
    fn hard_swish_follows_pytorch() {
        // hardswish(x) = x relu6(x + 3) / 6; its gradient is x / 3 + 1/2 on [-3, 3].
        for (x, y, dy) in [(-4.0, 0.0, 0.0), (-3.0, 0.0, -0.5), (-1.0, -1.0 / 3.0, 1.0 / 6.0), (0.0, 0.0, 0.5)]
            .into_iter()
            .chain([(1.0, 2.0 / 3.0, 5.0 / 6.0), (3.0, 3.0, 1.5), (4.0, 4.0, 1.0)])
        {
            let (got_y, got_dy) =
                (unary_scalar(UnaryOp::HardSwish, x, 0.0, 0.0), derivative(UnaryOp::HardSwish, x, 0.0));
            assert!((got_y - y).abs() < 1e-15, "hard_swish({x}) = {got_y}, want {y}");
            assert!((got_dy - dy).abs() < 1e-15, "hard_swish'({x}) = {got_dy}, want {dy}");
        }
        assert!(unary_scalar(UnaryOp::HardSwish, f64::NAN, 0.0, 0.0).is_nan());
    }
}
