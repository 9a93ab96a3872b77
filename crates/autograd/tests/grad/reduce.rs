//! Reductions over single, several and all axes, with and without keepdim.

use wgtrain_autograd::Var;
use wgtrain_kernels::ops::reduce::ReduceOp;

use crate::harness::{check, input, tensor};
use crate::twin;

const SHAPE: [usize; 3] = [3, 7, 5];

/// (axes as the op takes them, as sorted indices)
fn axis_sets() -> Vec<(Vec<isize>, Vec<usize>)> {
    vec![(vec![1], vec![1]), (vec![0, 2], vec![0, 2]), (vec![-1], vec![2]), (vec![0, 1, 2], vec![0, 1, 2])]
}

#[test]
fn sum_mean_sum_sq_and_norm_gradients() {
    type VarOp = fn(&Var, &[isize], bool) -> wgtrain_autograd::Result<Var>;
    let ops: [(&str, VarOp, ReduceOp); 4] = [
        ("sum", Var::sum, ReduceOp::Sum),
        ("mean", Var::mean, ReduceOp::Mean),
        ("sum_sq", Var::sum_sq, ReduceOp::SumSq),
        ("norm_l2", Var::norm_l2, ReduceOp::NormL2),
    ];
    for (name, f, op) in ops {
        for (axes, sorted) in axis_sets() {
            for keepdim in [false, true] {
                check(
                    &format!("{name} {axes:?} keepdim={keepdim}"),
                    &[input(1, &SHAPE, -1.0, 1.0)],
                    |v| f(&v[0], &axes, keepdim),
                    |h| twin::reduce(op, &h[0], &SHAPE, &sorted),
                );
            }
        }
    }
}

#[test]
fn max_and_min_gradients_go_to_the_extreme() {
    for (max, op) in [(true, ReduceOp::Max), (false, ReduceOp::Min)] {
        for (axes, sorted) in axis_sets() {
            check(
                &format!("max={max} {axes:?}"),
                &[input(2, &SHAPE, -1.0, 1.0)],
                |v| if max { v[0].max(&axes, false) } else { v[0].min(&axes, true) },
                |h| twin::reduce(op, &h[0], &SHAPE, &sorted),
            );
        }
    }
}

#[test]
fn on_ties_the_first_extreme_gets_the_whole_gradient() {
    let x = Var::parameter(tensor(&[1.0, 3.0, 3.0, 0.0, 2.0, 2.0, -1.0, 2.0], &[2, 4]));
    x.max(&[1], false).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>().unwrap(), vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    let y = Var::parameter(tensor(&[1.0, -3.0, -3.0, 0.0, 1.0, 1.0], &[3, 2]));
    y.min(&[0, 1], false).unwrap().backward().unwrap();
    assert_eq!(y.grad().unwrap().to_vec::<f32>().unwrap(), vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn variance_gradients_with_either_correction() {
    for correction in [0.0f32, 1.0] {
        for (axes, sorted) in axis_sets() {
            check(
                &format!("var {axes:?} correction={correction}"),
                &[input(3, &SHAPE, -1.0, 1.0)],
                |v| v[0].var(&axes, correction, true),
                |h| twin::variance(&h[0], &SHAPE, &sorted, correction as f64),
            );
        }
    }
}

#[test]
fn whole_tensor_reductions() {
    check("sum_all", &[input(4, &[33], -1.0, 1.0)], |v| v[0].sum_all(), |h| vec![h[0].iter().sum()]);
    check("mean_all", &[input(5, &[4, 9], -1.0, 1.0)], |v| v[0].mean_all(), |h| vec![h[0].iter().sum::<f64>() / 36.0]);
}
