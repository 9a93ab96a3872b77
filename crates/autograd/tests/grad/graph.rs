//! Graph semantics: accumulation, shared values, frozen parameters, no_grad, detach,
//! retain_graph, hooks, in-place detection and the errors of misuse.

use std::sync::{Arc, Mutex};

use wgtrain_autograd::{AutogradError, BackwardOptions, Var, is_grad_enabled, no_grad};
use wgtrain_tensor::{SgdParams, Tensor, UpdateOptions, sgd_step};

use crate::harness::{data, tensor};

fn param(values: &[f32], shape: &[usize]) -> Var {
    Var::parameter(tensor(values, shape))
}

fn grad(v: &Var) -> Vec<f32> {
    v.grad().expect("a gradient").to_vec::<f32>().unwrap()
}

#[test]
fn gradients_accumulate_across_backward_calls_until_zero_grad() {
    let x = param(&[1.0, 2.0, 3.0], &[3]);
    let loss = || x.square().unwrap().sum_all().unwrap();
    loss().backward().unwrap();
    assert_eq!(grad(&x), vec![2.0, 4.0, 6.0]);
    loss().backward().unwrap();
    assert_eq!(grad(&x), vec![4.0, 8.0, 12.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    loss().backward().unwrap();
    assert_eq!(grad(&x), vec![2.0, 4.0, 6.0]);
}

#[test]
fn a_value_used_twice_gets_the_sum_of_both_gradients() {
    // Shared weight: y = w x1 + w x2, so dy/dw = x1 + x2.
    let w = param(&[2.0], &[1]);
    let (x1, x2) = (Var::constant(tensor(&[3.0], &[1])), Var::constant(tensor(&[5.0], &[1])));
    w.mul(&x1).unwrap().add(&w.mul(&x2).unwrap()).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(grad(&w), vec![8.0]);
    // Skip connection: z = h + relu(h), h = 3 a: dz/da = 3 (1 + 1) for a > 0.
    let a = param(&[1.0, -1.0], &[2]);
    let h = a.mul_scalar(3.0).unwrap();
    h.add(&h.relu().unwrap()).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(grad(&a), vec![6.0, 3.0]);
}

#[test]
fn frozen_parameters_get_no_gradient_and_record_nothing() {
    let w = param(&[1.0, 2.0], &[2]);
    let b = param(&[0.5, 0.5], &[2]);
    w.set_requires_grad(false).unwrap();
    let y = w.mul(&b).unwrap().sum_all().unwrap();
    y.backward().unwrap();
    assert!(w.grad().is_none());
    assert_eq!(grad(&b), vec![1.0, 2.0]);
    // An op on frozen values only is a constant.
    let z = w.square().unwrap();
    assert!(!z.requires_grad() && z.is_leaf());
    assert!(matches!(z.sum_all().unwrap().backward(), Err(AutogradError::NoGradPath)));
    // Only leaves can be frozen.
    assert!(y.set_requires_grad(false).is_err());
}

#[test]
fn no_grad_and_detach_stop_recording() {
    let x = param(&[1.0, 2.0], &[2]);
    let y = no_grad(|| {
        assert!(!is_grad_enabled());
        x.exp().unwrap()
    });
    assert!(is_grad_enabled());
    assert!(!y.requires_grad());
    // detach: the gradient flows through the attached path only.
    let d = x.square().unwrap().detach();
    x.mul(&d).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![1.0, 4.0]);
}

#[test]
fn misuse_gives_clear_errors() {
    let x = param(&[1.0, 2.0, 3.0], &[3]);
    let y = x.exp().unwrap();
    let e = y.backward().unwrap_err();
    assert!(matches!(e, AutogradError::NonScalar { .. }), "{e}");
    assert!(e.to_string().contains("[3]"), "{e}");
    let wrong = tensor(&[1.0, 1.0], &[2]);
    assert!(matches!(y.backward_with(&wrong), Err(AutogradError::UpstreamShape { .. })));
    let c = Var::constant(tensor(&[1.0], &[1]));
    assert!(matches!(c.backward(), Err(AutogradError::NoGradPath)));

    // A second backward through a freed graph.
    let loss = x.square().unwrap().sum_all().unwrap();
    loss.backward().unwrap();
    let e = loss.backward().unwrap_err();
    assert!(matches!(e, AutogradError::GraphFreed { .. }), "{e}");
    assert!(e.to_string().contains("retain_graph"), "{e}");
}

#[test]
fn retain_graph_allows_a_second_backward() {
    let x = param(&[1.0, -2.0], &[2]);
    let loss = x.square().unwrap().mul_scalar(0.5).unwrap().sum_all().unwrap();
    loss.backward_with_options(BackwardOptions { upstream: None, retain_graph: true }).unwrap();
    loss.backward().unwrap();
    assert_eq!(grad(&x), vec![2.0, -4.0]);
    assert!(loss.backward().is_err());
}

#[test]
fn hooks_see_and_may_replace_gradients() {
    let x = param(&[1.0, 2.0], &[2]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    x.register_hook(move |g| {
        log.lock().unwrap().push(g.to_vec::<f32>()?);
        Ok(None)
    });
    let h = x.mul_scalar(3.0).unwrap();
    // Doubles the gradient flowing through h.
    h.register_hook(|g| Ok(Some(g.mul_scalar(2.0)?)));
    h.sum_all().unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![6.0, 6.0]);
    assert_eq!(*seen.lock().unwrap(), vec![vec![6.0, 6.0]]);
}

#[test]
fn a_hook_returning_another_shape_is_an_error_not_a_panic() {
    let a = param(&[1.0], &[1]);
    let b = param(&[1.0, 2.0, 3.0], &[3]);
    let y = a.add(&b).unwrap();
    y.register_hook(|g| Ok(Some(g.sum_all()?)));
    let e = y.sum_all().unwrap().backward().unwrap_err();
    assert!(matches!(e, AutogradError::GradShape { op: "register_hook", .. }), "{e}");
}

#[test]
fn whole_reductions_of_a_scalar_are_the_scalar() {
    let s = param(&[2.5], &[]);
    let total = s.sum_all().unwrap().mean_all().unwrap();
    assert_eq!(total.data().item::<f32>().unwrap(), 2.5);
    total.backward().unwrap();
    assert_eq!(grad(&s), vec![1.0]);
}

#[test]
fn an_in_place_update_of_a_saved_tensor_is_reported_at_backward() {
    let w = param(&[1.0, 2.0], &[2]);
    let x = param(&[3.0, 4.0], &[2]);
    let loss = x.mul(&w).unwrap().sum_all().unwrap();
    // An optimizer step on w before backward: mul saved w's values.
    let g = tensor(&[1.0, 1.0], &[2]);
    let hp = SgdParams { lr: 0.1, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, step: 1 };
    sgd_step(w.data(), &g, None, &hp, UpdateOptions::default()).unwrap();
    let e = loss.backward().unwrap_err();
    assert!(matches!(e, AutogradError::ModifiedInPlace { op: "binary", .. }), "{e}");
}

#[test]
fn a_deep_graph_backpropagates_without_recursion() {
    let x = param(&[0.5], &[1]);
    let mut y = x.clone();
    for _ in 0..3000 {
        y = y.add_scalar(0.001).unwrap();
    }
    y.sum_all().unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![1.0]);
}

#[test]
fn backward_with_an_upstream_gradient_is_a_vector_jacobian_product() {
    let v = data(3, 6, -1.0, 1.0);
    let x = param(&data(4, 6, -1.0, 1.0), &[2, 3]);
    let up = Tensor::from_slice(x.device(), &v, &[2, 3]).unwrap();
    x.mul_scalar(4.0).unwrap().backward_with(&up).unwrap();
    let want: Vec<f32> = v.iter().map(|u| 4.0 * u).collect();
    assert_eq!(grad(&x), want);
}
