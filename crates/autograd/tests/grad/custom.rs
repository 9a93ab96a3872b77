//! A user's own differentiable ops: one in WGSL (forward and backward kernels), one composed
//! from tensor ops, both checked against CPU closures the test supplies.

use wgtrain_autograd::{Backward, CustomOp, Result, Var};
use wgtrain_tensor::{CustomKernel, DType, KernelArg, Tensor};

use crate::harness::{check, input};

const CUBE_WGSL: &str = r#"
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn cube(@builtin(global_invocation_id) g: vec3<u32>) {
    if (g.x < arrayLength(&y)) { let v = x[g.x]; y[g.x] = v * v * v; }
}
"#;

const CUBE_GRAD_WGSL: &str = r#"
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(64)
fn cube_grad(@builtin(global_invocation_id) g: vec3<u32>) {
    if (g.x < arrayLength(&dx)) { let v = x[g.x]; dx[g.x] = 3.0 * v * v * dy[g.x]; }
}
"#;

/// y = x^3 with WGSL kernels both ways.
struct Cube {
    forward: CustomKernel,
    backward: CustomKernel,
}

fn groups(n: usize) -> [u32; 3] {
    [n.div_ceil(64) as u32, 1, 1]
}

impl CustomOp for Cube {
    fn name(&self) -> &'static str {
        "cube"
    }
    fn forward(&self, inputs: &[&Tensor]) -> Result<(Tensor, Vec<Tensor>)> {
        let x = inputs[0].contiguous()?;
        let y = Tensor::zeros(x.device(), x.shape(), DType::F32)?;
        self.forward.run(x.device(), &[], &[KernelArg::Read(&x), KernelArg::Write(&y)], groups(x.len()))?;
        Ok((y, vec![x]))
    }
    fn backward(&self, ctx: &Backward<'_>) -> Result<Vec<Option<Tensor>>> {
        let (x, dy) = (&ctx.saved[0], ctx.grad.contiguous()?);
        let dx = Tensor::zeros(x.device(), x.shape(), DType::F32)?;
        let args = [KernelArg::Read(x), KernelArg::Read(&dy), KernelArg::Write(&dx)];
        self.backward.run(x.device(), &[], &args, groups(x.len()))?;
        Ok(vec![Some(dx)])
    }
}

/// softsign(x) = x / (1 + |x|), with a backward composed from tensor ops: 1 / (1 + |x|)^2.
struct Softsign;

impl CustomOp for Softsign {
    fn name(&self) -> &'static str {
        "softsign"
    }
    fn forward(&self, inputs: &[&Tensor]) -> Result<(Tensor, Vec<Tensor>)> {
        let x = inputs[0];
        Ok((x.div(&x.abs()?.add_scalar(1.0)?)?, vec![x.clone()]))
    }
    fn backward(&self, ctx: &Backward<'_>) -> Result<Vec<Option<Tensor>>> {
        let d = ctx.saved[0].abs()?.add_scalar(1.0)?.square()?;
        Ok(vec![ctx.needs(0).then(|| ctx.grad.div(&d)).transpose()?])
    }
}

#[test]
fn a_wgsl_custom_op_takes_part_in_the_graph() {
    let cube = || Cube {
        forward: CustomKernel::new(CUBE_WGSL, "cube", 2).unwrap(),
        backward: CustomKernel::new(CUBE_GRAD_WGSL, "cube_grad", 3).unwrap(),
    };
    check(
        "cube",
        &[input(1, &[7, 33], -1.5, 1.5)],
        |v| Var::apply(cube(), &[&v[0].mul_scalar(2.0)?])?.sum(&[1], false),
        |h| (0..7).map(|r| (0..33).map(|c| (2.0 * h[0][r * 33 + c]).powi(3)).sum()).collect(),
    );
}

#[test]
fn a_composed_custom_op_with_a_user_reference() {
    check(
        "softsign",
        &[input(2, &[1000], -4.0, 4.0)],
        |v| Var::apply(Softsign, &[&v[0]]),
        |h| h[0].iter().map(|x| x / (1.0 + x.abs())).collect(),
    );
}
