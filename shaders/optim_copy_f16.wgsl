// The f16 copy an optimizer update refreshes under mixed precision: layers compute with an f16
// copy of each f32 master weight, and the update that writes the master writes the copy too, in
// the same dispatch, instead of a cast pass before the next forward. The copy is rounded as the
// f32 -> f16 cast rounds (cast_f16.wgsl), so it is bit-identical to a fresh cast. Composed after
// enable_f16.wgsl. Binding 7 follows the widest update's state (RMSprop's s3): the layout of
// these entry points is the full one, with placeholders where an optimizer has less state.
@group(0) @binding(7) var<storage, read_write> copy16: array<f16>;
@group(0) @binding(7) var<storage, read_write> copy16_4: array<vec4<f16>>;

fn refresh_copy(i: u32, x: f32) {
    copy16[i] = f16(x);
}

fn refresh_copy4(i: u32, x: vec4<f32>) {
    copy16_4[i] = vec4<f16>(x);
}
