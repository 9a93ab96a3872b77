// Image batch augmentation in one pass over NCHW f32 images, in this order:
//   1. geometry: a random crop of the image zero-padded by `pad` on each side (torchvision's
//      RandomCrop(size, padding)), random horizontal / vertical flips, and (AFFINE) a random
//      rotation, zoom and translation about the image centre, sampled bilinearly with zero fill
//      (torchvision's RandomAffine);
//   2. (COLOR) colour jitter: brightness, contrast and saturation factors in [1 - j, 1 + j],
//      applied in that order and clamped to [0, 1] after each (torchvision's ColorJitter; the
//      contrast mean is the grey level of the source image, from `means`);
//   3. (NOISE) additive Gaussian noise;
//   4. per-channel normalization (x - mean) / std;
//   5. (CUTOUT) a random `cutout` x `cutout` square set to 0, i.e. to the channel mean
//      (DeVries & Taylor's cutout, applied after normalization as in the paper).
// Each sample's draws come from a hash of (seed, sample, k), so a batch is the same for a seed on
// every adapter and on the CPU twin. The optional stages are pipeline constants, not runtime
// switches: a software adapter executes both sides of every branch.

override AFFINE: u32 = 0u;
override COLOR: u32 = 0u;
override NOISE: u32 = 0u;
override CUTOUT: u32 = 0u;

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
    // Largest rotation in radians, zoom and translation (fractions of the size), each drawn
    // uniformly in [-v, v].
    rotation: f32,
    zoom: f32,
    translate: f32,
    // Colour jitter strengths: factors are drawn in [1 - v, 1 + v].
    brightness: f32,
    contrast: f32,
    saturation: f32,
    noise_std: f32,
    // Side of the cutout square in pixels.
    cutout: u32,
}

@group(0) @binding(0) var<uniform> p: AugmentParams;
// Images in and out are of the module's `elem` type (elem_f32.wgsl or elem_f16.wgsl); every
// stage computes in f32.
@group(0) @binding(1) var<storage, read> x: array<elem>;
// [2, c]: means, then reciprocal standard deviations.
@group(0) @binding(2) var<storage, read> stats: array<f32>;
// [n, c]: every source image's channel means (read only with COLOR).
@group(0) @binding(3) var<storage, read> means: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<elem>;

// A 32-bit integer hash (PCG output permutation of an LCG step).
fn pcg(v: u32) -> u32 {
    let s = v * 747796405u + 2891336453u;
    let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
    return (w >> 22u) ^ w;
}

// The k-th random word of sample `i` (k 0..12 per sample; the noise uses k 16, 17 per element).
fn draw(i: u32, k: u32) -> u32 {
    return pcg(pcg(p.seed ^ pcg(i)) + k);
}

// A uniform draw in [0, 1) from the top 24 bits.
fn unit(v: u32) -> f32 {
    return f32(v >> 8u) * (1.0 / 16777216.0);
}

// A uniform draw in [-r, r).
fn sym(i: u32, k: u32, r: f32) -> f32 {
    return (2.0 * unit(draw(i, k)) - 1.0) * r;
}

// Source pixel (sr, sq) of channel `ch` of image `i`, zero outside the image.
fn texel(i: u32, ch: u32, sr: i32, sq: i32) -> f32 {
    if (sr < 0 || sq < 0 || sr >= i32(p.h) || sq >= i32(p.w)) { return 0.0; }
    return f32(x[((i * p.c + ch) * p.h + u32(sr)) * p.w + u32(sq)]);
}

