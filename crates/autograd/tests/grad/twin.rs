//! The f64 reference forwards of the gradchecks: each runs the kernels' CPU twin
//! (`wgtrain_kernels::reference`) on row-major host data, building the same params struct the
//! GPU launcher builds. View ops (permute, slice, broadcast) are index arithmetic on the host.

use wgtrain_kernels::ops::conv::{ConvGeometry, ConvParams, out_extent};
use wgtrain_kernels::ops::index::IndexParams;
use wgtrain_kernels::ops::map::{MapParams, Operand};
use wgtrain_kernels::ops::matmul::MatmulParams;
use wgtrain_kernels::ops::norm::NormParams;
use wgtrain_kernels::ops::pool::PoolParams;
use wgtrain_kernels::ops::reduce::ReduceOp;
use wgtrain_kernels::ops::softmax::SoftmaxParams;
use wgtrain_kernels::ops::softmax_xent::XentParams;
use wgtrain_kernels::reference as r;
use wgtrain_tensor::{BinaryOp, UnaryOp};

pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// NumPy broadcast of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Vec<usize> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
            let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
            da.max(db)
        })
        .collect()
}

/// The operand of a row-major `shape` read as broadcast to `out` (zero strides where stretched).
fn operand(shape: &[usize], out: &[usize]) -> Operand {
    let s = strides(shape);
    let lead = out.len() - shape.len();
    let st = (0..out.len()).map(|i| if i < lead || shape[i - lead] == 1 { 0 } else { s[i - lead] }).collect();
    Operand { offset: 0, strides: st }
}

pub fn unary(op: UnaryOp, a: f64, b: f64, x: &[f64]) -> Vec<f64> {
    x.iter().map(|&v| r::unary_scalar(op, v, a, b)).collect()
}

pub fn binary(op: BinaryOp, a: &[f64], ash: &[usize], b: &[f64], bsh: &[usize]) -> Vec<f64> {
    let out = broadcast(ash, bsh);
    let p = MapParams::new(&out, &[operand(ash, &out), operand(bsh, &out)], op as u32, 0.0, 0.0);
    r::binary::<f64>(&p, a, b)
}

/// `cond != 0 ? a : b` with all three broadcast.
pub fn where_(cond: &[f64], csh: &[usize], a: &[f64], ash: &[usize], b: &[f64], bsh: &[usize]) -> Vec<f64> {
    let out = broadcast(&broadcast(ash, bsh), csh);
    let ops = [operand(ash, &out), operand(bsh, &out), operand(csh, &out)];
    r::ternary::<f64>(&MapParams::new(&out, &ops, 0, 0.0, 0.0), a, b, cond)
}

/// `[batch, m, k] @ [batch or 1, k, n]` (+ bias `[n]`, activation), row-major.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    a: &[f64],
    b: &[f64],
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    b_batched: bool,
    bias: Option<&[f64]>,
    act: UnaryOp,
    alpha: f32,
) -> Vec<f64> {
    let u = |v: usize| v as u32;
    let p = MatmulParams {
        m: u(m),
        n: u(n),
        k: u(k),
        batch: u(batch),
        a_off: 0,
        a_rs: u(k),
        a_cs: 1,
        a_bs: u(m * k),
        b_off: 0,
        b_rs: u(n),
        b_cs: 1,
        b_bs: if b_batched { u(k * n) } else { 0 },
        bias_off: 0,
        has_bias: bias.is_some() as u32,
        act: act as u32,
        alpha,
    };
    r::matmul::<f64>(&p, a, b, bias)
}

pub fn conv_geometry(stride: usize, pad: usize, dil: usize, groups: usize) -> ConvGeometry {
    ConvGeometry { stride: [stride; 2], padding: [pad; 2], dilation: [dil; 2], groups }
}

