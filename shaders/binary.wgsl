// Elementwise binary ops with NumPy broadcasting: strided operands a (s = 0) and b (s = 1),
// contiguous output, all of the module's `elem` type (computed in f32). Codes < 100 match `BinaryOp`; code 100 + k is the gradient of unary
// op k: out = b * f_k'(a), with a = the op's input x and b = the upstream gradient.
// NaN: maximum and minimum propagate it (PyTorch); a gradient is NaN where x or the upstream
// gradient is. That is stricter than PyTorch, whose relu backward masks a NaN upstream
// gradient where x <= 0 and passes dy where x is NaN: here no NaN is ever hidden.

@group(0) @binding(1) var<storage, read> a: array<elem>;
@group(0) @binding(2) var<storage, read> b: array<elem>;
@group(0) @binding(3) var<storage, read_write> out: array<elem>;

fn apply(op: u32, u: f32, v: f32) -> f32 {
    switch op {
        case 0u: { return u + v; } // add
        case 1u: { return u - v; } // sub
        case 2u: { return u * v; } // mul
        case 3u: { return u / v; } // div
        case 4u: { return pow_(u, v); } // pow
        case 5u: { return max_nan(u, v); } // maximum
        case 6u: { return min_nan(u, v); } // minimum
        case 7u: { return select(0.0, 1.0, u == v); } // eq
        case 8u: { return select(0.0, 1.0, u != v || is_nan(u) || is_nan(v)); } // ne
        case 9u: { return select(0.0, 1.0, u < v); } // lt
        case 10u: { return select(0.0, 1.0, u <= v); } // le
        case 11u: { return select(0.0, 1.0, u > v); } // gt
        case 12u: { return select(0.0, 1.0, u >= v); } // ge
        case 13u: { return select(v * u, u, u > 0.0); } // prelu
        default: { return keep_nan(keep_nan(v * unary_derivative(op - 100u, u, p.alpha), u), v); }
    }
}

@compute @workgroup_size(256)
fn binary_map(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.n) { return; }
    out[i] = elem(apply(OP, f32(a[strided_index(i, 0u)]), f32(b[strided_index(i, 1u)])));
}
