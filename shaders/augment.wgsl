// Image batch augmentation in one pass over NCHW f32 images: a random crop of the image
// zero-padded by `pad` on each side (torchvision's RandomCrop(size, padding)), a random
// horizontal (and optionally vertical) flip, then per-channel normalization (x - mean) / std.
// Each sample's offsets and flips come from a hash of (seed, sample), so a batch is the same for
// a seed on every adapter and on the CPU twin.

struct AugmentParams {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    pad: u32,
    seed: u32,
    // Bit 0: random horizontal flip; bit 1: random vertical flip.
    flips: u32,
    total: u32,
}

@group(0) @binding(0) var<uniform> p: AugmentParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// [2, c]: means, then reciprocal standard deviations.
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

// A 32-bit integer hash (PCG output permutation of an LCG step).
fn pcg(v: u32) -> u32 {
    let s = v * 747796405u + 2891336453u;
    let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
    return (w >> 22u) ^ w;
}

// The k-th random word of sample `i`.
fn draw(i: u32, k: u32) -> u32 {
    return pcg(pcg(p.seed ^ pcg(i)) + k);
}

@compute @workgroup_size(256)
fn augment_images(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let o = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (o >= p.total) { return; }
    let col = o % p.w;
    let row = (o / p.w) % p.h;
    let ch = (o / (p.w * p.h)) % p.c;
    let i = o / (p.w * p.h * p.c);
    let span = 2u * p.pad + 1u;
    // The crop's top-left corner in padded coordinates is (dy, dx) in [0, 2 pad].
    let dy = draw(i, 0u) % span;
    let dx = draw(i, 1u) % span;
    var r = row;
    var q = col;
    if ((p.flips & 1u) != 0u && (draw(i, 2u) & 1u) == 1u) { q = p.w - 1u - col; }
    if ((p.flips & 2u) != 0u && (draw(i, 3u) & 1u) == 1u) { r = p.h - 1u - row; }
    // Source pixel (in padded coordinates r + dy, q + dx) minus the padding.
    let sr = i32(r + dy) - i32(p.pad);
    let sq = i32(q + dx) - i32(p.pad);
    var v = 0.0;
    if (sr >= 0 && sq >= 0 && sr < i32(p.h) && sq < i32(p.w)) {
        v = x[((i * p.c + ch) * p.h + u32(sr)) * p.w + u32(sq)];
    }
    y[o] = (v - stats[ch]) * stats[p.c + ch];
}
