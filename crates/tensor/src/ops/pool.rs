//! 2-D max / average pooling and global average pooling, NCHW, forward and backward
//! (`pool.wgsl`). Inputs are made contiguous at offset 0 first.
//!
//! Shape contract: x `[n, c, h, w]`, f32 or f16 (compared and summed in f32); y of x's dtype,
//! `[n, c, out_h, out_w]` with `out = (in + 2 padding - kernel) / stride + 1` (floor, no ceil
//! mode); `padding <= kernel / 2`.
//! Max pooling also returns u32 `indices` of y's shape: the flat index `h * w_in + w` of each
//! window's maximum within its input plane (padding never wins; the first maximum in row-major
//! window order wins ties; NaN propagates). Average pooling counts padded positions as zeros and
//! always divides by `kernel_h * kernel_w` (PyTorch's default `count_include_pad = True`).
//! Global average pooling maps `[n, c, h, w]` to `[n, c]`.

use wgtrain_kernels::ops::pool::{self, PoolParams};

use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::plan::{Streaming, TexturedForm};
use crate::tensor::Tensor;

/// Window geometry of a 2-D pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dOptions {
    /// Window size `[h, w]`.
    pub kernel: [usize; 2],
    /// Step `[h, w]` between windows.
    pub stride: [usize; 2],
    /// Padding `[h, w]` on both sides; at most `kernel / 2`.
    pub padding: [usize; 2],
}

impl Pool2dOptions {
    /// PyTorch's defaults: stride = kernel, no padding.
    pub fn new(kernel: [usize; 2]) -> Self {
        Pool2dOptions { kernel, stride: kernel, padding: [0, 0] }
    }
}

/// What max pooling returns.
#[derive(Debug, Clone)]
pub struct MaxPool2dOutput {
    /// Pooled output `[n, c, out_h, out_w]`.
    pub y: Tensor,
    /// u32, y's shape: flat index into the input plane of each window's maximum.
    pub indices: Tensor,
}

fn dims4(op: &'static str, what: &str, t: &Tensor) -> Result<[usize; 4]> {
    <[usize; 4]>::try_from(t.shape.as_slice()).map_err(|_| TensorError::Shape {
        op,
        expected: format!("a rank-4 {what} [n, c, h, w]"),
        got: t.shape.clone(),
    })
}

/// Validated params for input `x` `[n, c, h, w]`.
fn params(op: &'static str, x: [usize; 4], o: &Pool2dOptions) -> Result<PoolParams> {
    let bad = |why: String| Err(TensorError::Argument { op, why });
    if o.kernel.contains(&0) || o.stride.contains(&0) {
        return bad(format!("kernel {:?} and stride {:?} must be >= 1", o.kernel, o.stride));
    }
    if x[2] == 0 || x[3] == 0 {
        // Padding alone could still yield windows, but none would hold an input element.
        return bad(format!("input {x:?} has empty planes"));
    }
    if (0..2).any(|d| o.padding[d] > o.kernel[d] / 2) {
        return bad(format!("padding {:?} must be at most half the kernel {:?}", o.padding, o.kernel));
    }
    match PoolParams::new(x[0] * x[1], [x[2], x[3]], o.kernel, o.stride, o.padding) {
        Some(p) => Ok(p),
        None => bad(format!("kernel {:?} does not fit input {:?} with padding {:?}", o.kernel, x, o.padding)),
    }
}

fn out_shape(x: [usize; 4], p: &PoolParams) -> [usize; 4] {
    [x[0], x[1], p.out_h as usize, p.out_w as usize]
}

/// Checks dy (f32 or f16) against the output shape the forward would produce.
fn check_dy(op: &'static str, dy: &Tensor, want: &[usize]) -> Result<Tensor> {
    dy.expect_float(op)?;
    if dy.shape != want {
        return Err(TensorError::Shape { op, expected: format!("dy of shape {want:?}"), got: dy.shape.clone() });
    }
    dy.dense()
}

