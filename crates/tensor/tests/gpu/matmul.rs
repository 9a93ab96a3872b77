//! Matmul against its twin: awkward sizes, more than two tiles in every dimension, transposed
//! and broadcast operands, fused bias + activation. Tolerance 1e-4 sqrt(K) (relative + absolute).
//! Every test runs on the three GEMM paths (tiled core, uniform windows, textures) on the test
//! adapter; shapes the texture plan declines fall back to uniform windows there, so the last
//! test picks shapes it accepts.

use wgtrain_kernels::cpu::gemm_texture::TexturePlan;
use wgtrain_kernels::ops::map::UnaryOp;
use wgtrain_kernels::ops::matmul::MatmulParams;
use wgtrain_kernels::reference;
use wgtrain_tensor::{MatmulOptions, Tensor};

use wgtrain_tensor::{Device, Strategy};

use super::harness::{assert_close, data, gemm_devs, gemm_tol};

/// Params addressing `a` and `b` (views of `a_data`, `b_data`) as the op does for 2-D operands.
fn params(a: &Tensor, b: &Tensor, batch: usize, a_bs: usize, b_bs: usize) -> MatmulParams {
    let (ar, br) = (a.rank(), b.rank());
    MatmulParams {
        m: a.shape()[ar - 2] as u32,
        n: b.shape()[br - 1] as u32,
        k: a.shape()[ar - 1] as u32,
        batch: batch as u32,
        a_off: a.offset() as u32,
        a_rs: a.strides()[ar - 2] as u32,
        a_cs: a.strides()[ar - 1] as u32,
        a_bs: a_bs as u32,
        b_off: b.offset() as u32,
        b_rs: b.strides()[br - 2] as u32,
        b_cs: b.strides()[br - 1] as u32,
        b_bs: b_bs as u32,
        bias_off: 0,
        has_bias: 0,
        act: UnaryOp::Identity as u32,
        alpha: 0.0,
    }
}

#[test]
fn matmul_matches_the_twin_on_awkward_and_multi_tile_shapes() {
    for (d, path) in gemm_devs() {
        eprintln!("matmul_matches_the_twin_on_awkward_and_multi_tile_shapes: {path:?}");
        matmul_matches_the_twin_on_awkward_and_multi_tile_shapes_on(d);
    }
}

fn matmul_matches_the_twin_on_awkward_and_multi_tile_shapes_on(dev: &Device) {
    for (i, &(m, k, n)) in [
        (1, 1, 1),
        (1, 7, 33),
        (7, 33, 1),
        (33, 7, 65),
        (64, 64, 64),
        (130, 200, 150),
        (257, 33, 129),
        (257, 1000, 300),
    ]
    .iter()
    .enumerate()
    {
        let (a, b) = (data(i as u64, m * k, -1.0, 1.0), data(50 + i as u64, k * n, -1.0, 1.0));
        let (ta, tb) = (Tensor::from_slice(dev, &a, &[m, k]).unwrap(), Tensor::from_slice(dev, &b, &[k, n]).unwrap());
        let got = ta.matmul(&tb).unwrap();
        assert_eq!(got.shape(), &[m, n]);
        let want = reference::matmul(&params(&ta, &tb, 1, 0, 0), &a, &b, None);
        let tol = gemm_tol(k);
        assert_close(&got.to_vec::<f32>().unwrap(), &want, tol, tol, &format!("matmul {m}x{k}x{n}"));
    }
}

#[test]
fn transposed_operands_are_read_in_place() {
    for (d, path) in gemm_devs() {
        eprintln!("transposed_operands_are_read_in_place: {path:?}");
        transposed_operands_are_read_in_place_on(d);
    }
}

fn transposed_operands_are_read_in_place_on(dev: &Device) {
    let (m, k, n) = (70, 45, 66);
    let (a, b) = (data(1, k * m, -1.0, 1.0), data(2, n * k, -1.0, 1.0));
    // Stored as A^T [k, m] and B^T [n, k].
    let at = Tensor::from_slice(dev, &a, &[k, m]).unwrap().transpose(0, 1).unwrap();
    let bt = Tensor::from_slice(dev, &b, &[n, k]).unwrap().transpose(0, 1).unwrap();
    assert!(!at.is_contiguous() && !bt.is_contiguous());
    let got = at.matmul(&bt).unwrap().to_vec::<f32>().unwrap();
    let want = reference::matmul(&params(&at, &bt, 1, 0, 0), &a, &b, None);
    assert_close(&got, &want, gemm_tol(k), gemm_tol(k), "A^T B^T");
}

