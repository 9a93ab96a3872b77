// NaN propagation shared by every kernel that selects by comparison (activations, clamp,
// max/min, reductions, pooling, argmax, augmentation clamps). PyTorch and NumPy propagate NaN
// through all of these; WGSL's max, min and clamp may return the other operand instead, and a
// comparison with NaN is false, so a `select` on it silently drops the NaN. WGSL also lets
// compilers assume floats are never NaN, so `v != v` may fold to false (lavapipe does): the
// test is on the bits.

fn is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// `r`, unless `v` is NaN: then `v`.
fn keep_nan(r: f32, v: f32) -> f32 {
    return select(r, v, is_nan(v));
}

// max / min that return a NaN operand (the first one, when both are) instead of the other.
fn max_nan(a: f32, b: f32) -> f32 {
    return keep_nan(keep_nan(max(a, b), b), a);
}

fn min_nan(a: f32, b: f32) -> f32 {
    return keep_nan(keep_nan(min(a, b), b), a);
}

// PyTorch's clamp: min(max(v, lo), hi), NaN in -> NaN out.
fn clamp_nan(v: f32, lo: f32, hi: f32) -> f32 {
    return min_nan(max_nan(v, lo), hi);
}

// `clamp_nan` per component.
fn clamp_nan3(v: vec3<f32>, lo: f32, hi: f32) -> vec3<f32> {
    let nan = (bitcast<vec3<u32>>(v) & vec3<u32>(0x7fffffffu)) > vec3<u32>(0x7f800000u);
    return select(clamp(v, vec3<f32>(lo), vec3<f32>(hi)), v, nan);
}
