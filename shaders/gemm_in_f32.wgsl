// The operands of a GEMM (matmul.wgsl, conv2d.wgsl) as f32: lhs, rhs and the bias, read as f32.

@group(0) @binding(1) var<storage, read> lhs: array<f32>;
@group(0) @binding(2) var<storage, read> rhs: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;

fn load_lhs(i: u32) -> f32 { return lhs[i]; }
fn load_rhs(i: u32) -> f32 { return rhs[i]; }
fn load_bias(i: u32) -> f32 { return bias[i]; }