#[test]
fn batched_matmul_broadcasts_batch_dimensions() {
    for (d, path) in gemm_devs() {
        eprintln!("batched_matmul_broadcasts_batch_dimensions: {path:?}");
        batched_matmul_broadcasts_batch_dimensions_on(d);
    }
}

fn batched_matmul_broadcasts_batch_dimensions_on(dev: &Device) {
    let (bt, m, k, n) = (3, 9, 17, 11);
    let (a, b) = (data(3, bt * m * k, -1.0, 1.0), data(4, k * n, -1.0, 1.0));
    let ta = Tensor::from_slice(dev, &a, &[bt, m, k]).unwrap();
    let tb = Tensor::from_slice(dev, &b, &[k, n]).unwrap();
    let got = ta.matmul(&tb).unwrap();
    assert_eq!(got.shape(), &[bt, m, n]);
    let want = reference::matmul(&params(&ta, &tb, bt, m * k, 0), &a, &b, None);
    assert_close(&got.to_vec::<f32>().unwrap(), &want, gemm_tol(k), gemm_tol(k), "[3,m,k] @ [k,n]");
    // Two batch dims broadcast against each other: [2, 1, m, k] @ [3, k, n] -> [2, 3, m, n].
    let a2 = data(5, 2 * m * k, -1.0, 1.0);
    let b2 = data(6, 3 * k * n, -1.0, 1.0);
    let ta2 = Tensor::from_slice(dev, &a2, &[2, 1, m, k]).unwrap();
    let tb2 = Tensor::from_slice(dev, &b2, &[3, k, n]).unwrap();
    let got = ta2.matmul(&tb2).unwrap();
    assert_eq!(got.shape(), &[2, 3, m, n]);
    let got = got.to_vec::<f32>().unwrap();
    for i in 0..2 {
        for j in 0..3 {
            let sa = Tensor::from_slice(dev, &a2[i * m * k..(i + 1) * m * k], &[m, k]).unwrap();
            let sb = Tensor::from_slice(dev, &b2[j * k * n..(j + 1) * k * n], &[k, n]).unwrap();
            let want = reference::matmul(&params(&sa, &sb, 1, 0, 0), &a2[i * m * k..], &b2[j * k * n..], None);
            let at = (i * 3 + j) * m * n;
            assert_close(&got[at..at + m * n], &want, gemm_tol(k), gemm_tol(k), &format!("batch ({i}, {j})"));
        }
    }
}

#[test]
fn bias_and_activation_are_fused() {
    for (d, path) in gemm_devs() {
        eprintln!("bias_and_activation_are_fused: {path:?}");
        bias_and_activation_are_fused_on(d);
    }
}

fn bias_and_activation_are_fused_on(dev: &Device) {
    // Every activation the op table marks as fusable. The second shape takes two k chunks on
    // the uniform path: the epilogue runs once, last.
    let fusable: Vec<UnaryOp> = UnaryOp::ALL.into_iter().filter(|o| o.fuses_into_epilogue()).collect();
    let cases = [(33, 65, 70, &fusable[..]), (20, 1900, 64, &[UnaryOp::Sigmoid][..])];
    for (m, k, n, acts) in cases {
        let (a, b, bias) = (data(7, m * k, -1.0, 1.0), data(8, k * n, -1.0, 1.0), data(9, n, -1.0, 1.0));
        let ta = Tensor::from_slice(dev, &a, &[m, k]).unwrap();
        let tb = Tensor::from_slice(dev, &b, &[k, n]).unwrap();
        let tbias = Tensor::from_slice(dev, &bias, &[n]).unwrap();
        for &act in acts {
            let opts = MatmulOptions { bias: Some(&tbias), activation: Some(act), alpha: 0.1, ..Default::default() };
            let got = ta.matmul_with(&tb, opts).unwrap().to_vec::<f32>().unwrap();
            let mut p = params(&ta, &tb, 1, 0, 0);
            (p.has_bias, p.act, p.alpha) = (1, act as u32, 0.1);
            let want = reference::matmul(&p, &a, &b, Some(&bias));
            assert_close(&got, &want, gemm_tol(k), gemm_tol(k), &format!("bias + {act:?}"));
        }
    }
}

