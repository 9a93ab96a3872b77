// Operands copied linearly into an rgba32float texture 4096 texels wide (crates/tensor/src/
// cpu/texture.rs): texel t holds elements 4 t .. 4 t + 3 of the operand, at (t % 4096, t / 4096).
// CPU adapters load storage textures through their vectorized image path, where a storage
// buffer load is a scalar loop per lane (docs/lavapipe-journal.md, "Streaming kernels read textures").

// Where texel `t` of a linear texture lies.
fn linear_texel(t: u32) -> vec2<u32> {
    return vec2<u32>(t & 4095u, t >> 12u);
}

// Element `e` of an operand in linear texture `tex`: component e % 4 of texel e / 4.
fn linear_element(tex: texture_storage_2d<rgba32float, read>, e: u32) -> f32 {
    return textureLoad(tex, linear_texel(e >> 2u))[e & 3u];
}
