//! Running a user's own WGSL entry point on tensors, so higher crates and users never touch
//! `wgpu`. The kernel follows wgtrain's binding convention: `@group(0) @binding(0)` is an
//! optional `var<uniform>` params struct, and bindings 1.. are the tensor arguments, in order,
//! `var<storage, read>` for [`KernelArg::Read`] and `var<storage, read_write>` for
//! [`KernelArg::Write`]. The source is validated by naga when the kernel is made, and its
//! pipeline is cached like the built-in ones.
//!
//! ```no_run
//! use wgtrain_tensor::{CustomKernel, Device, KernelArg, Tensor};
//! # fn main() -> wgtrain_tensor::Result<()> {
//! let dev = Device::new()?;
//! let k = CustomKernel::new(r#"
//!     struct P { scale: f32 }
//!     @group(0) @binding(0) var<uniform> p: P;
//!     @group(0) @binding(1) var<storage, read> x: array<f32>;
//!     @group(0) @binding(2) var<storage, read_write> y: array<f32>;
//!     @compute @workgroup_size(64)
//!     fn scale(@builtin(global_invocation_id) g: vec3<u32>) {
//!         if (g.x < arrayLength(&y)) { y[g.x] = x[g.x] * p.scale; }
//!     }"#, "scale", 2)?;
//! let x = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0], &[3])?;
//! let y = Tensor::zeros(&dev, &[3], wgtrain_tensor::DType::F32)?;
//! k.run(&dev, bytemuck::bytes_of(&[2.0f32, 0.0, 0.0, 0.0]), &[KernelArg::Read(&x), KernelArg::Write(&y)], [1, 1, 1])?;
//! assert_eq!(y.to_vec::<f32>()?, vec![2.0, 4.0, 6.0]);
//! # Ok(()) }
//! ```

use std::sync::Arc;

use wgtrain_kernels::pipeline::ModuleKey;
use wgtrain_kernels::{Access, Constants, PARAMS_SLOT_BYTES, validate};

use crate::device::{Device, Resource};
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// A tensor argument of a custom kernel.
pub enum KernelArg<'a> {
    /// Bound `var<storage, read>`.
    Read(&'a Tensor),
    /// Bound `var<storage, read_write>`; the kernel writes it in place.
    Write(&'a Tensor),
}

/// A user's WGSL compute entry point.
#[derive(Debug, Clone)]
pub struct CustomKernel {
    source: Arc<str>,
    entry: String,
    args: usize,
}

impl CustomKernel {
    /// Validates `source` with naga and checks that `entry` is one of its compute entry points
    /// taking `args` tensor bindings.
    pub fn new(source: &str, entry: &str, args: usize) -> Result<CustomKernel> {
        let (module, _) = validate::validate_wgsl("custom kernel", source)?;
        if !module.entry_points.iter().any(|e| e.name == entry && e.stage == naga::ShaderStage::Compute) {
            return Err(TensorError::Argument {
                op: "custom kernel",
                why: format!("no compute entry point named {entry:?} in the source"),
            });
        }
        Ok(CustomKernel { source: source.into(), entry: entry.to_string(), args })
    }

    /// Records one dispatch of `workgroups` with `params` (at most 256 bytes) at binding 0.
    /// Written tensors are modified in place; keep them as views of storage you own.
    pub fn run(&self, device: &Device, params: &[u8], args: &[KernelArg<'_>], workgroups: [u32; 3]) -> Result<()> {
        let op = "custom kernel";
        if args.len() != self.args {
            return Err(TensorError::Argument {
                op,
                why: format!("expected {} tensor arguments, got {}", self.args, args.len()),
            });
        }
        if params.len() > PARAMS_SLOT_BYTES {
            return Err(TensorError::Argument {
                op,
                why: format!("params are {} bytes, at most {PARAMS_SLOT_BYTES}", params.len()),
            });
        }
        let mut access = Vec::with_capacity(args.len());
        let mut bindings = Vec::with_capacity(args.len());
        for a in args {
            let (t, acc) = match a {
                KernelArg::Read(t) => (t, Access::Read),
                KernelArg::Write(t) => {
                    t.mark_modified();
                    (t, Access::ReadWrite)
                }
            };
            if t.device() != device {
                return Err(TensorError::DeviceMismatch { op });
            }
            access.push(acc);
            let (buffer, bytes) = t.binding();
            bindings.push(Resource::Buffer((buffer, 0, bytes)));
        }
        let pipeline =
            device.pipelines().get(ModuleKey::Custom(self.source.clone()), &self.entry, &access, &Constants::default());
        let mut p = params.to_vec();
        p.resize(params.len().max(16).next_multiple_of(16), 0);
        device.record(&pipeline, "custom kernel", &access, &p, workgroups, &bindings)
    }
}
