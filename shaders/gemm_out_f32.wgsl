// The output of a GEMM (matmul.wgsl, conv2d.wgsl) stored as f32.

@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn store_out(i: u32, v: f32) { out[i] = v; }