/// The texture path in all four operand layouts (row-major or transposed A and B), at shapes
/// the texture plan accepts: C edges off every tile size, K tails for the layouts that are not
/// k-contiguous, an offset view, a batch with a broadcast operand, and the fused epilogue.
#[test]
fn texture_path_matches_the_twin_in_every_layout() {
    let [.., (dev, path)] = gemm_devs();
    assert_eq!(path, Strategy::CpuTextures);
    let max = dev.limits().max_texture_dimension_2d;
    // (m, k, n, A stored transposed, B stored transposed)
    let cases = [
        (1, 4, 1, false, true),
        (7, 12, 33, false, true),
        (33, 100, 65, false, true),
        (4, 4, 4, false, false),
        (36, 100, 260, false, false),
        (132, 64, 1000, true, false),
        (260, 1000, 44, true, true),
        (12, 7, 20, true, false),
        (4, 1, 8, true, false),
        (8, 36, 12, true, true),
    ];
    for (i, &(m, k, n, a_t, b_t)) in cases.iter().enumerate() {
        let (a, b) = (data(60 + i as u64, m * k, -1.0, 1.0), data(80 + i as u64, k * n, -1.0, 1.0));
        let ta = if a_t {
            Tensor::from_slice(dev, &a, &[k, m]).unwrap().transpose(0, 1).unwrap()
        } else {
            Tensor::from_slice(dev, &a, &[m, k]).unwrap()
        };
        let tb = if b_t {
            Tensor::from_slice(dev, &b, &[n, k]).unwrap().transpose(0, 1).unwrap()
        } else {
            Tensor::from_slice(dev, &b, &[k, n]).unwrap()
        };
        let p = params(&ta, &tb, 1, 0, 0);
        assert!(TexturePlan::new(&p, max).is_some(), "case {i} must take the texture path");
        let got = ta.matmul(&tb).unwrap().to_vec::<f32>().unwrap();
        let want = reference::matmul(&p, &a, &b, None);
        let what = format!("texture {m}x{k}x{n} A^T {a_t} B^T {b_t}");
        assert_close(&got, &want, gemm_tol(k), gemm_tol(k), &what);
    }
    // An offset view (rows 3.. of A), a broadcast batch, bias and activation.
    let (bt, m, k, n) = (3, 9, 20, 36);
    let (a, b, bias) = (data(90, bt * (m + 3) * k, -1.0, 1.0), data(91, k * n, -1.0, 1.0), data(92, n, -1.0, 1.0));
    let ta = Tensor::from_slice(dev, &a, &[bt, m + 3, k]).unwrap().slice(1, 3, m + 3, 1).unwrap();
    let tb = Tensor::from_slice(dev, &b, &[k, n]).unwrap();
    let tbias = Tensor::from_slice(dev, &bias, &[n]).unwrap();
    let mut p = params(&ta, &tb, bt, (m + 3) * k, 0);
    (p.has_bias, p.act, p.alpha) = (1, UnaryOp::LeakyRelu as u32, 0.1);
    assert!(TexturePlan::new(&p, max).is_some(), "the batch case must take the texture path");
    let opts =
        MatmulOptions { bias: Some(&tbias), activation: Some(UnaryOp::LeakyRelu), alpha: 0.1, ..Default::default() };
    let got = ta.matmul_with(&tb, opts).unwrap().to_vec::<f32>().unwrap();
    let want = reference::matmul(&p, &a, &b, Some(&bias));
    assert_close(&got, &want, gemm_tol(k), gemm_tol(k), "texture batch, offset view, bias + leaky relu");
    // The operand textures are pooled: after a warm-up step, repeating it creates none.
    let x = Tensor::from_slice(dev, &data(93, 64 * 40, -1.0, 1.0), &[64, 40]).unwrap();
    let w = Tensor::from_slice(dev, &data(94, 40 * 24, -1.0, 1.0), &[40, 24]).unwrap();
    let step = || x.matmul(&w).unwrap().transpose(0, 1).unwrap().matmul(&x).unwrap();
    step().to_vec::<f32>().unwrap();
    let created = dev.textures_created();
    assert!(created >= 2);
    for _ in 0..30 {
        step();
    }
    dev.synchronize().unwrap();
    assert_eq!(dev.textures_created(), created, "flat over repeated steps");
    // Extreme values survive the copy bit for bit: C = A . I.
    let big = [3.0e38f32, -1.0e-38, 1.0e30, -7.5, 0.0, 1.0e-30, -3.0e38, 42.0];
    let eye: Vec<f32> = (0..16).map(|i| if i % 5 == 0 { 1.0 } else { 0.0 }).collect();
    let ta = Tensor::from_slice(dev, &big, &[2, 4]).unwrap();
    let got = ta.matmul(&Tensor::from_slice(dev, &eye, &[4, 4]).unwrap()).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(got, big);
}

