//! Conv2d forward, grad input, grad weight and conv_transpose2d against the twins: strides,
//! padding, dilation, groups (depthwise included), awkward sizes and a shape of more than two
//! tiles in every GEMM dimension. Tolerance 1e-4 sqrt(K). Every test runs on the three GEMM
//! paths: the implicit GEMM, and the CPU adapters' im2col packs read through uniform windows or
//! copied into textures.

use wgtrain_kernels::cpu::{conv_shift, conv_texture};
use wgtrain_kernels::ops::conv::{ConvGeometry, ConvParams, ConvPass, out_extent};
use wgtrain_kernels::ops::map::UnaryOp;
use wgtrain_kernels::reference;
use wgtrain_tensor::{Conv2dOptions, Device, Strategy, Tensor};

use super::harness::{assert_close, data, gemm_devs, gemm_tol};

struct Case {
    x: [usize; 4],
    w: [usize; 4],
    stride: usize,
    pad: usize,
    dil: usize,
    groups: usize,
}

const CASES: [Case; 9] = [
    Case { x: [1, 1, 1, 1], w: [1, 1, 1, 1], stride: 1, pad: 0, dil: 1, groups: 1 },
    Case { x: [2, 3, 7, 9], w: [5, 3, 3, 3], stride: 1, pad: 1, dil: 1, groups: 1 },
    Case { x: [3, 4, 11, 8], w: [6, 2, 3, 2], stride: 2, pad: 1, dil: 1, groups: 2 },
    Case { x: [2, 6, 9, 9], w: [6, 1, 3, 3], stride: 1, pad: 2, dil: 2, groups: 6 }, // depthwise, dilated
    Case { x: [1, 5, 13, 7], w: [7, 5, 5, 3], stride: 3, pad: 2, dil: 1, groups: 1 },
    Case { x: [2, 8, 12, 12], w: [130, 8, 3, 3], stride: 1, pad: 0, dil: 1, groups: 1 }, // > 2 tiles
    Case { x: [4, 16, 10, 10], w: [33, 16, 1, 1], stride: 1, pad: 0, dil: 1, groups: 1 },
    Case { x: [1, 120, 6, 6], w: [9, 120, 3, 3], stride: 1, pad: 1, dil: 1, groups: 1 }, // K > 7 windows
    // 1,140 pixels per group: the texture path packs B in 128-column panels, the last partial.
    Case { x: [3, 4, 20, 19], w: [6, 2, 3, 3], stride: 1, pad: 1, dil: 1, groups: 2 },
];

fn setup(c: &Case) -> (Conv2dOptions, ConvParams) {
    let o = Conv2dOptions {
        stride: [c.stride; 2],
        padding: [c.pad; 2],
        dilation: [c.dil; 2],
        groups: c.groups,
        ..Default::default()
    };
    let oh = out_extent(c.x[2], c.w[2], c.stride, c.pad, c.dil).unwrap();
    let ow = out_extent(c.x[3], c.w[3], c.stride, c.pad, c.dil).unwrap();
    let g = ConvGeometry { stride: o.stride, padding: o.padding, dilation: o.dilation, groups: c.groups };
    (o, ConvParams::new(c.x, c.w, [oh, ow], &g))
}

