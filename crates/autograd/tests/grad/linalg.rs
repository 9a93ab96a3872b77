//! Matmul (batched, broadcast, transposed operands), the fused dense layer, conv2d and
//! conv_transpose2d (stride, padding, dilation, groups).

use wgtrain_autograd::Var;
use wgtrain_tensor::{Conv2dOptions, UnaryOp};

use crate::harness::{check, input};
use crate::twin;

#[test]
fn matmul_gradients_with_awkward_and_batched_shapes() {
    for (m, k, n) in [(7, 33, 5), (1, 1, 1), (4, 17, 9)] {
        check(
            &format!("matmul {m}x{k}x{n}"),
            &[input(1, &[m, k], -1.0, 1.0), input(2, &[k, n], -1.0, 1.0)],
            |v| v[0].matmul(&v[1]),
            |h| twin::matmul(&h[0], &h[1], 1, m, k, n, false, None, UnaryOp::Identity, 0.0),
        );
    }
    // Batched left operand against a shared right operand (broadcast batch: dB sums over it).
    check(
        "matmul broadcast batch",
        &[input(3, &[3, 4, 6], -1.0, 1.0), input(4, &[6, 5], -1.0, 1.0)],
        |v| v[0].matmul(&v[1]),
        |h| twin::matmul(&h[0], &h[1], 3, 4, 6, 5, false, None, UnaryOp::Identity, 0.0),
    );
    check(
        "matmul batched",
        &[input(5, &[2, 3, 7], -1.0, 1.0), input(6, &[2, 7, 4], -1.0, 1.0)],
        |v| v[0].matmul(&v[1]),
        |h| twin::matmul(&h[0], &h[1], 2, 3, 7, 4, true, None, UnaryOp::Identity, 0.0),
    );
}

#[test]
fn matmul_of_a_transposed_operand_differentiates_through_the_view() {
    // x is stored [k, m] and used as its transpose: the gradient lands in x's layout.
    let (m, k, n) = (5, 9, 3);
    check(
        "matmul(x^T, w)",
        &[input(7, &[k, m], -1.0, 1.0), input(8, &[k, n], -1.0, 1.0)],
        |v| v[0].transpose(0, 1)?.matmul(&v[1]),
        |h| {
            let xt = twin::permute(&h[0], &[k, m], &[1, 0]);
            twin::matmul(&xt, &h[1], 1, m, k, n, false, None, UnaryOp::Identity, 0.0)
        },
    );
}

#[test]
fn linear_layer_with_fused_and_separate_activations() {
    let (k, n) = (13, 6);
    for (act, alpha) in
        [(None, 0.0), (Some(UnaryOp::Relu), 0.0), (Some(UnaryOp::LeakyRelu), 0.2), (Some(UnaryOp::Gelu), 0.0)]
    {
        check(
            &format!("linear {act:?}"),
            &[input(9, &[2, 3, k], -1.0, 1.0), input(10, &[k, n], -1.0, 1.0), input(11, &[n], -1.0, 1.0)],
            |v| v[0].linear(&v[1], Some(&v[2]), act, alpha),
            |h| {
                let z = twin::matmul(&h[0], &h[1], 1, 6, k, n, false, Some(&h[2]), UnaryOp::Identity, 0.0);
                let a = act.unwrap_or(UnaryOp::Identity);
                twin::unary(a, alpha as f64, 0.0, &z)
            },
        );
    }
}

#[test]
fn conv2d_gradients_over_stride_padding_dilation_and_groups() {
    // (n, c, h, w, oc, k, stride, pad, dil, groups, fused relu)
    let cases = [
        (2, 3, 7, 6, 4, 3, 1, 1, 1, 1, false),
        (1, 4, 9, 9, 6, 3, 2, 1, 1, 2, true),
        (2, 2, 8, 7, 3, 2, 1, 0, 2, 1, false),
        (1, 3, 5, 5, 3, 3, 1, 1, 1, 3, false),
    ];
    for (i, &(n, c, h, w, oc, k, s, p, d, g, relu)) in cases.iter().enumerate() {
        let xs = [n, c, h, w];
        let ws = [oc, c / g, k, k];
        let o = Conv2dOptions {
            stride: [s; 2],
            padding: [p; 2],
            dilation: [d; 2],
            groups: g,
            activation: relu.then_some(UnaryOp::Relu),
            alpha: 0.0,
            ..Default::default()
        };
        let geometry = twin::conv_geometry(s, p, d, g);
        let seed = 20 + 3 * i as u64;
        check(
            &format!("conv2d case {i}"),
            &[input(seed, &xs, -1.0, 1.0), input(seed + 1, &ws, -1.0, 1.0), input(seed + 2, &[oc], -1.0, 1.0)],
            |v| v[0].conv2d(&v[1], Some(&v[2]), &o),
            |hv| {
                let y = twin::conv2d(&hv[0], xs, &hv[1], ws, Some(&hv[2]), &geometry);
                if relu { twin::unary(UnaryOp::Relu, 0.0, 0.0, &y) } else { y }
            },
        );
    }
}

#[test]
fn conv_transpose2d_gradients() {
    // (n, c_in, h, w, c_out, k, stride, pad, out_pad, groups)
    for (i, &(n, ci, h, w, co, k, s, p, op, g)) in
        [(2, 3, 4, 5, 2, 3, 2, 1, 1, 1), (1, 4, 3, 3, 6, 2, 1, 0, 0, 2)].iter().enumerate()
    {
        let xs = [n, ci, h, w];
        let ws = [ci, co / g, k, k];
        let o = Conv2dOptions { stride: [s; 2], padding: [p; 2], groups: g, ..Default::default() };
        let geometry = twin::conv_geometry(s, p, 1, g);
        let seed = 40 + 3 * i as u64;
        check(
            &format!("conv_transpose2d case {i}"),
            &[input(seed, &xs, -1.0, 1.0), input(seed + 1, &ws, -1.0, 1.0), input(seed + 2, &[co], -1.0, 1.0)],
            |v| v[0].conv_transpose2d(&v[1], Some(&v[2]), &o, [op; 2]),
            |hv| twin::conv_transpose2d(&hv[0], xs, &hv[1], ws, Some(&hv[2]), &geometry, op),
        );
    }
}

#[test]
fn frozen_conv_weight_gets_no_gradient_but_the_input_does() {
    let x = Var::parameter(crate::harness::tensor(&crate::harness::data(1, 2 * 3 * 5 * 5, -1.0, 1.0), &[2, 3, 5, 5]));
    let w = Var::constant(crate::harness::tensor(&crate::harness::data(2, 4 * 3 * 9, -1.0, 1.0), &[4, 3, 3, 3]));
    x.conv2d(&w, None, &Conv2dOptions::default()).unwrap().sum_all().unwrap().backward().unwrap();
    assert!(w.grad().is_none());
    assert_eq!(x.grad().unwrap().shape(), &[2, 3, 5, 5]);
}
