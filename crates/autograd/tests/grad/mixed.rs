//! Gradients under mixed precision: a gradient has its value's dtype (the engine casts one
//! that arrives in another), `cast`'s rule is the identity, and the rules that build zeros or
//! widen a reduction work on f16 values. Each f16 gradient is compared with the f32 one of
//! the same (f16-representable) inputs. A leaf keeps its cast copy while its data is unchanged.

use half::f16;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use crate::harness::dev;

/// `f` on an f16 parameter and on an f32 one with the same values: their gradients (the f16
/// one in f16) agree to f16's precision.
fn same_gradient(values: &[f32], shape: &[usize], f: impl Fn(&Var) -> wgtrain_autograd::Result<Var>, what: &str) {
    let x32 = Tensor::from_slice(dev(), values, shape).unwrap();
    let (p16, p32) = (Var::parameter(x32.cast(DType::F16).unwrap()), Var::parameter(x32));
    f(&p16).unwrap().sum_all().unwrap().cast(DType::F32).unwrap().backward().unwrap();
    f(&p32).unwrap().sum_all().unwrap().backward().unwrap();
    let g16 = p16.grad().unwrap();
    assert_eq!(g16.dtype(), DType::F16, "{what}: the gradient has the value's dtype");
    let g16: Vec<f32> = g16.to_vec::<f16>().unwrap().iter().map(|v| v.to_f32()).collect();
    let g32 = p32.grad().unwrap().to_vec::<f32>().unwrap();
    for (a, b) in g16.iter().zip(&g32) {
        assert!((a - b).abs() <= 2e-3 * (1.0 + b.abs()), "{what}: {g16:?} vs {g32:?}");
    }
}

#[test]
fn f16_values_get_f16_gradients_through_casts_slices_wheres_and_reductions() {
    if !dev().has_f16() {
        return;
    }
    let v = [0.5f32, -1.25, 2.0, 0.75, -0.5, 1.5];
    same_gradient(&v, &[2, 3], |x| x.cast(DType::F32)?.mul_scalar(3.0), "cast");
    same_gradient(&v, &[2, 3], |x| x.slice(1, 1, 3, 1)?.square(), "slice");
    same_gradient(&v, &[2, 3], |x| x.var(&[1], 0.0, false), "var");
    same_gradient(&v, &[2, 3], |x| x.norm_l2(&[1], false), "norm_l2");
    same_gradient(&v, &[2, 3], |x| x.sum_sq(&[0], false), "sum_sq");
    same_gradient(&v, &[2, 3], |x| x.mean(&[0], false)?.tanh(), "mean");
    same_gradient(&v, &[2, 3], |x| x.max(&[1], false), "max");
    let cond = Tensor::from_slice(dev(), &[1.0f32, 0.0, 1.0, 0.0, 1.0, 0.0], &[2, 3]).unwrap();
    same_gradient(&v, &[2, 3], |x| Var::where_(&cond, x, &x.mul_scalar(2.0)?), "where");
}

#[test]
fn a_leaf_keeps_its_cast_copy_until_its_data_is_written() {
    if !dev().has_f16() {
        return;
    }
    let w = Var::parameter(Tensor::from_slice(dev(), &[0.5f32, -1.25, 3.0], &[3]).unwrap());
    let (a, b) = (w.cast(DType::F16).unwrap(), w.cast(DType::F16).unwrap());
    assert!(a.data().shares_storage(b.data()), "the second cast reuses the first's copy");
    assert!(w.current_copy(DType::F16).unwrap().shares_storage(a.data()));
    assert!(w.current_copy(DType::F32).is_none(), "only the dtype it was cast to");
    // The gradient still reaches the master through each cast.
    a.add(&b).unwrap().sum_all().unwrap().cast(DType::F32).unwrap().backward().unwrap();
    assert_eq!(w.grad().unwrap().to_vec::<f32>().unwrap(), [2.0, 2.0, 2.0]);
    // A write retires the copy; the next cast is fresh and holds the new values.
    w.data().assign(&Tensor::from_slice(dev(), &[1.0f32, 2.0, 4.0], &[3]).unwrap()).unwrap();
    assert!(w.current_copy(DType::F16).is_none());
    let c = w.cast(DType::F16).unwrap();
    assert!(!c.data().shares_storage(a.data()));
    let values: Vec<f32> = c.data().to_vec::<f16>().unwrap().iter().map(|v| v.to_f32()).collect();
    assert_eq!(values, [1.0, 2.0, 4.0]);
    // A value made by an op keeps nothing: it is cast afresh.
    let y = w.mul_scalar(2.0).unwrap();
    assert!(!y.cast(DType::F16).unwrap().data().shares_storage(y.cast(DType::F16).unwrap().data()));
    assert!(y.current_copy(DType::F16).is_none());
}
