// The f16 copy an optimizer update refreshes: none. Plain training keeps only the f32
// parameter, so these are empty and the compiler drops the calls. See optim_copy_f16.wgsl.
fn refresh_copy(i: u32, x: f32) {}
fn refresh_copy4(i: u32, x: vec4<f32>) {}
