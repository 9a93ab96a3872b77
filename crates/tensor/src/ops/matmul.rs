//! Batched matmul with a fused bias + activation epilogue.
//!
//! Operands are read through their strides, so `a.transpose(-1, -2)?.matmul(&b)` never
//! materializes the transpose; batch dimensions broadcast (NumPy `matmul` rules) and are
//! passed as one batch stride when they collapse to one, else copied once.
//!
//! Four GEMM forms share this contract and the planner orders them (`plan.rs`): the
//! workgroup-tiled core (`gemm_tiled.wgsl`) on GPUs, after cooperative matrices
//! (`matmul_coop.wgsl`, f16 only) where the device verified them; on software adapters whole
//! operands copied into textures where their strides allow, else packed panels read through
//! uniform windows (both in the `cpu` wing).

use wgtrain_kernels::ops::map::{Operand, UnaryOp, collapse};
use wgtrain_kernels::ops::matmul::{self, GemmPrecision, MatmulParams, fusable_activation};

use super::gemm_precision;
use crate::coop::CoopStatus;
use crate::cpu;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::plan::GemmForm;
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;

/// Epilogue of [`Tensor::matmul_with`].
#[derive(Debug, Clone, Default)]
pub struct MatmulOptions<'a> {
    /// Added to every row: shape `[n]`.
    pub bias: Option<&'a Tensor>,
    /// Applied last; `None` for identity.
    pub activation: Option<UnaryOp>,
    /// The activation's scalar (leaky_relu slope, elu alpha).
    pub alpha: f32,
    /// The output's dtype: by default the operands'. f16 operands may ask for f32 (a product
    /// kept in f32 for what follows); the sum is f32 either way.
    pub out_dtype: Option<DType>,
}