#[test]
fn conv2d_forward_matches_the_twin() {
    for ((i, c), (dev, path)) in CASES.iter().enumerate().flat_map(|c| gemm_devs().map(|d| (c, d))) {
        let (mut o, mut p) = setup(c);
        let (x, w, b) = (
            data(i as u64, c.x.iter().product(), -1.0, 1.0),
            data(20 + i as u64, c.w.iter().product(), -1.0, 1.0),
            data(40 + i as u64, c.w[0], -1.0, 1.0),
        );
        let tx = Tensor::from_slice(dev, &x, &c.x).unwrap();
        let tw = Tensor::from_slice(dev, &w, &c.w).unwrap();
        let tb = Tensor::from_slice(dev, &b, &[c.w[0]]).unwrap();
        o.activation = Some(UnaryOp::Relu);
        let got = tx.conv2d(&tw, Some(&tb), &o).unwrap();
        assert_eq!(got.shape(), &[p.batch, p.out_c, p.out_h, p.out_w].map(|v| v as usize));
        (p.has_bias, p.act) = (1, UnaryOp::Relu as u32);
        let want = reference::conv2d_forward(&p, &x, &w, Some(&b));
        let k = c.w[1] * c.w[2] * c.w[3];
        assert_close(
            &got.to_vec::<f32>().unwrap(),
            &want,
            gemm_tol(k),
            gemm_tol(k),
            &format!("case {i} forward, {path:?}"),
        );
    }
}

#[test]
fn conv2d_backward_passes_match_the_twins() {
    for ((i, c), (dev, path)) in CASES.iter().enumerate().flat_map(|c| gemm_devs().map(|d| (c, d))) {
        let (o, p) = setup(c);
        let ylen = (p.batch * p.out_c * p.out_h * p.out_w) as usize;
        let (x, w, dy) = (
            data(i as u64, c.x.iter().product(), -1.0, 1.0),
            data(20 + i as u64, c.w.iter().product(), -1.0, 1.0),
            data(60 + i as u64, ylen, -1.0, 1.0),
        );
        let tx = Tensor::from_slice(dev, &x, &c.x).unwrap();
        let tw = Tensor::from_slice(dev, &w, &c.w).unwrap();
        let tdy = Tensor::from_slice(dev, &dy, &[p.batch, p.out_c, p.out_h, p.out_w].map(|v| v as usize)).unwrap();
        let dx = tdy.conv2d_grad_input(&tw, c.x, &o).unwrap();
        let k_in = (c.w[0] / c.groups) * c.w[2] * c.w[3];
        assert_close(
            &dx.to_vec::<f32>().unwrap(),
            &reference::conv2d_grad_input(&p, &dy, &w, None),
            gemm_tol(k_in),
            gemm_tol(k_in),
            &format!("case {i} grad input, {path:?}"),
        );
        let dw = tdy.conv2d_grad_weight(&tx, c.w, &o).unwrap();
        let k_w = ylen / c.w[0];
        assert_close(
            &dw.to_vec::<f32>().unwrap(),
            &reference::conv2d_grad_weight(&p, &dy, &x),
            gemm_tol(k_w),
            gemm_tol(k_w),
            &format!("case {i} grad weight, {path:?}"),
        );
    }
}

/// Runs the three passes of `c` on `dev` and compares them with the twins.
fn check_passes(c: &Case, dev: &Device, ctx: &str) {
    let (o, p) = setup(c);
    let dims = [p.batch, p.out_c, p.out_h, p.out_w].map(|v| v as usize);
    let ylen: usize = dims.iter().product();
    let (x, w, dy) =
        (data(1, c.x.iter().product(), -1.0, 1.0), data(3, c.w.iter().product(), -1.0, 1.0), data(2, ylen, -1.0, 1.0));
    let tx = Tensor::from_slice(dev, &x, &c.x).unwrap();
    let tw = Tensor::from_slice(dev, &w, &c.w).unwrap();
    let tdy = Tensor::from_slice(dev, &dy, &dims).unwrap();
    let y = tx.conv2d(&tw, None, &o).unwrap().to_vec::<f32>().unwrap();
    let dx = tdy.conv2d_grad_input(&tw, c.x, &o).unwrap().to_vec::<f32>().unwrap();
    let dw = tdy.conv2d_grad_weight(&tx, c.w, &o).unwrap().to_vec::<f32>().unwrap();
    let k = (p.in_c / p.groups * p.k_h * p.k_w) as usize;
    assert_close(
        &y,
        &reference::conv2d_forward(&p, &x, &w, None),
        gemm_tol(k),
        gemm_tol(k),
        &format!("forward, {ctx}"),
    );
    let k = (p.out_c / p.groups * p.k_h * p.k_w) as usize;
    let want_dx = reference::conv2d_grad_input(&p, &dy, &w, None);
    assert_close(&dx, &want_dx, gemm_tol(k), gemm_tol(k), &format!("grad input, {ctx}"));
    let k = ylen / c.w[0];
    let want_dw = reference::conv2d_grad_weight(&p, &dy, &x);
    assert_close(&dw, &want_dw, gemm_tol(k), gemm_tol(k), &format!("grad weight, {ctx}"));
}

