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

/// f(x) of a unary op with scalar arguments a (alpha) and b (beta). NaN in gives NaN out
/// (PyTorch) for every op but the comparisons (NaN compares false, unequal to everything) and
/// pow (pow(NaN, 0) = 1).
pub fn unary_scalar(op: UnaryOp, x: f64, a: f64, b: f64) -> f64 {
    use UnaryOp::*;
    let propagates = !matches!(op, PowScalar | GtScalar | GeScalar | LtScalar | LeScalar | EqScalar | NeScalar);
    if propagates && x.is_nan() {
        return x;
    }
    match op {
        Neg => -x,
        Abs => x.abs(),
        Exp => x.exp(),
        Log => x.ln(),
        Sqrt => x.sqrt(),
        Rsqrt => 1.0 / x.sqrt(),
        Square => x * x,
        Relu => max_nan(x, 0.0),
        LeakyRelu => {
            if x > 0.0 {
                x
            } else {
                a * x
            }
        }
        Elu => {
            if x > 0.0 {
                x
            } else {
                a * x.exp_m1()
            }
        }
        Selu => SELU_SCALE * if x > 0.0 { x } else { SELU_ALPHA * x.exp_m1() },
        Gelu => x * phi(x),
        Sigmoid => sigmoid(x),
        Tanh => x.tanh(),
        Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        Silu => x * sigmoid(x),
        HardSigmoid => (x / 6.0 + 0.5).clamp(0.0, 1.0),
        AddScalar => x + a,
        MulScalar => x * a,
        PowScalar => x.powf(a),
        Clamp => min_nan(max_nan(x, a), b),
        Recip => 1.0 / x,
        Sign => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
        RsubScalar => a - x,
        Identity => x,
        GtScalar => b2f(x > a),
        GeScalar => b2f(x >= a),
        LtScalar => b2f(x < a),
        LeScalar => b2f(x <= a),
        EqScalar => b2f(x == a),
        NeScalar => b2f(x != a),
        MaxScalar => max_nan(x, a),
        MinScalar => min_nan(x, a),
        RdivScalar => a / x,
    }
}

/// f'(x) of a unary op (for the fused gradients); NaN at NaN (see `binary.wgsl` for why).
fn derivative(op: UnaryOp, x: f64, a: f64) -> f64 {
    use UnaryOp::*;
    if x.is_nan() {
        return x;
    }
    match op {
        Neg => -1.0,
        Abs => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
        Exp => x.exp(),
        Log => 1.0 / x,
        Sqrt => 0.5 / x.sqrt(),
        // -1/2 x^(-3/2), NaN for x < 0 (powf(-Inf, -1.5) would give 0).
        Rsqrt => -0.5 / (x.sqrt() * x),
        Square => 2.0 * x,
        Relu => b2f(x > 0.0),
        LeakyRelu => {
            if x > 0.0 {
                1.0
            } else {
                a
            }
        }
        Elu => {
            if x > 0.0 {
                1.0
            } else {
                a * x.exp()
            }
        }
        Selu => SELU_SCALE * if x > 0.0 { 1.0 } else { SELU_ALPHA * x.exp() },
        // d/dx x Phi(x) = Phi(x) + x phi(x)
        Gelu => phi(x) + x * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt(),
        // d/dx sigmoid = s (1 - s)
        Sigmoid => sigmoid(x) * (1.0 - sigmoid(x)),
        // d/dx tanh = 1 - tanh^2
        Tanh => 1.0 - x.tanh() * x.tanh(),
        Softplus => sigmoid(x),
        Silu => sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))),
        HardSigmoid if x > -3.0 && x < 3.0 => 1.0 / 6.0,
        _ => 0.0,
    }
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
    use BinaryOp::*;
    let f = |u: f64, v: f64| -> f64 {
        if p.op >= 100 {
            let op = UnaryOp::from_code(p.op - 100).expect("gradient op code");
            return v * derivative(op, u, p.alpha as f64);
        }
        match BinaryOp::ALL.iter().copied().find(|o| *o as u32 == p.op).expect("binary op code") {
            Add => u + v,
            Sub => u - v,
            Mul => u * v,
            Div => u / v,
            Pow => u.powf(v),
            Maximum => max_nan(u, v),
            Minimum => min_nan(u, v),
            Eq => b2f(u == v),
            Ne => b2f(u != v),
            Lt => b2f(u < v),
            Le => b2f(u <= v),
            Gt => b2f(u > v),
            Ge => b2f(u >= v),
            Prelu => {
                if u > 0.0 {
                    u
                } else {
                    v * u
                }
            }
        }
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
}
