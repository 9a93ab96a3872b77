//! 2-D max / average pooling and global average pooling (`pool.wgsl`), forward and backward.
//!
//! Shape contract (contiguous, f32): x `[n, c, h, w]`, y `[n, c, out_h, out_w]` with
//! `out = (in + 2 pad - k) / stride + 1` (no ceil mode); max pooling also yields u32 argmax
//! indices `[n, c, out_h, out_w]`, each the flat index `h * in_w + w` into its input plane.
//! Global average pooling maps `[n, c, h, w]` to `[n, c]`.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, Constants, ElemKernel, KernelSpec, Launch, Shader};

/// Parameters of `pool.wgsl`. `planes` = n * c.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct PoolParams {
    /// Input planes: n * c.
    pub planes: u32,
    /// Input height.
    pub in_h: u32,
    /// Input width.
    pub in_w: u32,
    /// Output height.
    pub out_h: u32,
    /// Output width.
    pub out_w: u32,
    /// Window height.
    pub k_h: u32,
    /// Window width.
    pub k_w: u32,
    /// Vertical stride.
    pub stride_h: u32,
    /// Horizontal stride.
    pub stride_w: u32,
    /// Padding above and below (never wins a max; counts as zero in the average).
    pub pad_h: u32,
    /// Padding left and right.
    pub pad_w: u32,
    /// Padding to the WGSL struct's size.
    pub _pad: u32,
}

