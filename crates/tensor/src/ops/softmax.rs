//! Softmax and log-softmax over any axis, their backward maps (for the autograd crate), and the
//! fused log-softmax + cross-entropy with sparse labels, class weights and label smoothing.
//!
//! Shape contract: the kernels work on contiguous `[rows, cols]` over the last axis. Another
//! axis is moved last (permute + one contiguous copy), and the result is permuted back, so it is
//! a (non-contiguous) view with the input's shape. Cross-entropy takes logits `[n, c]` and
//! labels `[n]` (u32 or i32). Only the label named by `ignore_index` is skipped; any other
//! label outside `0..c` (a negative i32, `u32::MAX`, `c`) is refused: a device-side check
//! records it and the next read-back returns [`TensorError::IndexOutOfRange`] naming it.
//!
//! Mixed precision: f16 inputs are read in f32, and softmax, log-softmax, their gradients,
//! the losses and the logits' gradient are f32 (as under PyTorch's autocast).
//!
//! ```no_run
//! use wgtrain_tensor::{Device, Tensor, XentOptions};
//! # fn main() -> wgtrain_tensor::Result<()> {
//! let dev = Device::new()?;
//! let logits = Tensor::from_slice(&dev, &[2.0f32, 0.5, -1.0, 0.0, 3.0, 1.0], &[2, 3])?;
//! let labels = Tensor::from_slice(&dev, &[0u32, 1], &[2])?;
//! let opts = XentOptions { label_smoothing: 0.1, ..XentOptions::default() };
//! let loss = logits.cross_entropy_mean(&labels, &opts)?; // shape []
//! let up = Tensor::full(&dev, &[2], 0.5)?; // d mean / d loss_i = 1 / n
//! let dlogits = logits.cross_entropy_grad(&labels, &up, &opts)?; // [2, 3]
//! # let _ = (loss, dlogits);
//! # Ok(()) }
//! ```

use wgtrain_kernels::KernelSpec;
use wgtrain_kernels::ops::fault::FaultOp;
use wgtrain_kernels::ops::softmax::{self as sm, SoftmaxParams};
use wgtrain_kernels::ops::softmax_xent::{self as xent, XentParams};

use super::ignore_bits;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::shape::axis;
use crate::tensor::Tensor;

/// Dense logits and labels, dense class weights if any, and the kernel params.
type XentInputs = (Tensor, Tensor, Option<Tensor>, XentParams);

/// Options of the cross-entropy ops (PyTorch semantics). `Default`: no weights, no smoothing,
/// no ignored label.
#[derive(Debug, Clone, Copy, Default)]
pub struct XentOptions<'a> {
    /// Per-class weights `[c]`: `loss_i` is scaled by `w[y_i]` (and the smoothing term by `w_j`).
    pub class_weights: Option<&'a Tensor>,
    /// eps in [0, 1]: the target is (1 - eps) one_hot(y) + eps / c.
    pub label_smoothing: f32,
    /// The one label value to skip (zero loss, weight and gradient; the mean is over the other
    /// samples), e.g. a padding label. `None` (the default, as Keras' `ignore_class`) skips
    /// nothing. PyTorch's default is -100; we default to `None` because a Keras user does not
    /// expect any label to vanish silently, and -100 in i32 labels is usually a bug, which is
    /// then reported. A value no label of the dtype can equal (e.g. -100 for u32) skips nothing.
    pub ignore_index: Option<i64>,
}

