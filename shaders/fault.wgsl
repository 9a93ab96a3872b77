// Device-side input checks that report through the device's fault record instead of a host
// read-back per op: the host reads the record with its next read-back (Device::read) and turns
// it into an error there. Parameters and the record layout match crates/kernels/src/ops/fault.rs.
//
// Record (8 u32 words, zeroed = no fault):
//   [0] op code of the first index fault (0: none)   [1] its position   [2] its value (bits)
//   [3] the limit it broke (classes, vocabulary rows, axis extent)   [4] 1 when the indices are i32
//   [5] ~tag of the first non-finite tensor (0: none; atomicMax of ~tag keeps the smallest tag)
//
// check_indices runs as ONE workgroup: each invocation scans a strided share for its first bad
// position, a workgroup tree takes the minimum, and invocation 0 writes position and value
// together. No cross-workgroup race, so the record names the first bad position exactly, and
// an op that runs after a recorded fault never overwrites it (the first fault of a batch wins).

struct CheckParams {
    n: u32,           // indices to check
    limit: u32,       // valid values are 0..limit
    has_ignore: u32,  // 1: `ignore` is skipped, not a fault
    ignore: u32,      // the ignored value's bits (e.g. -100 as i32)
    op: u32,          // FaultOp code written to the record
    signed: u32,      // 1 when the indices are i32 (for the message)
    _pad0: u32,
    _pad1: u32,
}

struct FiniteParams {
    n: u32,    // f32 elements to check
    tag: u32,  // the caller's name for this tensor (e.g. a parameter's index)
    _pad0: u32,
    _pad1: u32,
}

const NONE: u32 = 0xffffffffu;
const CHECK_WG: u32 = 256u;

@group(0) @binding(0) var<uniform> p: CheckParams;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> record: array<u32>;

@group(0) @binding(0) var<uniform> fp: FiniteParams;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;

var<workgroup> first: array<u32, 256>;

@compute @workgroup_size(256)
fn check_indices(@builtin(local_invocation_index) lid: u32) {
    var bad = NONE;
    for (var i = lid; i < p.n; i += CHECK_WG) {
        let v = ids[i];
        if (v >= p.limit && !(p.has_ignore != 0u && v == p.ignore)) {
            bad = i;
            break;
        }
    }
    first[lid] = bad;
    workgroupBarrier();
    for (var s = CHECK_WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) { first[lid] = min(first[lid], first[lid + s]); }
        workgroupBarrier();
    }
    let at = first[0];
    if (lid != 0u || at == NONE || record[0] != 0u) { return; }
    record[0] = p.op;
    record[1] = at;
    record[2] = ids[at];
    record[3] = p.limit;
    record[4] = p.signed;
}

// Sets the non-finite flag when any element is NaN or +-inf (exponent bits all ones; a bit test
// rather than `x != x`, which a compiler assuming finite math may fold away).
@compute @workgroup_size(256)
fn check_finite(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i >= fp.n) { return; }
    if ((bitcast<u32>(values[i]) & 0x7f800000u) == 0x7f800000u) {
        atomicMax(&flags[5], ~fp.tag);
    }
}