/// conv2d forward of x `[n, c, h, w]`, w `[oc, c / g, kh, kw]`.
pub fn conv2d(
    x: &[f64],
    xs: [usize; 4],
    w: &[f64],
    ws: [usize; 4],
    bias: Option<&[f64]>,
    g: &ConvGeometry,
) -> Vec<f64> {
    let oh = out_extent(xs[2], ws[2], g.stride[0], g.padding[0], g.dilation[0]).unwrap();
    let ow = out_extent(xs[3], ws[3], g.stride[1], g.padding[1], g.dilation[1]).unwrap();
    let mut p = ConvParams::new(xs, ws, [oh, ow], g);
    p.has_bias = bias.is_some() as u32;
    r::conv2d_forward::<f64>(&p, x, w, bias)
}

/// conv_transpose2d of x `[n, c_in, h, w]`, w `[c_in, c_out / g, k, k]`: the conv grad-input
/// twin with the roles of input and output swapped.
pub fn conv_transpose2d(
    x: &[f64],
    xs: [usize; 4],
    w: &[f64],
    ws: [usize; 4],
    bias: Option<&[f64]>,
    g: &ConvGeometry,
    out_pad: usize,
) -> Vec<f64> {
    let oh = (xs[2] - 1) * g.stride[0] + g.dilation[0] * (ws[2] - 1) + out_pad + 1 - 2 * g.padding[0];
    let ow = (xs[3] - 1) * g.stride[1] + g.dilation[1] * (ws[3] - 1) + out_pad + 1 - 2 * g.padding[1];
    let c_out = ws[1] * g.groups;
    let mut p = ConvParams::new([xs[0], c_out, oh, ow], [xs[1], ws[1], ws[2], ws[3]], [xs[2], xs[3]], g);
    p.has_bias = bias.is_some() as u32;
    r::conv2d_grad_input::<f64>(&p, x, w, bias)
}

pub fn pool_params(xs: [usize; 4], k: usize, stride: usize, pad: usize) -> PoolParams {
    PoolParams::new(xs[0] * xs[1], [xs[2], xs[3]], [k; 2], [stride; 2], [pad; 2]).unwrap()
}

pub fn max_pool2d(x: &[f64], p: &PoolParams) -> Vec<f64> {
    r::max_pool2d_forward::<f64>(p, x).0
}

pub fn avg_pool2d(x: &[f64], p: &PoolParams) -> Vec<f64> {
    r::avg_pool2d_forward::<f64>(p, x)
}

pub fn global_avg_pool2d(x: &[f64], xs: [usize; 4]) -> Vec<f64> {
    r::global_avg_pool_forward::<f64>(&PoolParams::global(xs[0] * xs[1], [xs[2], xs[3]]), x)
}

pub fn layer_norm(x: &[f64], rows: usize, d: usize, gamma: Option<&[f64]>, beta: Option<&[f64]>) -> Vec<f64> {
    r::layer_norm_forward::<f64>(&NormParams::layer(rows, d, 1e-5), x, gamma, beta).y
}

pub fn batch_norm(x: &[f64], shape: &[usize], gamma: Option<&[f64]>, beta: Option<&[f64]>) -> Vec<f64> {
    let p = NormParams::batch(shape[0], shape[1], shape[2..].iter().product(), 1e-5);
    r::batch_norm_forward::<f64>(&p, x, gamma, beta).y
}

pub fn softmax(x: &[f64], rows: usize, cols: usize, log: bool) -> Vec<f64> {
    r::softmax::<f64>(&SoftmaxParams { rows: rows as u32, cols: cols as u32, log: log as u32, _pad: 0 }, x)
}

/// Per-sample losses and label weights.
pub fn cross_entropy(
    logits: &[f64],
    labels: &[u32],
    c: usize,
    weights: Option<&[f64]>,
    smoothing: f32,
) -> (Vec<f64>, Vec<f64>) {
    let n = labels.len();
    let p =
        XentParams { n: n as u32, c: c as u32, has_weights: weights.is_some() as u32, smoothing, ..Default::default() };
    r::xent_forward::<f64>(&p, logits, labels, weights)
}