// Stage 1: the geometric transform of output pixel (row, col) of channel `ch`.
fn sample(i: u32, ch: u32, row: u32, col: u32) -> f32 {
    let span = 2u * p.pad + 1u;
    // The crop's top-left corner in padded coordinates is (dy, dx) in [0, 2 pad].
    let dy = draw(i, 0u) % span;
    let dx = draw(i, 1u) % span;
    var r = row;
    var q = col;
    if ((p.flips & 1u) != 0u && (draw(i, 2u) & 1u) == 1u) { q = p.w - 1u - col; }
    if ((p.flips & 2u) != 0u && (draw(i, 3u) & 1u) == 1u) { r = p.h - 1u - row; }
    if (AFFINE == 0u) {
        // Source pixel (in padded coordinates r + dy, q + dx) minus the padding.
        return texel(i, ch, i32(r + dy) - i32(p.pad), i32(q + dx) - i32(p.pad));
    }
    // Inverse map of (rotate, zoom, translate) about the centre, then the crop's shift.
    let angle = sym(i, 4u, p.rotation);
    let scale = 1.0 + sym(i, 5u, p.zoom);
    let cy = 0.5 * f32(p.h - 1u);
    let cx = 0.5 * f32(p.w - 1u);
    let y0 = f32(r) - cy - sym(i, 6u, p.translate) * f32(p.h);
    let x0 = f32(q) - cx - sym(i, 7u, p.translate) * f32(p.w);
    let cs = cos(angle);
    let sn = sin(angle);
    let shift_y = f32(dy) - f32(p.pad);
    let shift_x = f32(dx) - f32(p.pad);
    let fy = (cs * y0 - sn * x0) / scale + cy + shift_y;
    let fx = (sn * y0 + cs * x0) / scale + cx + shift_x;
    let ty = floor(fy);
    let tx = floor(fx);
    let wy = fy - ty;
    let wx = fx - tx;
    let iy = i32(ty);
    let ix = i32(tx);
    let top = texel(i, ch, iy, ix) * (1.0 - wx) + texel(i, ch, iy, ix + 1) * wx;
    let bottom = texel(i, ch, iy + 1, ix) * (1.0 - wx) + texel(i, ch, iy + 1, ix + 1) * wx;
    return top * (1.0 - wy) + bottom * wy;
}

// The grey level of an RGB triple (ITU-R 601 luma, as torchvision's rgb_to_grayscale).
fn grey(v: vec3<f32>) -> f32 {
    return 0.299 * v.x + 0.587 * v.y + 0.114 * v.z;
}

// Stage 2: colour jitter of channel `ch` (1 or 3 channels).
fn jittered(i: u32, ch: u32, row: u32, col: u32) -> f32 {
    if (COLOR == 0u) { return sample(i, ch, row, col); }
    let b = 1.0 + sym(i, 8u, p.brightness);
    let cf = 1.0 + sym(i, 9u, p.contrast);
    let sf = 1.0 + sym(i, 10u, p.saturation);
    if (p.c == 1u) {
        let m = b * means[i];
        let v = clamp_nan(b * sample(i, 0u, row, col), 0.0, 1.0);
        return clamp_nan((v - m) * cf + m, 0.0, 1.0);
    }
    let m = b * grey(vec3<f32>(means[i * 3u], means[i * 3u + 1u], means[i * 3u + 2u]));
    var v = vec3<f32>(sample(i, 0u, row, col), sample(i, 1u, row, col), sample(i, 2u, row, col));
    v = clamp_nan3(b * v, 0.0, 1.0);
    v = clamp_nan3((v - m) * cf + m, 0.0, 1.0);
    let g = grey(v);
    v = clamp_nan3((v - g) * sf + g, 0.0, 1.0);
    return v[ch];
}

// A standard normal draw for output element `o` (Box-Muller).
fn gauss(o: u32) -> f32 {
    let u1 = (f32(draw(o, 16u) >> 8u) + 1.0) * (1.0 / 16777216.0);
    let u2 = unit(draw(o, 17u));
    return sqrt(-2.0 * log(u1)) * cos(6.2831855 * u2);
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
    var v = jittered(i, ch, row, col);
    if (NOISE != 0u) { v += p.noise_std * gauss(o); }
    v = (v - stats[ch]) * stats[p.c + ch];
    if (CUTOUT != 0u) {
        let top = i32(draw(i, 11u) % p.h) - i32(p.cutout / 2u);
        let left = i32(draw(i, 12u) % p.w) - i32(p.cutout / 2u);
        let dr = i32(row) - top;
        let dc = i32(col) - left;
        if (dr >= 0 && dc >= 0 && dr < i32(p.cutout) && dc < i32(p.cutout)) { v = 0.0; }
    }
    y[o] = elem(v);
}