/// A private device on `path` whose packed operands are capped at `limit` bytes (the shared
/// devices serve other tests concurrently).
fn limited(path: Strategy, limit: u64) -> Device {
    let dev = Device::new().unwrap();
    dev.set_strategy(path).unwrap();
    dev.set_max_pack_bytes(limit);
    dev
}

#[test]
fn deep_reductions_and_image_chunks_match_the_twins() {
    // Enough pixels that grad weight splits K (implicit GEMM, texture GEMM) or spans many
    // windows (uniform path); then pack limits small enough that the CPU paths run the batch in
    // image chunks, grad weight accumulating across them.
    let c = Case { x: [8, 3, 20, 20], w: [4, 3, 3, 3], stride: 2, pad: 1, dil: 1, groups: 1 };
    for (dev, path) in gemm_devs() {
        check_passes(&c, dev, &format!("{path:?}"));
    }
    let (_, p) = setup(&c);
    let limit = 80_000;
    check_passes(&c, &limited(Strategy::CpuWindows, limit), "uniform, chunks");
    // On textures: two chunks of grad weight, the first split along K (partials summed into
    // dw), the second too shallow to split (the GEMM adds to dw itself).
    let per_call = conv_texture::images_per_call(&p, ConvPass::GradWeight, limit, 16384).unwrap();
    assert!(per_call > 1 && per_call < p.batch, "{per_call}");
    assert!(conv_texture::conv_texture(&p, ConvPass::GradWeight, 0, per_call).texture.splits > 1);
    assert_eq!(conv_texture::conv_texture(&p, ConvPass::GradWeight, per_call, p.batch - per_call).texture.splits, 1);
    check_passes(&c, &limited(Strategy::CpuTextures, limit), "texture, chunks");
}
#[test]
fn an_image_too_large_for_any_pack_is_refused_by_the_last_form_that_tried_it() {
    // The texture form declines an image whose packs exceed the limit, the windows form takes
    // the call and refuses it by name: an error, never a silent fallback or a panic.
    for strategy in [Strategy::CpuTextures, Strategy::CpuWindows] {
        let dev = limited(strategy, 1024);
        let x = Tensor::from_slice(&dev, &data(1, 2 * 3 * 16 * 16, -1.0, 1.0), &[2, 3, 16, 16]).unwrap();
        let w = Tensor::from_slice(&dev, &data(2, 4 * 3 * 3 * 3, -1.0, 1.0), &[4, 3, 3, 3]).unwrap();
        let e = x.conv2d(&w, None, &Conv2dOptions { padding: [1, 1], ..Default::default() }).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("conv2d") && msg.contains("exceeds 1024 bytes"), "{strategy}: {msg}");
    }
}

