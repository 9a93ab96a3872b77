//! Bad input gives an error that names the op and both operands, never a panic.

use wgtrain_tensor::{Conv2dOptions, CustomKernel, DType, KernelArg, Tensor};

use super::harness::dev;

#[test]
fn mismatched_shapes_name_both_shapes() {
    let a = Tensor::zeros(dev(), &[2, 3], DType::F32).unwrap();
    let b = Tensor::zeros(dev(), &[4, 5], DType::F32).unwrap();
    let e = a.add(&b).unwrap_err().to_string();
    assert!(e.contains("[2, 3]") && e.contains("[4, 5]") && e.contains("binary"), "{e}");
    let e = a.matmul(&b).unwrap_err().to_string();
    assert!(e.contains("matmul") && e.contains("inner dimensions differ: 3 vs 4"), "{e}");
    let x = Tensor::zeros(dev(), &[1, 3, 8, 8], DType::F32).unwrap();
    let w = Tensor::zeros(dev(), &[4, 2, 3, 3], DType::F32).unwrap();
    let e = x.conv2d(&w, None, &Conv2dOptions::default()).unwrap_err().to_string();
    assert!(e.contains("conv2d") && e.contains("[1, 3, 8, 8]") && e.contains("[4, 2, 3, 3]"), "{e}");
    let e = Tensor::from_slice(dev(), &[1.0f32; 5], &[2, 3]).unwrap_err().to_string();
    assert!(e.contains("5 elements") && e.contains("[2, 3]"), "{e}");
}

#[test]
fn wrong_dtypes_are_rejected_with_both_dtypes() {
    let a = Tensor::zeros(dev(), &[4], DType::U32).unwrap();
    let e = a.relu().unwrap_err().to_string();
    assert!(e.contains("expected F32, got U32"), "{e}");
    let f = Tensor::zeros(dev(), &[4, 4], DType::F32).unwrap();
    let e = f.matmul(&Tensor::zeros(dev(), &[4, 4], DType::I32).unwrap()).unwrap_err().to_string();
    assert!(e.contains("matmul") && e.contains("I32"), "{e}");
    let e = f.to_vec::<u32>().unwrap_err().to_string();
    assert!(e.contains("to_vec"), "{e}");
}

#[test]
fn a_binding_over_the_adapter_limit_is_an_error() {
    let limit = dev().limits().max_storage_buffer_binding_size;
    let n = (limit / 4 + 1024) as usize;
    match Tensor::zeros(dev(), &[n], DType::F32) {
        Err(e) => assert!(e.to_string().contains("limit"), "{e}"),
        Ok(_) => panic!("a tensor of {} bytes exceeds the storage binding limit of {limit}", n * 4),
    }
}

#[test]
fn a_bad_custom_kernel_is_an_error_and_a_good_one_runs() {
    let e = CustomKernel::new("fn broken( {", "main", 1).unwrap_err().to_string();
    assert!(e.contains("custom kernel") && e.contains("parse"), "{e}");
    let src = r#"
        struct P { add: f32, _a: f32, _b: f32, _c: f32 }
        @group(0) @binding(0) var<uniform> p: P;
        @group(0) @binding(1) var<storage, read> x: array<f32>;
        @group(0) @binding(2) var<storage, read_write> y: array<f32>;
        @compute @workgroup_size(64)
        fn add_const(@builtin(global_invocation_id) g: vec3<u32>) {
            if (g.x < 100u) { y[g.x] = x[g.x] + p.add; }
        }"#;
    let e = CustomKernel::new(src, "nope", 2).unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
    let k = CustomKernel::new(src, "add_const", 2).unwrap();
    let x = Tensor::arange(dev(), 0.0, 1.0, 100).unwrap();
    let y = Tensor::zeros(dev(), &[100], DType::F32).unwrap();
    k.run(
        dev(),
        bytemuck::cast_slice(&[0.5f32, 0.0, 0.0, 0.0]),
        &[KernelArg::Read(&x), KernelArg::Write(&y)],
        [2, 1, 1],
    )
    .unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), (0..100).map(|i| i as f32 + 0.5).collect::<Vec<_>>());
    assert!(k.run(dev(), &[], &[KernelArg::Read(&x)], [1, 1, 1]).is_err(), "wrong argument count");
}
