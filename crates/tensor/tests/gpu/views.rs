//! Views share storage and copy nothing; `contiguous` copies exactly when needed.

use wgtrain_tensor::Tensor;

use super::harness::dev;

fn iota(shape: &[usize]) -> (Tensor, Vec<f32>) {
    let v: Vec<f32> = (0..shape.iter().product::<usize>()).map(|i| i as f32).collect();
    (Tensor::from_slice(dev(), &v, shape).unwrap(), v)
}

#[test]
fn permute_slice_and_broadcast_are_views_with_the_right_elements() {
    let (t, v) = iota(&[2, 3, 4]);
    let p = t.permute(&[2, 0, 1]).unwrap();
    assert!(p.shares_storage(&t) && !p.is_contiguous());
    let got = p.to_vec::<f32>().unwrap();
    let mut want = Vec::new();
    for k in 0..4 {
        for i in 0..2 {
            for j in 0..3 {
                want.push(v[i * 12 + j * 4 + k]);
            }
        }
    }
    assert_eq!(got, want);
    let s = t.slice(2, 1, 4, 2).unwrap(); // columns 1 and 3
    assert!(s.shares_storage(&t));
    assert_eq!(s.shape(), &[2, 3, 2]);
    assert_eq!(s.to_vec::<f32>().unwrap(), vec![1., 3., 5., 7., 9., 11., 13., 15., 17., 19., 21., 23.]);
    let b = Tensor::from_slice(dev(), &[1.0f32, 2.0, 3.0], &[3, 1]).unwrap().broadcast_to(&[2, 3, 4]).unwrap();
    assert!(b.strides().contains(&0));
    assert_eq!(&b.to_vec::<f32>().unwrap()[..8], &[1., 1., 1., 1., 2., 2., 2., 2.]);
}

#[test]
fn reshape_is_a_view_of_contiguous_data_and_a_copy_otherwise() {
    let (t, _) = iota(&[4, 6]);
    let r = t.reshape(&[2, usize::MAX, 3]).unwrap();
    assert_eq!(r.shape(), &[2, 4, 3]);
    assert!(r.shares_storage(&t));
    let tr = t.transpose(0, 1).unwrap();
    let r2 = tr.reshape(&[24]).unwrap();
    assert!(!r2.shares_storage(&t));
    assert_eq!(r2.to_vec::<f32>().unwrap()[..4], [0.0, 6.0, 12.0, 18.0]);
    assert!(t.contiguous().unwrap().shares_storage(&t), "contiguous() of contiguous data copies nothing");
    let e = t.reshape(&[5, 5]).unwrap_err().to_string();
    assert!(e.contains("24 elements") && e.contains("[5, 5]"), "{e}");
}

#[test]
fn squeeze_unsqueeze_and_rank_limit() {
    let (t, _) = iota(&[3, 1, 2]);
    assert_eq!(t.squeeze(1).unwrap().shape(), &[3, 2]);
    assert_eq!(t.unsqueeze(0).unwrap().shape(), &[1, 3, 1, 2]);
    assert!(t.squeeze(0).is_err());
    let e = Tensor::zeros(dev(), &[1; 7], wgtrain_tensor::DType::F32).unwrap_err().to_string();
    assert!(e.contains("rank <= 6"), "{e}");
}
