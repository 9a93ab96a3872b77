//! Batched matmul with a fused bias + activation epilogue.
//!
//! Operands are read through their strides, so `a.transpose(-1, -2)?.matmul(&b)` never
//! materializes the transpose; batch dimensions broadcast (NumPy `matmul` rules) and are
//! passed as one batch stride when they collapse to one, else copied once.
//!
//! Three GEMM forms share this contract (the planner orders them: `plan.rs`): the workgroup-tiled core on real
//! GPUs; on CPU adapters whole operands copied into textures (`gemm_texture`) where their
//! strides allow, else packed panels read through uniform windows (`gemm_uniform`).

use wgtrain_kernels::ops::c_layout::CLayout;
use wgtrain_kernels::ops::gemm_texture::{TextureOperand, TexturePlan};
use wgtrain_kernels::ops::gemm_uniform::{GemmPlan, GemmStep, PAIRS, WINDOW_FLOATS};
use wgtrain_kernels::ops::map::{Operand, UnaryOp, collapse};
use wgtrain_kernels::ops::matmul::{self, MatmulParams, fusable_activation};

use crate::device::Resource;
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
}

impl Tensor {
    /// `self @ rhs` for `[..., m, k] @ [..., k, n]`.
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.matmul_with(rhs, MatmulOptions::default())
    }

    /// `act(self @ rhs + bias)` in one kernel.
    pub fn matmul_with(&self, rhs: &Tensor, opts: MatmulOptions<'_>) -> Result<Tensor> {
        let op = "matmul";
        self.same_device(op, rhs)?;
        self.expect_dtype(op, DType::F32)?;
        rhs.expect_dtype(op, DType::F32)?;
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
        let out = Tensor::empty(self.device(), &out_shape, DType::F32)?;
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
                bias.expect_dtype(op, DType::F32)?;
                Some(bias.contiguous()?)
            }
            None => None,
        };
        if k == 0 {
            // An empty inner sum is 0, as in NumPy and PyTorch; the bias and activation still
            // apply. The GEMM kernels assume k >= 1.
            let zero = Tensor::zeros(self.device(), &out_shape, DType::F32)?;
            let pre = match &bias {
                Some(bias) => zero.add(bias)?,
                None => zero,
            };
            return pre.unary(act, opts.alpha, 0.0);
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
        for form in dev.gemm_forms() {
            match form {
                GemmForm::Textures => {
                    let max_height = dev.limits().max_texture_dimension_2d;
                    if let Some(plan) = TexturePlan::new(&p, max_height) {
                        texture_gemm(&plan, &a, &b, bias_binding, &out)?;
                        return Ok(out);
                    }
                    if let Some(([a_layout, b_layout], plan)) = realigned(&p, max_height) {
                        texture_gemm(&plan, &a_layout.copy(&a)?, &b_layout.copy(&b)?, bias_binding, &out)?;
                        return Ok(out);
                    }
                    // Declined: operands no copy makes texel-aligned; the next form takes them.
                }
                GemmForm::Windows => {
                    uniform_gemm(&p, &a, &b, bias_binding, &out)?;
                    return Ok(out);
                }
                GemmForm::Tiled => {
                    let launch = matmul::launch(&p, dev.gemm_tiles());
                    dev.dispatch(&launch, &[a.binding(), b.binding(), bias_binding, out.binding()])?;
                    return Ok(out);
                }
            }
        }
        Err(TensorError::Argument { op, why: "no GEMM form of this device serves this call".into() })
    }
}

/// How an operand the texture GEMM cannot read in place is copied so that it can: the texture
/// needs four consecutive elements of a row or a column in one texel, so a matrix whose rows
/// are misaligned (the 10 columns of a classifier's weights) is copied column-major instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relayout {
    /// Read in place.
    Keep,
    /// Copied row-major.
    Rows,
    /// Copied column-major (a contiguous transpose, viewed back).
    Columns,
}

impl Relayout {
    /// `t` laid out as `self`: a copy holds every batch (broadcast ones included) from offset 0,
    /// with the strides [`Relayout::strides`] promises.
    fn copy(self, t: &Tensor) -> Result<Tensor> {
        match self {
            Relayout::Keep => Ok(t.clone()),
            Relayout::Rows => t.copy(),
            Relayout::Columns => t.transpose(-1, -2)?.copy()?.transpose(-1, -2),
        }
    }

    /// `(offset, row stride, column stride, batch stride)` of an operand of `rows x cols`, given
    /// them `kept` in place, after the copy.
    fn strides(self, kept: [u32; 4], [rows, cols]: [u32; 2]) -> [u32; 4] {
        match self {
            Relayout::Keep => kept,
            Relayout::Rows => [0, cols, 1, rows * cols],
            Relayout::Columns => [0, 1, rows, rows * cols],
        }
    }
}

