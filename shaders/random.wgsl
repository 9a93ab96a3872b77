// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11). Element i of a tensor is
// a pure function of (i, seed), so any adapter and the CPU twin produce the same bits, with no
// RNG state on the device. Uniform samples take the top 24 bits of word 0; normals use
// Box-Muller on words 0 and 1; dropout keeps element i when its uniform sample is >= p.

struct RandomParams {
    n: u32,
    seed_lo: u32,
    seed_hi: u32,
    op: u32,     // random_fill: 0 uniform in [a, b), 1 normal with mean a and std b
    a: f32,
    b: f32,
    scale: f32,  // dropout: 1 / (1 - p), rounded on the host so the twin uses the same value
    first: u32,  // the counter of element 0 (0 for a fill; a shard's offset for dropout)
}

@group(0) @binding(0) var<uniform> p: RandomParams;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
// Dropout's x and y are of the module's `elem` type (elem_f32.wgsl or elem_f16.wgsl); fills are f32.
@group(0) @binding(1) var<storage, read> x: array<elem>;
@group(0) @binding(2) var<storage, read_write> y: array<elem>;

// High and low 32 bits of the 64-bit product a * b, from 16-bit halves (WGSL has no u64).
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let ll = al * bl;
    let lh = al * bh;
    let hl = ah * bl;
    let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    let hi = ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2<u32>(hi, a * b);
}

fn philox(counter: vec4<u32>, seed_lo: u32, seed_hi: u32) -> vec4<u32> {
    var c = counter;
    var k = vec2<u32>(seed_lo, seed_hi);
    for (var r = 0; r < 10; r++) {
        let p0 = mulhilo(0xD2511F53u, c.x);
        let p1 = mulhilo(0xCD9E8D57u, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
        k += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

// Uniform in [0, 1) with 24 bits: exactly representable, so bit-exact against the twin.
fn unit(w: u32) -> f32 {
    return f32(w >> 8u) * 5.9604644775390625e-8;
}

// Normal samples are Box-Muller, sqrt(-2 ln u1) cos(2 pi u2), promised within 4 ULP of the
// twin on every adapter. The built-in log, sin and cos are not accurate enough for that:
// Vulkan allows them an absolute error of 2^-21 (NVIDIA's are hardware approximations that
// use it), which is many ULP of a small result. So they are computed here from additions and
// multiplications, which are correctly rounded everywhere.

// sin(x) and cos(x) for |x| <= pi / 4 by their Taylor series: the first omitted terms are
// below 2^-28 of the result there.
fn sin_small(x: f32) -> f32 {
    let x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362880.0)))));
}
fn cos_small(x: f32) -> f32 {
    let x2 = x * x;
    return 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0
        + x2 * (-1.0 / 3628800.0)))));
}

// cos(2 pi u) for u in [0, 1), through exact symmetries that keep the argument in [-pi/4, pi/4].
fn cos_2pi(u: f32) -> f32 {
    let w = abs(u - round(u));          // cos(2 pi u) = cos(2 pi w), w in [0, 1/2], exact
    if (w < 0.125) { return cos_small(6.283185307179586 * w); }
    if (w < 0.375) { return sin_small(6.283185307179586 * (0.25 - w)); }
    return -cos_small(6.283185307179586 * (0.5 - w));
}

// ln(u) for u in (0, 1]: u = m 2^e with m in [sqrt(1/2), sqrt(2)) (exact, by frexp), then
// ln u = e ln 2 + 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, the odd series to s^15.
// ln 2 is split so that e * LN2_HI is exact; m - 1 is exact, so results near 0 keep their
// relative accuracy.
fn ln_unit(u: f32) -> f32 {
    let f = frexp(u);                   // u = f.fract 2^f.exp, fract in [1/2, 1)
    var m = f.fract * 2.0;
    var e = f32(f.exp - 1);
    if (m > 1.4142135623730951) {
        m = m * 0.5;
        e = e + 1.0;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0
        + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0 + s2 * (1.0 / 15.0)))))));
    let LN2_HI = 0.693145751953125;
    let LN2_LO = 1.4286068202862268e-06;
    return e * LN2_HI + (e * LN2_LO + 2.0 * s * series);
}

fn sample(i: u32) -> f32 {
    let w = philox(vec4<u32>(p.first + i, 0u, 0u, 0u), p.seed_lo, p.seed_hi);
    if (p.op == 0u) {
        return p.a + (p.b - p.a) * unit(w.x);
    }
    // u1 in (0, 1] so the log is finite.
    let u1 = f32((w.x >> 8u) + 1u) * 5.9604644775390625e-8;
    let z = sqrt(-2.0 * ln_unit(u1)) * cos_2pi(unit(w.y));
    return p.a + p.b * z;
}

@compute @workgroup_size(256)
fn random_fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i < p.n) { out[i] = sample(i); }
}

// y = x * mask / (1 - p), element i drawing counter `first + i`. Its gradient is the same map
// applied to dy with the same seed and first. A NaN
// stays NaN where it is dropped too (PyTorch multiplies by the mask: NaN * 0 = NaN).
@compute @workgroup_size(256)
fn dropout_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i >= p.n) { return; }
    let w = philox(vec4<u32>(p.first + i, 0u, 0u, 0u), p.seed_lo, p.seed_hi);
    let v = f32(x[i]);
    y[i] = elem(keep_nan(select(0.0, v * p.scale, unit(w.x) >= p.a), v));
}