impl Tensor {
    /// `self @ rhs` for `[..., m, k] @ [..., k, n]`.
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.matmul_with(rhs, MatmulOptions::default())
    }

    /// `act(self @ rhs + bias)` in one kernel. Operands (and the bias) are f32, or f16 for
    /// mixed precision (the adapter needs `SHADER_F16`): products and sums are f32 either way,
    /// and the output is rounded once to [`MatmulOptions::out_dtype`].
    pub fn matmul_with(&self, rhs: &Tensor, opts: MatmulOptions<'_>) -> Result<Tensor> {
        let op = "matmul";
        self.same_device(op, rhs)?;
        let precision = gemm_precision(op, self, rhs, opts.out_dtype)?;
        let out_dtype = opts.out_dtype.unwrap_or(self.dtype());
        if self.rank() < 2 || rhs.rank() < 2 {
            return Err(TensorError::Incompatible {
                op,
                lhs: self.shape.clone(),
                rhs: rhs.shape.clone(),
                why: "both operands need rank >= 2".into(),
            });
        }
        let (m, k) = (self.shape[self.rank() - 2], self.shape[self.rank() - 1]);
        let (k2, n) = (rhs.shape[rhs.rank() - 2], rhs.shape[rhs.rank() - 1]);
        if k != k2 {
            return Err(TensorError::Incompatible {
                op,
                lhs: self.shape.clone(),
                rhs: rhs.shape.clone(),
                why: format!("inner dimensions differ: {k} vs {k2}"),
            });
        }
        let act = opts.activation.unwrap_or(UnaryOp::Identity);
        if !fusable_activation(act) {
            return Err(TensorError::Argument { op, why: format!("{act:?} cannot be fused into matmul") });
        }
        let batch_shape = broadcast_shapes(op, &self.shape[..self.rank() - 2], &rhs.shape[..rhs.rank() - 2])?;
        let (a, a_bs) = batched(self, &batch_shape)?;
        let (b, b_bs) = batched(rhs, &batch_shape)?;
        let batch: usize = batch_shape.iter().product();
        // The kernels take u32 extents: a broadcast (stride-0) operand can have an extent no
        // buffer limit catches, which would otherwise wrap silently.
        if [m, n, k, batch].iter().any(|&d| d > u32::MAX as usize) {
            let why = format!("extents m {m}, n {n}, k {k}, batch {batch} must each be < 2^32");
            return Err(TensorError::Argument { op, why });
        }
        let mut out_shape = batch_shape.clone();
        out_shape.extend([m, n]);
        let out = Tensor::empty(self.device(), &out_shape, out_dtype)?;
        if out.is_empty() {
            return Ok(out);
        }
        let bias = match opts.bias {
            Some(bias) => {
                if bias.shape != [n] {
                    return Err(TensorError::Shape {
                        op: "matmul bias",
                        expected: format!("[{n}]"),
                        got: bias.shape.clone(),
                    });
                }
                bias.expect_dtype(op, self.dtype())?;
                Some(bias.contiguous()?)
            }
            None => None,
        };
        if k == 0 {
            // An empty inner sum is 0, as in NumPy and PyTorch; the bias and activation still
            // apply. The GEMM kernels assume k >= 1.
            let zero = Tensor::zeros(self.device(), &out_shape, DType::F32)?;
            let pre = match &bias {
                Some(bias) => zero.add(&bias.cast(DType::F32)?)?,
                None => zero,
            };
            return pre.unary(act, opts.alpha, 0.0)?.cast(out_dtype);
        }
        let (ar, br) = (a.rank(), b.rank());
        let p = MatmulParams {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            batch: batch as u32,
            a_off: a.offset as u32,
            a_rs: a.strides[ar - 2] as u32,
            a_cs: a.strides[ar - 1] as u32,
            a_bs: a_bs as u32,
            b_off: b.offset as u32,
            b_rs: b.strides[br - 2] as u32,
            b_cs: b.strides[br - 1] as u32,
            b_bs: b_bs as u32,
            bias_off: bias.as_ref().map_or(0, |t| t.offset as u32),
            has_bias: bias.is_some() as u32,
            act: act as u32,
            alpha: opts.alpha,
        };
        // With no bias, any buffer fills the unused binding.
        let bias_binding = bias.as_ref().unwrap_or(&a).binding();
        let dev = self.device();
        dev.serve_gemm(op, |form| match form {
            // f16 only, on a device whose check passed (the first f16 call runs the check).
            GemmForm::Coop => match matmul::launch_coop(&p, precision) {
                Some(launch) if matches!(dev.coop(), CoopStatus::Verified { .. }) => {
                    dev.dispatch(&launch, &[a.binding(), b.binding(), bias_binding, out.binding()])?;
                    Ok(true)
                }
                _ => Ok(false),
            },
            GemmForm::Tiled => {
                let launch = matmul::launch(&p, dev.gemm_tiles(), precision);
                dev.dispatch(&launch, &[a.binding(), b.binding(), bias_binding, out.binding()])?;
                Ok(true)
            }
            // The software adapters' GEMMs are f32 only: they decline f16, which the tiled
            // form then serves.
            GemmForm::Textures if precision == GemmPrecision::F32 => {
                cpu::matmul_textures(&p, &a, &b, bias_binding, &out)
            }
            GemmForm::Windows if precision == GemmPrecision::F32 => {
                cpu::matmul_windows(&p, &a, &b, bias_binding, &out).map(|()| true)
            }
            GemmForm::Textures | GemmForm::Windows => Ok(false),
        })?;
        Ok(out)
    }
}

/// `t` with its batch dimensions broadcast to `batch_shape`, and the single stride that steps
/// through them (copying `t` when its batch dimensions do not collapse to one stride).
fn batched(t: &Tensor, batch_shape: &[usize]) -> Result<(Tensor, usize)> {
    let r = t.rank();
    let mut full = batch_shape.to_vec();
    full.extend(&t.shape[r - 2..]);
    let v = t.broadcast_to(&full)?;
    let nb = batch_shape.len();
    let batch_op = Operand { offset: 0, strides: v.strides[..nb].to_vec() };
    let (dims, strides) = collapse(batch_shape, &[batch_op]);
    if dims.len() == 1 {
        return Ok((v, strides[0][0] * (dims[0] > 1) as usize));
    }
    let c = v.copy()?;
    let m = c.shape[nb] * c.shape[nb + 1];
    Ok((c, m))
}
