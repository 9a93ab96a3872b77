// The output of a GEMM (matmul.wgsl, conv2d.wgsl) rounded to f16 once, after the f32 epilogue
// (bias and activation). A value past f16's range becomes an infinity (WGSL lets a value just
// past 65504 round to 65504 instead; 65536 and beyond must become one), so an overflow shows
// up downstream as one. Composed after enable_f16.wgsl.

@group(0) @binding(4) var<storage, read_write> out: array<f16>;

fn store_out(i: u32, v: f32) { out[i] = f16(v); }