#[test]
fn stride_one_passes_read_shifted_copies_and_match_the_twins() {
    // Stride-1 passes whose padded grid is mostly output skip the im2col pack on the texture
    // path (`conv_shift`; output pixels per image are odd here, so no pass is held back as
    // store-bound): groups, dilation, unequal paddings (grad input's dy then sits off
    // the grid's corner), a kernel wider than tall, and image chunks small enough that each
    // copy holds part of the batch.
    let cases = [
        Case { x: [3, 4, 19, 19], w: [6, 2, 3, 3], stride: 1, pad: 1, dil: 1, groups: 2 },
        Case { x: [2, 3, 17, 23], w: [5, 3, 2, 3], stride: 1, pad: 0, dil: 2, groups: 1 },
        Case { x: [5, 2, 9, 10], w: [3, 2, 3, 3], stride: 1, pad: 3, dil: 1, groups: 1 },
    ];
    for (i, (c, small)) in cases.iter().zip([60_000, 60_000, 12_000]).enumerate() {
        let (_, p) = setup(c);
        for limit in [64 << 20, small] {
            let dev = limited(Strategy::CpuTextures, limit);
            dev.set_profiling(true);
            check_passes(c, &dev, &format!("case {i}, pack limit {limit}"));
            let kernels: Vec<String> = dev.profile().iter().map(|t| t.kernel.to_string()).collect();
            let passes = [ConvPass::Forward, ConvPass::GradInput, ConvPass::GradWeight];
            let shifted = passes.iter().filter(|&&pass| conv_shift::takes_shifted(&p, pass)).count();
            // Case 2's padding of 3 would crop dy on grad input's grid: that pass packs.
            assert_eq!(shifted, if i == 2 { 2 } else { 3 }, "case {i}");
            assert!(kernels.iter().any(|k| k == "conv_shift"), "case {i}: {kernels:?}");
            let per_call = passes.map(|pass| conv_texture::images_per_call(&p, pass, limit, 16384).unwrap());
            assert_eq!(per_call.iter().any(|&n| n < p.batch), limit == small, "case {i}: {per_call:?} images per call");
        }
    }
}

#[test]
fn conv_transpose2d_is_the_adjoint_of_conv2d() {
    // conv_transpose2d(x, w) with w [c_in, c_out/g, kh, kw] equals conv2d's grad input for the
    // conv from [n, c_out, H, W] to x's shape.
    let cases = [(1, 0, 0, 1), (2, 1, 1, 1), (3, 1, 2, 2)];
    for ((stride, pad, out_pad, groups), (dev, path)) in cases.into_iter().flat_map(|c| gemm_devs().map(|d| (c, d))) {
        let (n, c_in, h, wdt, c_out, k) = (2, 4, 5, 6, 6, 3);
        let x = data(stride as u64, n * c_in * h * wdt, -1.0, 1.0);
        let w = data(9, c_in * (c_out / groups) * k * k, -1.0, 1.0);
        let b = data(10, c_out, -1.0, 1.0);
        let tx = Tensor::from_slice(dev, &x, &[n, c_in, h, wdt]).unwrap();
        let tw = Tensor::from_slice(dev, &w, &[c_in, c_out / groups, k, k]).unwrap();
        let tb = Tensor::from_slice(dev, &b, &[c_out]).unwrap();
        let o = Conv2dOptions { stride: [stride; 2], padding: [pad; 2], groups, ..Default::default() };
        let y = tx.conv_transpose2d(&tw, Some(&tb), &o, [out_pad; 2]).unwrap();
        let oh = (h - 1) * stride - 2 * pad + (k - 1) + out_pad + 1;
        let ow = (wdt - 1) * stride - 2 * pad + (k - 1) + out_pad + 1;
        assert_eq!(y.shape(), &[n, c_out, oh, ow]);
        let g = ConvGeometry { stride: [stride; 2], padding: [pad; 2], dilation: [1, 1], groups };
        let mut p = ConvParams::new([n, c_out, oh, ow], [c_in, c_out / groups, k, k], [h, wdt], &g);
        p.has_bias = 1;
        let want = reference::conv2d_grad_input(&p, &x, &w, Some(&b));
        let kk = (c_in / groups) * k * k;
        assert_close(
            &y.to_vec::<f32>().unwrap(),
            &want,
            gemm_tol(kk),
            gemm_tol(kk),
            &format!("transpose s{stride} p{pad} op{out_pad} g{groups}, {path:?}"),
        );
    }
}
