// Dynamic loss scaling on the device (Keras' rule), so no step waits for the host. The state is
// four words: the scale (f32 bits), a flag "this step's gradients are not finite", the finite
// steps since the scale last changed, and the steps skipped so far. Per step:
//   1. `unscale_grad` over each gradient: g /= scale in place, flagging any non-finite result;
//   2. the optimizer updates, which skip themselves when the flag is set (optim.wgsl's guard);
//   3. `update_scale`, one invocation: on a flagged step halve the scale (never below 1), count
//      the skip and restart the count of finite steps; else count the step and double the scale
//      after `growth_interval` finite ones (if the doubled scale is finite). Clears the flag.
// Parameters match `ScaleParams` in crates/kernels/src/ops/loss_scale.rs.

struct ScaleParams {
    n: u32,
    growth_interval: u32,
    _pad0: u32,
    _pad1: u32,
}

const SCALE: u32 = 0u;
const FOUND: u32 = 1u;
const GOOD: u32 = 2u;
const SKIPPED: u32 = 3u;

@group(0) @binding(0) var<uniform> p: ScaleParams;
@group(0) @binding(1) var<storage, read_write> state: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

// Finite by the bits (WGSL lets compilers assume there is no NaN or infinity).
fn finite(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(256)
fn unscale_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (i >= p.n) { return; }
    let g = grad[i] / bitcast<f32>(atomicLoad(&state[SCALE]));
    grad[i] = g;
    // Every writer stores the same value: the order does not matter.
    if (!finite(g)) { atomicStore(&state[FOUND], 1u); }
}

@compute @workgroup_size(1)
fn update_scale() {
    var scale = bitcast<f32>(atomicLoad(&state[SCALE]));
    var good = atomicLoad(&state[GOOD]);
    if (atomicLoad(&state[FOUND]) != 0u) {
        scale = max(scale * 0.5, 1.0);
        good = 0u;
        atomicAdd(&state[SKIPPED], 1u);
    } else {
        good += 1u;
        if (good >= p.growth_interval) {
            let grown = scale * 2.0;
            if (finite(grown)) { scale = grown; }
            good = 0u;
        }
    }
    atomicStore(&state[SCALE], bitcast<u32>(scale));
    atomicStore(&state[GOOD], good);
    atomicStore(&state[FOUND], 0u);
}
