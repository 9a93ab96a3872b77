// Casts and strided copies involving f16 (the module needs the SHADER_F16 feature). Same
// parameter struct and indexing as the other elementwise modules: operand 0 is the source,
// operand 1 the destination. Each entry point uses one source and one destination binding;
// bindings of the same number but another element type belong to other entry points.
// Composed after enable_f16.wgsl.

@group(0) @binding(1) var<storage, read> src32: array<f32>;
@group(0) @binding(1) var<storage, read> src16: array<f16>;
@group(0) @binding(2) var<storage, read_write> dst32: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst16: array<f16>;

@compute @workgroup_size(256)
fn cast_f32_f16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.n) { return; }
    dst16[strided_index(i, 1u)] = f16(src32[strided_index(i, 0u)]);
}

@compute @workgroup_size(256)
fn cast_f16_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.n) { return; }
    dst32[strided_index(i, 1u)] = f32(src16[strided_index(i, 0u)]);
}

@compute @workgroup_size(256)
fn copy_f16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let i = linear_id(wid, nwg, lid);
    if (i >= p.n) { return; }
    dst16[strided_index(i, 1u)] = src16[strided_index(i, 0u)];
}
