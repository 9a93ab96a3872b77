// The parameters of a batched matmul, shared by its GEMM forms (matmul.wgsl on the tiled core,
// matmul_coop.wgsl on cooperative matrices). They match `MatmulParams` in
// crates/kernels/src/ops/matmul.rs: extents, then each operand's offset and row, column and
// batch strides (in elements), then the epilogue (bias, activation and its scalar).

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    batch: u32,
    a_off: u32,
    a_rs: u32,
    a_cs: u32,
    a_bs: u32,
    b_off: u32,
    b_rs: u32,
    b_cs: u32,
    b_bs: u32,
    bias_off: u32,
    has_bias: u32,
    act: u32,
    alpha: f32,
}

@group(0) @binding(0) var<uniform> p: MatmulParams;