/// The fewest copies (A's, B's or both) after which `p` fits the texture GEMM, with the plan
/// over the copies, or `None`.
fn realigned(p: &MatmulParams, max_height: u32) -> Option<([Relayout; 2], TexturePlan)> {
    use Relayout::{Columns, Keep, Rows};
    let choices = [
        [Keep, Rows],
        [Keep, Columns],
        [Rows, Keep],
        [Columns, Keep],
        [Rows, Rows],
        [Rows, Columns],
        [Columns, Rows],
        [Columns, Columns],
    ];
    choices.into_iter().find_map(|[a, b]| {
        let [a_off, a_rs, a_cs, a_bs] = a.strides([p.a_off, p.a_rs, p.a_cs, p.a_bs], [p.m, p.k]);
        let [b_off, b_rs, b_cs, b_bs] = b.strides([p.b_off, p.b_rs, p.b_cs, p.b_bs], [p.k, p.n]);
        let q = MatmulParams { a_off, a_rs, a_cs, a_bs, b_off, b_rs, b_cs, b_bs, ..*p };
        TexturePlan::new(&q, max_height).map(|plan| ([a, b], plan))
    })
}

/// `out = act(a . b + bias)` on the texture path: copy both operands into textures, then one
/// dispatch.
fn texture_gemm(plan: &TexturePlan, a: &Tensor, b: &Tensor, bias: (&wgpu::Buffer, u64), out: &Tensor) -> Result<()> {
    let dev = out.device();
    let texture = |t: &Tensor, op: &TextureOperand| dev.operand_texture(t.binding().0, op.first, op.texels);
    let (ta, tb) = (texture(a, &plan.a)?, texture(b, &plan.b)?);
    let (c, c_bytes) = out.binding();
    dev.dispatch_resources(
        &plan.launch,
        &[
            Resource::Texture(&ta.view),
            Resource::Texture(&tb.view),
            Resource::Buffer((bias.0, 0, bias.1)),
            Resource::Buffer((c, 0, c_bytes)),
        ],
    )?;
    dev.recycle_texture(ta);
    dev.recycle_texture(tb);
    Ok(())
}

/// `out = act(a . b + bias)` on the CPU-adapter path: pack both operands into windows, then one
/// GEMM dispatch per (batch, C tile, chunk of `PAIRS` k-windows).
fn uniform_gemm(p: &MatmulParams, a: &Tensor, b: &Tensor, bias: (&wgpu::Buffer, u64), out: &Tensor) -> Result<()> {
    let dev = out.device();
    let plan = GemmPlan::new(p, dev.limits().min_uniform_buffer_offset_alignment);
    let packed_a = Tensor::empty(dev, &[plan.a.elements() as usize], DType::F32)?;
    let packed_b = Tensor::empty(dev, &[plan.b.elements() as usize], DType::F32)?;
    let [pack_a, pack_b] = plan.packs(p);
    for (pack, src, dst) in [(&pack_a, a, &packed_a), (&pack_b, b, &packed_b)] {
        let (buffer, bytes) = src.binding();
        // The vec4 view covers whole vec4s (pool buffers are multiples of 256 bytes).
        let bytes4 = bytes.next_multiple_of(16).min(buffer.size());
        let (out, out_bytes) = dst.binding();
        dev.dispatch_ranges(pack, &[(buffer, 0, bytes), (out, 0, out_bytes), (buffer, 0, bytes4)])?;
    }
    run_steps(&plan.steps(p, &CLayout::matmul(p)), &packed_a, &packed_b, bias, out)
}

/// Records the GEMM dispatches of a uniform-window plan over packed operands (shared with the
/// convolutions, whose packs are their im2col).
pub(crate) fn run_steps(
    steps: &[GemmStep],
    packed_a: &Tensor,
    packed_b: &Tensor,
    bias: (&wgpu::Buffer, u64),
    out: &Tensor,
) -> Result<()> {
    let dev = out.device();
    let (wa, wb) = (packed_a.binding().0, packed_b.binding().0);
    let (c, c_bytes) = out.binding();
    let window = |buffer, at: u64| (buffer, at * 4, WINDOW_FLOATS * 4);
    for step in steps {
        let mut ranges = Vec::with_capacity(2 * PAIRS + 2);
        ranges.extend(step.a_windows.iter().map(|&w| window(wa, w)));
        ranges.extend(step.b_windows.iter().map(|&w| window(wb, w)));
        ranges.extend([(bias.0, 0, bias.1), (c, 0, c_bytes)]);
        dev.dispatch_ranges(&step.launch, &ranges)?;
    }
    Ok(())
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
