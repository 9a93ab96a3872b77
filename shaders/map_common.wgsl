// Shared by the elementwise modules (unary, binary, ternary, copy): the parameter struct
// (`MapParams` in crates/kernels/src/ops/map.rs) and strided indexing. Operands are strided views
// of rank <= 6; a broadcast dimension has stride 0. The host collapses dimensions that are
// contiguous for every operand, so contiguous work runs this loop once.

struct Params {
    shape: array<vec4<u32>, 2>,
    strides: array<array<vec4<u32>, 2>, 3>,
    offsets: vec4<u32>,
    rank: u32,
    n: u32,
    op: u32,
    _pad: u32,
    alpha: f32,
    beta: f32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// Pipeline constants set by every launch (`ops::map::launch`): OP mirrors p.op, RANK1 says the
// operands collapsed to rank 1. llvmpipe evaluates both sides of every branch, so a switch on
// p.op would compute every op for every element; on a constant only the taken arm is compiled.
override OP: u32 = 0u;
override RANK1: u32 = 0u;

// Element offset of linear output index `i` in operand `s` (row-major over p.shape).
// Rank 1 (every contiguous operand after collapsing) skips the divisions, which a CPU adapter
// cannot vectorize.
fn strided_index(i: u32, s: u32) -> u32 {
    if (RANK1 == 1u) { return p.offsets[s] + i * p.strides[s][0][0]; }
    var rem = i;
    var idx = p.offsets[s];
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
        let e = p.shape[d / 4][d % 4];
        idx += (rem % e) * p.strides[s][d / 4][d % 4];
        rem = rem / e;
    }
    return idx;
}

// Linear invocation index over a 2-D grid of 256-wide workgroups (see `grid_1d`).
fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * 256u + lid;
}
