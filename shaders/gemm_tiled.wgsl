// The register-blocked GEMM core shared by matmul and the three convolution passes.
//
// A workgroup of WG_X x WG_Y invocations computes a BM x BN block of C = A . B, stepping through
// K in slices of BK: each slice of A (BM x BK) and B (BK x BN) is staged in workgroup memory,
// then every invocation accumulates a TM x TN register block from it. Invocation (tx, ty) owns
// rows ty + i * WG_Y and columns tx + j * WG_X: neighbouring invocations touch neighbouring
// words, for shared-memory reads without bank conflicts and for coalesced global writes.
//
// WG_X, WG_Y and BK are override constants chosen per adapter by the launcher; TM = TN = 4 are
// constants of this core (naga cannot size private arrays by overrides), written out as four
// vec4 accumulators so no private array is indexed dynamically.

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
override BM: u32 = WG_Y * TM;
override BN: u32 = WG_X * TN;
override THREADS: u32 = WG_X * WG_Y;

// tile_a[kk * BM + m] holds A[row0 + m, k0 + kk]; tile_b[kk * BN + n] holds B[k0 + kk, col0 + n].
var<workgroup> tile_a: array<f32, BM * BK>;
var<workgroup> tile_b: array<f32, BK * BN>;

// Row i of an invocation's block: columns tx, tx + WG_X, tx + 2 WG_X, tx + 3 WG_X.
struct Acc {
    r0: vec4<f32>,
    r1: vec4<f32>,
    r2: vec4<f32>,
    r3: vec4<f32>,
}

fn gemm_accumulate(tx: u32, ty: u32, acc_in: Acc) -> Acc {
    var acc = acc_in;
    for (var kk = 0u; kk < BK; kk++) {
        let ab = kk * BM + ty;
        let bb = kk * BN + tx;
        let b = vec4<f32>(tile_b[bb], tile_b[bb + WG_X], tile_b[bb + 2u * WG_X], tile_b[bb + 3u * WG_X]);
        acc.r0 = fma(vec4<f32>(tile_a[ab]), b, acc.r0);
        acc.r1 = fma(vec4<f32>(tile_a[ab + WG_Y]), b, acc.r1);
        acc.r2 = fma(vec4<f32>(tile_a[ab + 2u * WG_Y]), b, acc.r2);
        acc.r3 = fma(vec4<f32>(tile_a[ab + 3u * WG_Y]), b, acc.r3);
    }
    return acc;
}

fn acc_row(acc: Acc, i: u32) -> vec4<f32> {
    switch i {
        case 0u: { return acc.r0; }
        case 1u: { return acc.r1; }
        case 2u: { return acc.r2; }
        default: { return acc.r3; }
    }
}

// a / b for a < 2^24-ish without an integer divide (a CPU adapter cannot vectorize udiv):
// a float estimate, then exact correction.
fn div_fast(a: u32, b: u32, inv_b: f32) -> u32 {
    var q = u32(f32(a) * inv_b);
    if (q * b > a) { q -= 1u; }
    if ((q + 1u) * b <= a) { q += 1u; }
    return q;
}