impl PoolParams {
    /// Params for `planes` planes of `in_hw`, or `None` when the kernel does not fit the padded
    /// input. The caller checks kernel, stride >= 1 and pad <= k / 2.
    pub fn new(planes: usize, in_hw: [usize; 2], k: [usize; 2], stride: [usize; 2], pad: [usize; 2]) -> Option<Self> {
        let out = |d: usize| (in_hw[d] + 2 * pad[d]).checked_sub(k[d]).map(|v| v / stride[d] + 1);
        let (out_h, out_w) = (out(0)?, out(1)?);
        let u = |v: usize| v as u32;
        Some(PoolParams {
            planes: u(planes),
            in_h: u(in_hw[0]),
            in_w: u(in_hw[1]),
            out_h: u(out_h),
            out_w: u(out_w),
            k_h: u(k[0]),
            k_w: u(k[1]),
            stride_h: u(stride[0]),
            stride_w: u(stride[1]),
            pad_h: u(pad[0]),
            pad_w: u(pad[1]),
            _pad: 0,
        })
    }
    /// Global average pooling of `planes` planes of `in_hw` (a window of the whole plane).
    pub fn global(planes: usize, in_hw: [usize; 2]) -> Self {
        let mut p = Self::new(planes, in_hw, in_hw, [1, 1], [0, 0]).unwrap_or_else(Zeroable::zeroed);
        p.planes = planes as u32;
        p
    }
    /// Elements of x: `planes * in_h * in_w`.
    pub fn input_len(&self) -> usize {
        self.planes as usize * self.in_h as usize * self.in_w as usize
    }
    /// Elements of y: `planes * out_h * out_w`.
    pub fn output_len(&self) -> usize {
        self.planes as usize * self.out_h as usize * self.out_w as usize
    }
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// A pooling entry point on f32 and f16 tensors (compared and summed in f32).
const fn pool(entry: &'static str, bindings: &'static [Access]) -> ElemKernel {
    ElemKernel::new(Shader::Pool, Shader::PoolF16, entry, bindings)
}

/// (x, y, argmax).
pub static MAX_FORWARD: ElemKernel = pool("max_pool_forward", &[R, W, W]);
/// (dy, argmax, dx).
pub static MAX_BACKWARD: ElemKernel = pool("max_pool_backward", &[R, R, W]);
/// `MAX_FORWARD` for disjoint windows with x read from a linear texture (CPU adapters), four
/// outputs an invocation ([`texture_forward`]): (x texture, y, argmax), both bound in whole vec4s.
pub static MAX_FORWARD_TEXTURE: KernelSpec =
    KernelSpec { shader: Shader::PoolTexture, entry: "max_pool_forward_texture", bindings: &[Access::Texture, W, W] };
/// `MAX_BACKWARD` for disjoint windows with dy and the indices read from linear textures, four
/// input elements an invocation ([`texture_backward`]): (dy texture, argmax texture, dx in
/// whole vec4s).
pub static MAX_BACKWARD_TEXTURE: KernelSpec = KernelSpec {
    shader: Shader::PoolTexture,
    entry: "max_pool_backward_texture",
    bindings: &[Access::Texture, Access::TextureU32, W],
};
/// (x, y).
pub static AVG_FORWARD: ElemKernel = pool("avg_pool_forward", &[R, W]);
/// (dy, dx).
pub static AVG_BACKWARD: ElemKernel = pool("avg_pool_backward", &[R, W]);
/// (x, y).
pub static GLOBAL_AVG_FORWARD: ElemKernel = pool("global_avg_pool_forward", &[R, W]);
/// (dy, dx).
pub static GLOBAL_AVG_BACKWARD: ElemKernel = pool("global_avg_pool_backward", &[R, W]);

impl PoolParams {
    /// Whether windows neither overlap nor reach into padding (stride >= k, pad = 0), so each
    /// input element lies in at most one window.
    pub fn disjoint(&self) -> bool {
        self.stride_h >= self.k_h && self.stride_w >= self.k_w && self.pad_h == 0 && self.pad_w == 0
    }
}

/// The shader's `KH`, `KW` (the window size for disjoint windows, else 0: the general loops)
/// and the shape constants its index arithmetic divides by.
fn window_constants(p: &PoolParams) -> Constants {
    let (kh, kw) = if p.disjoint() { (p.k_h, p.k_w) } else { (0, 0) };
    Constants::new(&[
        ("KH", kh),
        ("KW", kw),
        ("IN_H", p.in_h),
        ("IN_W", p.in_w),
        ("OUT_H", p.out_h),
        ("OUT_W", p.out_w),
        ("STRIDE_H", p.stride_h),
        ("STRIDE_W", p.stride_w),
    ])
}

/// Max or average forward: an invocation per output.
pub fn forward(kernel: &'static KernelSpec, p: &PoolParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.output_len(), 256)).with_constants(window_constants(p))
}
/// Max or average backward: an invocation per input element.
pub fn backward(kernel: &'static KernelSpec, p: &PoolParams) -> Launch {
    Launch::new(kernel, p, grid_1d(p.input_len(), 256)).with_constants(window_constants(p))
}
/// [`MAX_FORWARD_TEXTURE`]: an invocation per four outputs.
pub fn texture_forward(p: &PoolParams) -> Launch {
    Launch::new(&MAX_FORWARD_TEXTURE, p, grid_1d(p.output_len().div_ceil(4), 256)).with_constants(window_constants(p))
}
/// [`MAX_BACKWARD_TEXTURE`]: an invocation per four input elements.
pub fn texture_backward(p: &PoolParams) -> Launch {
    Launch::new(&MAX_BACKWARD_TEXTURE, p, grid_1d(p.input_len().div_ceil(4), 256)).with_constants(window_constants(p))
}
/// Global average forward (on f16 tensors when `f16`): a workgroup per plane.
pub fn global_forward(p: &PoolParams, f16: bool) -> Launch {
    Launch::new(GLOBAL_AVG_FORWARD.of(f16), p, grid_1d(p.planes as usize, 1))
}
/// Global average backward (on f16 tensors when `f16`): an invocation per input element. No
/// shape constants: its one division per element does not pay for a pipeline per input size.
pub fn global_backward(p: &PoolParams, f16: bool) -> Launch {
    Launch::new(GLOBAL_AVG_BACKWARD.of(f16), p, grid_1d(p.input_len(), 256))
}