impl Tensor {
    /// Runs a row kernel over `axis` of `inputs` (all of `inputs[0]`'s shape).
    fn along_axis(
        inputs: &[&Tensor],
        ax: isize,
        log: bool,
        kernel: &'static KernelSpec,
        name: &'static str,
    ) -> Result<Tensor> {
        if inputs.iter().any(|t| t.dtype() == DType::F16) {
            // f16 rows are softmaxed in f32 (and stay f32, as under PyTorch's autocast).
            let wide: Vec<Tensor> = inputs.iter().map(|t| t.widened(name)).collect::<Result<_>>()?;
            let refs: Vec<&Tensor> = wide.iter().collect();
            return Tensor::along_axis(&refs, ax, log, kernel, name);
        }
        let x = inputs[0];
        for t in inputs {
            t.expect_dtype(name, DType::F32)?;
            x.same_device(name, t)?;
            if t.shape != x.shape {
                return Err(TensorError::Incompatible {
                    op: name,
                    lhs: x.shape.clone(),
                    rhs: t.shape.clone(),
                    why: "y and dy must have the same shape".into(),
                });
            }
        }
        if x.rank() == 0 {
            let flat: Vec<Tensor> = inputs.iter().map(|t| t.reshape(&[1])).collect::<Result<_>>()?;
            let refs: Vec<&Tensor> = flat.iter().collect();
            return Tensor::along_axis(&refs, 0, log, kernel, name)?.reshape(&[]);
        }
        let a = axis(name, ax, x.rank())?;
        let mut perm: Vec<usize> = (0..x.rank()).filter(|&d| d != a).collect();
        perm.push(a);
        let moved: Vec<Tensor> = inputs.iter().map(|t| t.permute(&perm)?.dense()).collect::<Result<_>>()?;
        let out = Tensor::empty(x.device(), &moved[0].shape, DType::F32)?;
        let cols = x.shape[a];
        if !out.is_empty() {
            let p = SoftmaxParams { rows: (x.len() / cols) as u32, cols: cols as u32, log: log as u32, _pad: 0 };
            let second = moved.get(1).unwrap_or(&moved[0]);
            x.device().dispatch(&sm::launch(kernel, &p), &[moved[0].binding(), second.binding(), out.binding()])?;
        }
        let mut inverse = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        out.permute(&inverse)
    }

    /// softmax along `axis`: e^(x - max) / sum e^(x - max).
    pub fn softmax(&self, axis: isize) -> Result<Tensor> {
        Tensor::along_axis(&[self], axis, false, &sm::SOFTMAX, "softmax")
    }
    /// log_softmax along `axis`: x - max - log sum e^(x - max).
    pub fn log_softmax(&self, axis: isize) -> Result<Tensor> {
        Tensor::along_axis(&[self], axis, true, &sm::SOFTMAX, "log_softmax")
    }
    /// Gradient of softmax: y (dy - sum(dy y)) along `axis`, with y = softmax(x) (self).
    pub fn softmax_backward(&self, dy: &Tensor, axis: isize) -> Result<Tensor> {
        Tensor::along_axis(&[self, dy], axis, false, &sm::SOFTMAX_BACKWARD, "softmax_backward")
    }
    /// Gradient of log_softmax: dy - e^y sum(dy) along `axis`, with y = log_softmax(x) (self).
    pub fn log_softmax_backward(&self, dy: &Tensor, axis: isize) -> Result<Tensor> {
        Tensor::along_axis(&[self, dy], axis, true, &sm::SOFTMAX_BACKWARD, "log_softmax_backward")
    }

    /// Validates logits (self), labels and options; returns dense operands and the params.
    /// f16 logits are read in f32 (a cast): the loss and its gradient are f32.
    fn xent_inputs(&self, labels: &Tensor, o: &XentOptions, name: &'static str) -> Result<XentInputs> {
        self.expect_float(name)?;
        self.same_device(name, labels)?;
        let [n, c] = <[usize; 2]>::try_from(self.shape.as_slice()).map_err(|_| TensorError::Shape {
            op: name,
            expected: "logits of rank 2 [n, c]".into(),
            got: self.shape.clone(),
        })?;
        if !matches!(labels.dtype(), DType::U32 | DType::I32) {
            return Err(TensorError::DType { op: name, expected: DType::U32, got: labels.dtype() });
        }
        if labels.shape != [n] {
            let expected = format!("labels of shape [{n}]");
            return Err(TensorError::Shape { op: name, expected, got: labels.shape.clone() });
        }
        if !(0.0..=1.0).contains(&o.label_smoothing) {
            let why = format!("label_smoothing {} is not in [0, 1]", o.label_smoothing);
            return Err(TensorError::Argument { op: name, why });
        }
        let w = match o.class_weights {
            Some(w) => {
                w.expect_dtype(name, DType::F32)?;
                self.same_device(name, w)?;
                if w.shape != [c] {
                    let expected = format!("class weights of shape [{c}]");
                    return Err(TensorError::Shape { op: name, expected, got: w.shape.clone() });
                }
                Some(w.dense()?)
            }
            None => None,
        };
        let ignore = ignore_bits(o.ignore_index, labels.dtype());
        let p = XentParams {
            n: n as u32,
            c: c as u32,
            has_weights: w.is_some() as u32,
            smoothing: o.label_smoothing,
            has_ignore: ignore.is_some() as u32,
            ignore: ignore.unwrap_or(0),
            _pad: [0; 2],
        };
        let labels = labels.dense()?;
        if c > 0 {
            labels.check_indices(FaultOp::CrossEntropy, c, ignore)?;
        }
        Ok((self.widened(name)?.dense()?, labels, w, p))
    }

