// Elementwise unary ops: strided input, contiguous output, both of the module's `elem` type
// (elem_f32.wgsl or elem_f16.wgsl; the op itself computes in f32). The pipeline constant
// OP selects the op (codes: the unary op table, crates/kernels/src/ops/op_table.rs).

@group(0) @binding(1) var<storage, read> x: array<elem>;
@group(0) @binding(2) var<storage, read_write> y: array<elem>;

@compute @workgroup_size(256)
fn unary_map(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.n) { return; }
    y[i] = elem(unary_op(OP, f32(x[strided_index(i, 0u)]), p.alpha, p.beta));
}
