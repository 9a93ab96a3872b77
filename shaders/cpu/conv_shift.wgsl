// The B operand of a stride-1 convolution pass as four shifted copies of its padded source, so
// the texture GEMM reads im2col without an im2col being written (docs/lavapipe-journal.md, "Stride-1
// convolutions read shifted copies"; the plan is `ops/conv_shift.rs`).
//
// Z is the source laid out channel-major on a padded pixel grid: element c s + (n plane + y wp + x)
// is source pixel (y - top_h, x - top_w) of channel c of image n of this chunk, and zero in the
// padding, past the chunk's images and in the slack after each channel (s >= images * plane,
// a multiple of 4). Tap (c, i, j) of output pixel q of the grid is then Z[base(c, i, j) + q],
// so four consecutive pixels are four consecutive elements of Z; copy r (at texel r texels)
// holds Z shifted by r elements (its texel u is Z[4 u + r .. 4 u + r + 3]) so that any base
// finds them in one aligned texel: (base & 3) texels_per_copy + base >> 2 + q / 4.
// Grid: one invocation per texel u of a copy (2-D, see `grid_1d`): it gathers Z[4 u .. 4 u + 6]
// once and writes texel u of all four copies (7 gathers for 16 elements; one copy per
// invocation gathered 16 and ran 2.5-3x slower on lavapipe).

struct ConvShiftParams {
    texels: u32,
    channels: u32,
    images: u32,
    off: u32,
    src_image: u32,
    src_h: u32,
    src_w: u32,
    top_h: u32,
    top_w: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// The divisors as pipeline constants: a division by a runtime value is scalarized on a CPU
// adapter, one by a constant is a multiply and a shift. S: Z's elements per channel; PLANE:
// pixels of one image's padded grid; WP: its width.
override S: u32 = 1u;
override PLANE: u32 = 1u;
override WP: u32 = 1u;
// 4: the four shifted copies (B); 1: Z alone, a grad weight's dy on the grid (its A, read
// k-contiguous: its k steps are the grid's pixels).
override COPIES: u32 = 4u;

@group(0) @binding(0) var<uniform> p: ConvShiftParams;
@group(0) @binding(1) var src: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

// Element e of Z.
fn z_at(e: u32) -> f32 {
    let c = e / S;
    let r = e - c * S;
    let n = r / PLANE;
    let g = r - n * PLANE;
    let y = i32(g / WP) - i32(p.top_h);
    let x = i32(g % WP) - i32(p.top_w);
    let inside = c < p.channels && n < p.images && y >= 0 && x >= 0 && y < i32(p.src_h) && x < i32(p.src_w);
    var v = 0.0;
    if (inside) { v = linear_element(src, p.off + n * p.src_image + (c * p.src_h + u32(y)) * p.src_w + u32(x)); }
    return v;
}

@compute @workgroup_size(64)
fn conv_shift(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) li: u32) {
    let u = (wid.y * nwg.x + wid.x) * 64u + li;
    if (u >= p.texels) { return; }
    let e = 4u * u;
    let z0 = vec4<f32>(z_at(e), z_at(e + 1u), z_at(e + 2u), z_at(e + 3u));
    dst[u] = z0;
    if (COPIES == 1u) { return; }
    let z1 = vec3<f32>(z_at(e + 4u), z_at(e + 5u), z_at(e + 6u));
    dst[p.texels + u] = vec4<f32>(z0.yzw, z1.x);
    dst[2u * p.texels + u] = vec4<f32>(z0.zw, z1.xy);
    dst[3u * p.texels + u] = vec4<f32>(z0.w, z1);
}