    /// Per-sample losses `[n]` and the weight of each sample's label `[n]` (1 without class
    /// weights, 0 for the ignored label): the weighted mean loss is sum(loss) / sum(weight).
    /// A label outside `0..c` other than `ignore_index` makes the next read-back fail with
    /// [`TensorError::IndexOutOfRange`] (the check runs on the device: nothing waits here).
    pub fn cross_entropy_parts(&self, labels: &Tensor, o: &XentOptions) -> Result<(Tensor, Tensor)> {
        let (x, y, w, p) = self.xent_inputs(labels, o, "cross_entropy")?;
        let loss = Tensor::empty(self.device(), &[p.n as usize], DType::F32)?;
        let wy = Tensor::empty(self.device(), &[p.n as usize], DType::F32)?;
        if p.n > 0 && p.c > 0 {
            let wb = w.as_ref().unwrap_or(&x).binding();
            let b = [x.binding(), y.binding(), wb, loss.binding(), wy.binding()];
            self.device().dispatch(&xent::launch_pass(false, &p), &b)?;
        } else if p.n > 0 {
            let expected = "at least one class".into();
            return Err(TensorError::Shape { op: "cross_entropy", expected, got: self.shape.clone() });
        }
        Ok((loss, wy))
    }

    /// Per-sample cross-entropy `[n]` of logits `[n, c]` (self) against `labels` `[n]`:
    /// loss_i = -sum_j t_j w_j log_softmax(x_i)_j with t = (1 - eps) one_hot(y_i) + eps / c.
    /// The label `ignore_index` gets loss 0, weight 0, gradient 0; any other label outside
    /// `0..c` (or negative, as i32) is reported by the next read-back, as
    /// [`cross_entropy_parts`](Self::cross_entropy_parts) says.
    pub fn cross_entropy_with_logits(&self, labels: &Tensor, o: &XentOptions) -> Result<Tensor> {
        Ok(self.cross_entropy_parts(labels, o)?.0)
    }

    /// Mean cross-entropy, shape `[]`: `sum_i loss_i / sum_i w[y_i]` (= / n without weights and
    /// ignored labels), as PyTorch's `reduction="mean"`; NaN when every label is ignored.
    pub fn cross_entropy_mean(&self, labels: &Tensor, o: &XentOptions) -> Result<Tensor> {
        let (loss, wy) = self.cross_entropy_parts(labels, o)?;
        loss.sum_all()?.div(&wy.sum_all()?)
    }

    /// Gradient of the per-sample losses w.r.t. the logits (self), scaled row-wise by
    /// `upstream` `[n]`: dlogits_ij = up_i (softmax_ij W_i - t_ij w_j) with
    /// W_i = sum_k t_ik w_k. For the mean loss pass `up_i = g / sum_k w[y_k]`.
    pub fn cross_entropy_grad(&self, labels: &Tensor, upstream: &Tensor, o: &XentOptions) -> Result<Tensor> {
        let name = "cross_entropy_grad";
        let (x, y, w, p) = self.xent_inputs(labels, o, name)?;
        upstream.expect_dtype(name, DType::F32)?;
        self.same_device(name, upstream)?;
        if upstream.shape != [p.n as usize] {
            let expected = format!("upstream of shape [{}]", p.n);
            return Err(TensorError::Shape { op: name, expected, got: upstream.shape.clone() });
        }
        let up = upstream.dense()?;
        let out = Tensor::empty(self.device(), &self.shape, DType::F32)?;
        if !out.is_empty() {
            let wb = w.as_ref().unwrap_or(&x).binding();
            let b = [x.binding(), y.binding(), wb, up.binding(), out.binding()];
            self.device().dispatch(&xent::launch_pass(true, &p), &b)?;
        }
        Ok(out)
    }
}