/// Operands the texture GEMM cannot read in place (rows of a classifier's 10 outputs are not
/// whole texels) are copied into the layout that aligns, row- or column-major, and still take it:
/// the three products of a 256 -> 10 layer's training step, batches (one broadcast) of offset
/// views. Shapes aligned neither way keep the uniform windows.
#[test]
fn misaligned_operands_are_copied_into_the_texture_path() {
    let dev = Device::new().unwrap();
    dev.set_strategy(Strategy::CpuTextures).unwrap();
    // (batch, m, k, n, A stored transposed, B stored transposed, A broadcast)
    let cases = [
        (1, 128, 256, 10, false, false, false), // x . w
        (1, 128, 10, 256, false, true, false),  // dy . w^T
        (1, 256, 128, 10, true, false, false),  // x^T . dy
        (3, 12, 9, 20, false, false, true),     // broadcast A with K misaligned: copied per batch
        (2, 8, 6, 12, false, false, false),     // a batch with K misaligned: A copied
        (2, 5, 7, 20, true, false, false),      // A aligned neither way, B in place
    ];
    for (i, &(bt, m, k, n, a_t, b_t, a_bc)) in cases.iter().enumerate() {
        let a_batches = if a_bc { 1 } else { bt };
        // A is a view skipping row 0 (column 0 when stored transposed) of a buffer with one
        // more: an offset, and a batch stride no copy has.
        let a = data(120 + i as u64, a_batches * (m + 1) * k, -1.0, 1.0);
        let b = data(140 + i as u64, bt * k * n, -1.0, 1.0);
        let ta = if a_t {
            let t = Tensor::from_slice(&dev, &a, &[a_batches, k, m + 1]).unwrap();
            t.slice(2, 1, m + 1, 1).unwrap().transpose(1, 2).unwrap()
        } else {
            Tensor::from_slice(&dev, &a, &[a_batches, m + 1, k]).unwrap().slice(1, 1, m + 1, 1).unwrap()
        };
        let tb = if b_t {
            Tensor::from_slice(&dev, &b, &[bt, n, k]).unwrap().transpose(1, 2).unwrap()
        } else {
            Tensor::from_slice(&dev, &b, &[bt, k, n]).unwrap()
        };
        dev.set_profiling(true);
        let got = ta.matmul(&tb).unwrap().to_vec::<f32>().unwrap();
        let kernels: Vec<String> = dev.profile().iter().map(|t| t.kernel.to_string()).collect();
        dev.set_profiling(false);
        let p = params(&ta, &tb, bt, if a_bc { 0 } else { (m + 1) * k }, k * n);
        let want = reference::matmul(&p, &a, &b, None);
        let what = format!("case {i}: {bt}x{m}x{k}x{n} A^T {a_t} B^T {b_t}");
        assert_close(&got, &want, gemm_tol(k), gemm_tol(k), &what);
        let textured = kernels.iter().any(|k| k.starts_with("gemm_texture"));
        let uniform = kernels.iter().any(|k| k == "gemm_uniform");
        let expect_texture = i < 5;
        assert_eq!((textured, uniform), (expect_texture, !expect_texture), "{what}: {kernels:?}");
    }
}

#[test]
fn a_nan_operand_survives_the_fused_activation_on_every_path() {
    for (d, path) in gemm_devs() {
        let (m, k, n) = (33, 65, 70);
        let (mut a, b, bias) = (data(17, m * k, -1.0, 1.0), data(18, k * n, -1.0, 1.0), data(19, n, -1.0, 1.0));
        a[5 * k + 7] = f32::NAN; // row 5 of C is NaN before the activation
        let ta = Tensor::from_slice(d, &a, &[m, k]).unwrap();
        let tb = Tensor::from_slice(d, &b, &[k, n]).unwrap();
        let tbias = Tensor::from_slice(d, &bias, &[n]).unwrap();
        for act in [UnaryOp::Relu, UnaryOp::Tanh, UnaryOp::Sigmoid, UnaryOp::HardSigmoid] {
            let opts = MatmulOptions { bias: Some(&tbias), activation: Some(act), alpha: 0.1, ..Default::default() };
            let got = ta.matmul_with(&tb, opts).unwrap().to_vec::<f32>().unwrap();
            let mut p = params(&ta, &tb, 1, 0, 0);
            (p.has_bias, p.act, p.alpha) = (1, act as u32, 0.1);
            let want = reference::matmul(&p, &a, &b, Some(&bias));
            assert!(got[5 * n..6 * n].iter().all(|v| v.is_nan()), "{path:?} {act:?}: row 5 lost its NaN");
            assert_close(&got, &want, gemm_tol(k), gemm_tol(k), &format!("{path:?} {act:?} with NaN"));
        }
    }
}