impl Tensor {
    /// 2-D max pooling of self `[n, c, h, w]`: values and argmax indices (see the module doc).
    ///
    /// ```
    /// # use wgtrain_tensor::{Device, Pool2dOptions, Tensor};
    /// # fn main() -> wgtrain_tensor::Result<()> {
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32, 5.0, 2.0, 5.0], &[1, 1, 2, 2])?;
    /// let out = x.max_pool2d(&Pool2dOptions::new([2, 2]))?;
    /// assert_eq!(out.y.to_vec::<f32>()?, vec![5.0]);
    /// assert_eq!(out.indices.to_vec::<u32>()?, vec![1]); // the first of the tied maxima
    /// # Ok(()) }
    /// ```
    pub fn max_pool2d(&self, o: &Pool2dOptions) -> Result<MaxPool2dOutput> {
        let op = "max_pool2d";
        let f16 = self.expect_float(op)?;
        let xd = dims4(op, "input", self)?;
        let p = params(op, xd, o)?;
        let dev = self.device();
        let y = Tensor::empty(dev, &out_shape(xd, &p), self.dtype())?;
        let indices = Tensor::empty(dev, &out_shape(xd, &p), DType::U32)?;
        if !y.is_empty() {
            let x = self.dense()?;
            // The texture forms read f32 texels only.
            let textured = (p.disjoint() && !f16).then_some(|| TexturedForm {
                launch: pool::texture_forward(&p),
                inputs: vec![&x],
                outputs: vec![y.vec4_binding(), indices.vec4_binding()],
            });
            let gpu =
                (pool::forward(pool::MAX_FORWARD.of(f16), &p), &[x.binding(), y.binding(), indices.binding()][..]);
            dev.run_streaming(Streaming { gpu, textured, texture_inputs: 1, elements: x.len() })?;
        }
        Ok(MaxPool2dOutput { y, indices })
    }

    /// Gradient of max pooling w.r.t. its input: self = dy, `indices` from the forward. Each
    /// input element gathers dy from the windows whose maximum it was (deterministic).
    pub fn max_pool2d_backward(&self, indices: &Tensor, input_shape: [usize; 4], o: &Pool2dOptions) -> Result<Tensor> {
        let op = "max_pool2d_backward";
        self.same_device(op, indices)?;
        let p = params(op, input_shape, o)?;
        let want = out_shape(input_shape, &p);
        let dy = check_dy(op, self, &want)?;
        indices.expect_dtype(op, DType::U32)?;
        if dims4(op, "indices", indices)? != want {
            return Err(TensorError::Shape {
                op,
                expected: format!("indices of shape {want:?}"),
                got: indices.shape.clone(),
            });
        }
        let idx = indices.dense()?;
        let dev = self.device();
        let f16 = dy.dtype() == DType::F16;
        let dx = Tensor::empty(dev, &input_shape, dy.dtype())?;
        if !dx.is_empty() {
            let textured = (p.disjoint() && !f16).then_some(|| TexturedForm {
                launch: pool::texture_backward(&p),
                inputs: vec![&dy, &idx],
                outputs: vec![dx.vec4_binding()],
            });
            let gpu =
                (pool::backward(pool::MAX_BACKWARD.of(f16), &p), &[dy.binding(), idx.binding(), dx.binding()][..]);
            dev.run_streaming(Streaming { gpu, textured, texture_inputs: 2, elements: dx.len() })?;
        }
        Ok(dx)
    }

    /// 2-D average pooling of self `[n, c, h, w]` (padding counts as zeros, divisor k_h k_w).
    pub fn avg_pool2d(&self, o: &Pool2dOptions) -> Result<Tensor> {
        let op = "avg_pool2d";
        let f16 = self.expect_float(op)?;
        let xd = dims4(op, "input", self)?;
        let p = params(op, xd, o)?;
        let y = Tensor::empty(self.device(), &out_shape(xd, &p), self.dtype())?;
        if !y.is_empty() {
            let x = self.dense()?;
            self.device().dispatch(&pool::forward(pool::AVG_FORWARD.of(f16), &p), &[x.binding(), y.binding()])?;
        }
        Ok(y)
    }

    /// Gradient of average pooling w.r.t. its input: self = dy.
    pub fn avg_pool2d_backward(&self, input_shape: [usize; 4], o: &Pool2dOptions) -> Result<Tensor> {
        let op = "avg_pool2d_backward";
        let p = params(op, input_shape, o)?;
        let dy = check_dy(op, self, &out_shape(input_shape, &p))?;
        let f16 = dy.dtype() == DType::F16;
        let dx = Tensor::empty(self.device(), &input_shape, dy.dtype())?;
        if !dx.is_empty() {
            let launch = pool::backward(pool::AVG_BACKWARD.of(f16), &p);
            self.device().dispatch(&launch, &[dy.binding(), dx.binding()])?;
        }
        Ok(dx)
    }

    /// Mean over each `[h, w]` plane: `[n, c, h, w]` to `[n, c]`.
    pub fn global_avg_pool2d(&self) -> Result<Tensor> {
        let op = "global_avg_pool2d";
        let f16 = self.expect_float(op)?;
        let xd = dims4(op, "input", self)?;
        if xd[2] * xd[3] == 0 {
            return Err(TensorError::Argument { op, why: format!("empty planes in input of shape {:?}", self.shape) });
        }
        let p = PoolParams::global(xd[0] * xd[1], [xd[2], xd[3]]);
        let y = Tensor::empty(self.device(), &xd[..2], self.dtype())?;
        if !y.is_empty() {
            let x = self.dense()?;
            self.device().dispatch(&pool::global_forward(&p, f16), &[x.binding(), y.binding()])?;
        }
        Ok(y)
    }

    /// Gradient of global average pooling: self = dy `[n, c]`, `dx = dy / (h w)` broadcast.
    pub fn global_avg_pool2d_backward(&self, input_shape: [usize; 4]) -> Result<Tensor> {
        let op = "global_avg_pool2d_backward";
        let dy = check_dy(op, self, &input_shape[..2])?;
        let p = PoolParams::global(input_shape[0] * input_shape[1], [input_shape[2], input_shape[3]]);
        let f16 = dy.dtype() == DType::F16;
        let dx = Tensor::empty(self.device(), &input_shape, dy.dtype())?;
        if !dx.is_empty() {
            self.device().dispatch(&pool::global_backward(&p, f16), &[dy.binding(), dx.binding()])?;
        }
        Ok(dx)
    }
}
