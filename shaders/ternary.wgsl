// Elementwise three-operand ops with broadcasting (codes match `TernaryOp`), on the module's
// `elem` type (computed in f32):
//   0 where:          out = c != 0 ? a : b          (operands: a, b, c = condition)
//   1 prelu grad x:   out = c * (a > 0 ? 1 : b)     (a = x, b = slope, c = upstream gradient)
//   2 prelu grad a:   out = c * (a > 0 ? 0 : a)

@group(0) @binding(1) var<storage, read> a: array<elem>;
@group(0) @binding(2) var<storage, read> b: array<elem>;
@group(0) @binding(3) var<storage, read> c: array<elem>;
@group(0) @binding(4) var<storage, read_write> out: array<elem>;

@compute @workgroup_size(256)
fn ternary_map(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.n) { return; }
    let u = f32(a[strided_index(i, 0u)]);
    let v = f32(b[strided_index(i, 1u)]);
    let w = f32(c[strided_index(i, 2u)]);
    var r: f32;
    switch OP {
        case 0u: { r = select(v, u, w != 0.0); }
        case 1u: { r = w * select(v, 1.0, u > 0.0); }
        default: { r = w * select(u, 0.0, u > 0.0); }
    }
    out[i] = elem(r);
}
