//! Every unary and binary op, and `where`, against f64 finite differences of their twins.

use wgtrain_autograd::Var;
use wgtrain_tensor::{BinaryOp, UnaryOp};

use crate::harness::{check, data, input, tensor};
use crate::twin;

/// Scalar arguments and an input range inside each op's domain (away from poles).
fn domain(op: UnaryOp) -> (f32, f32, f32, f32) {
    use UnaryOp::*;
    match op {
        Log | Sqrt | Rsqrt | Recip => (0.0, 0.0, 0.3, 3.0),
        PowScalar => (2.5, 0.0, 0.3, 2.0),
        RdivScalar => (1.5, 0.0, 0.4, 2.0),
        Exp => (0.0, 0.0, -2.0, 2.0),
        LeakyRelu => (0.1, 0.0, -1.0, 1.0),
        Elu => (1.3, 0.0, -2.0, 2.0),
        HardSigmoid => (0.0, 0.0, -5.0, 5.0),
        Gelu | Sigmoid | Tanh | Softplus | Silu | Selu => (0.0, 0.0, -3.0, 3.0),
        AddScalar => (0.7, 0.0, -1.0, 1.0),
        MulScalar => (-1.7, 0.0, -1.0, 1.0),
        RsubScalar => (2.0, 0.0, -1.0, 1.0),
        Clamp => (-0.4, 0.6, -1.0, 1.0),
        MaxScalar => (0.2, 0.0, -1.0, 1.0),
        MinScalar => (-0.1, 0.0, -1.0, 1.0),
        GtScalar | GeScalar | LtScalar | LeScalar | EqScalar | NeScalar => (0.1, 0.0, -1.0, 1.0),
        // Any other activation in the op table: wide enough to cross its kinks.
        _ if op.fuses_into_epilogue() => (0.0, 0.0, -4.0, 4.0),
        _ => (0.0, 0.0, -1.0, 1.0),
    }
}

#[test]
fn every_unary_op_has_a_correct_gradient() {
    for (i, &op) in UnaryOp::ALL.iter().enumerate() {
        let (a, b, lo, hi) = domain(op);
        for shape in [&[1][..], &[7, 5]] {
            let x = input(100 + i as u64, shape, lo, hi);
            check(
                &format!("{op:?} {shape:?}"),
                &[x],
                |v| v[0].unary(op, a, b),
                |h| twin::unary(op, a as f64, b as f64, &h[0]),
            );
        }
    }
}

/// Operand ranges per op: divisors and pow bases kept positive.
fn operands(op: BinaryOp) -> ((f32, f32), (f32, f32)) {
    match op {
        BinaryOp::Div => ((-1.0, 1.0), (0.5, 2.0)),
        BinaryOp::Pow => ((0.3, 2.0), (-1.5, 1.5)),
        _ => ((-1.0, 1.0), (-1.0, 1.0)),
    }
}

#[test]
fn every_binary_op_has_a_correct_gradient_under_broadcasting() {
    let shapes: [(&[usize], &[usize]); 4] = [(&[3, 1, 5], &[4, 1]), (&[7], &[]), (&[2, 33], &[2, 33]), (&[1], &[6, 1])];
    for (i, &op) in BinaryOp::ALL.iter().enumerate() {
        let ((alo, ahi), (blo, bhi)) = operands(op);
        for (j, (ash, bsh)) in shapes.iter().enumerate() {
            let seed = 1000 + 10 * i as u64 + j as u64;
            let (a, b) = (input(seed, ash, alo, ahi), input(seed + 500, bsh, blo, bhi));
            check(
                &format!("{op:?} {ash:?} {bsh:?}"),
                &[a, b],
                |v| v[0].binary(op, &v[1]),
                |h| twin::binary(op, &h[0], ash, &h[1], bsh),
            );
        }
    }
}

#[test]
fn where_routes_each_gradient_to_the_chosen_operand() {
    let cond: Vec<f32> = data(5, 12, 0.0, 1.0).iter().map(|&c| (c > 0.5) as u8 as f32).collect();
    let cond_t = tensor(&cond, &[3, 4]);
    let cond64: Vec<f64> = cond.iter().map(|&c| c as f64).collect();
    check(
        "where",
        &[input(6, &[3, 4], -1.0, 1.0), input(7, &[4], -1.0, 1.0)],
        |v| Var::where_(&cond_t, &v[0], &v[1]),
        |h| twin::where_(&cond64, &[3, 4], &h[0], &[3, 4], &h[1], &[4]),
    );
}
