//! Dynamic loss scaling on the device (`loss_scale.wgsl`): the state layout, the two kernels
//! and their launchers. The optimizer kernels read the same state as their guard
//! (`optim.wgsl`).

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Words of the state: the scale (f32 bits), the "not finite" flag of the current step, the
/// finite steps since the scale last changed, the steps skipped so far.
pub const STATE_WORDS: usize = 4;
/// Word of the scale (f32 bits).
pub const SCALE: usize = 0;
/// Word of the flag set by [`UNSCALE_GRAD`] when a gradient is not finite.
pub const FOUND: usize = 1;
/// Word of the count of finite steps since the scale last changed.
pub const GOOD: usize = 2;
/// Word of the count of skipped steps.
pub const SKIPPED: usize = 3;

/// Parameters of `loss_scale.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Default)]
pub struct ScaleParams {
    /// Elements of the gradient ([`UNSCALE_GRAD`]).
    pub n: u32,
    /// Finite steps after which the scale doubles ([`UPDATE_SCALE`]).
    pub growth_interval: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: [u32; 2],
}

/// `g /= scale` in place, flagging a non-finite result: (state, grad).
pub static UNSCALE_GRAD: KernelSpec =
    KernelSpec { shader: Shader::LossScale, entry: "unscale_grad", bindings: &[Access::ReadWrite, Access::ReadWrite] };
/// Halves or grows the scale after a step and clears the flag: (state).
pub static UPDATE_SCALE: KernelSpec =
    KernelSpec { shader: Shader::LossScale, entry: "update_scale", bindings: &[Access::ReadWrite] };

/// Launch of [`UNSCALE_GRAD`] over a gradient of `n` elements.
pub fn unscale(n: usize) -> Launch {
    let p = ScaleParams { n: n as u32, ..Default::default() };
    Launch::new(&UNSCALE_GRAD, &p, grid_1d(n, 256))
}

/// Launch of [`UPDATE_SCALE`] with the given growth interval.
pub fn update(growth_interval: u32) -> Launch {
    let p = ScaleParams { growth_interval, ..Default::default() };
    Launch::new(&UPDATE_SCALE, &p, [1, 1, 1])
}

/// What [`UPDATE_SCALE`] does to `(scale, good, skipped)` after a step that was finite or not
/// (the twin).
pub fn next_state(scale: f32, good: u32, skipped: u32, finite: bool, growth_interval: u32) -> (f32, u32, u32) {
    if !finite {
        return ((scale * 0.5).max(1.0), 0, skipped + 1);
    }
    let good = good + 1;
    if good >= growth_interval {
        let grown = scale * 2.0;
        (if grown.is_finite() { grown } else { scale }, 0, skipped)
    } else {
        (scale, good, skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_halves_to_no_less_than_one_and_doubles_after_the_interval() {
        assert_eq!(next_state(32768.0, 7, 0, false, 2000), (16384.0, 0, 1));
        assert_eq!(next_state(1.0, 0, 3, false, 2000), (1.0, 0, 4), "never below 1");
        assert_eq!(next_state(4.0, 1998, 1, true, 2000), (4.0, 1999, 1));
        assert_eq!(next_state(4.0, 1999, 1, true, 2000), (8.0, 0, 1), "doubled on the 2000th");
        assert_eq!(next_state(f32::MAX, 1, 0, true, 2), (f32::MAX, 0, 0), "an infinite scale is not taken");
    }
}