/// `op` over the axes `axes` of a row-major `shape` (any axes: they are moved last first).
pub fn reduce(op: ReduceOp, x: &[f64], shape: &[usize], axes: &[usize]) -> Vec<f64> {
    let (moved, rows, r_len) = move_last(x, shape, axes);
    r::reduce::<f64>(op, &moved, rows, r_len, 1)
}

pub fn variance(x: &[f64], shape: &[usize], axes: &[usize], correction: f64) -> Vec<f64> {
    let (moved, rows, r_len) = move_last(x, shape, axes);
    r::variance::<f64>(&moved, rows, r_len, 1, correction)
}

/// x with `axes` moved last (kept axes in order), as `[rows, r]`.
fn move_last(x: &[f64], shape: &[usize], axes: &[usize]) -> (Vec<f64>, usize, usize) {
    let mut perm: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
    perm.extend(axes);
    let r_len: usize = axes.iter().map(|&a| shape[a]).product();
    (permute(x, shape, &perm), x.len() / r_len, r_len)
}

/// A strided view of row-major `x` read out row-major.
pub fn view(x: &[f64], shape: &[usize], st: &[usize], offset: usize) -> Vec<f64> {
    let n: usize = shape.iter().product();
    let out_st = strides(shape);
    (0..n)
        .map(|i| {
            let idx: usize = (0..shape.len()).map(|d| (i / out_st[d]) % shape[d] * st[d]).sum();
            x[offset + idx]
        })
        .collect()
}

pub fn permute(x: &[f64], shape: &[usize], perm: &[usize]) -> Vec<f64> {
    let s = strides(shape);
    let pshape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let pst: Vec<usize> = perm.iter().map(|&p| s[p]).collect();
    view(x, &pshape, &pst, 0)
}

pub fn slice(x: &[f64], shape: &[usize], axis: usize, start: usize, end: usize, step: usize) -> Vec<f64> {
    let s = strides(shape);
    let mut vshape = shape.to_vec();
    vshape[axis] = (end - start).div_ceil(step);
    let mut vst = s.clone();
    vst[axis] *= step;
    view(x, &vshape, &vst, start * s[axis])
}

pub fn broadcast_to(x: &[f64], shape: &[usize], out: &[usize]) -> Vec<f64> {
    view(x, out, &operand(shape, out).strides, 0)
}

/// Constant padding of row-major x.
pub fn pad(x: &[f64], shape: &[usize], pads: &[(usize, usize)], value: f64) -> Vec<f64> {
    let out: Vec<usize> = shape.iter().zip(pads).map(|(&e, &(lo, hi))| e + lo + hi).collect();
    let ost = strides(&out);
    let ist = strides(shape);
    let mut y = vec![value; out.iter().product()];
    for (i, &v) in x.iter().enumerate() {
        let o: usize = (0..shape.len()).map(|d| ((i / ist[d]) % shape[d] + pads[d].0) * ost[d]).sum();
        y[o] = v;
    }
    y
}

/// Concatenation of row-major parts along `axis`.
pub fn concat(parts: &[(&[f64], &[usize])], axis: usize) -> Vec<f64> {
    let outer: usize = parts[0].1[..axis].iter().product();
    let mut y = Vec::new();
    for o in 0..outer {
        for (x, shape) in parts {
            let chunk: usize = shape[axis..].iter().product();
            y.extend_from_slice(&x[o * chunk..(o + 1) * chunk]);
        }
    }
    y
}

/// `torch.gather` along `axis` of a row-major `shape` with an index of `ishape`.
pub fn gather(x: &[f64], shape: &[usize], axis: usize, idx: &[u32], ishape: &[usize]) -> Vec<f64> {
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    r::gather::<f64>(&IndexParams::gather(outer, shape[axis], ishape[axis], inner), idx, x)
}

pub fn embedding(table: &[f64], vocab: usize, dim: usize, ids: &[u32]) -> Vec<f64> {
    r::embedding::<f64>(&IndexParams::embedding(ids.len(), vocab, dim), ids, table)
}
