// The operands of a GEMM (matmul.wgsl, conv2d.wgsl) as f16, widened to f32 as they are staged:
// the products and their sum are f32 (mixed precision: f16 storage, f32 accumulation).
// Composed after enable_f16.wgsl.

@group(0) @binding(1) var<storage, read> lhs: array<f16>;
@group(0) @binding(2) var<storage, read> rhs: array<f16>;
@group(0) @binding(3) var<storage, read> bias: array<f16>;

fn load_lhs(i: u32) -> f32 { return f32(lhs[i]); }
fn load_rhs(i: u32) -> f32 { return f32(rhs[i]); }
fn load_bias(i: u32) -> f32 { return f32(bias[i]); }
