//! # wgtrain-tensor
//!
//! Device tensors for wgtrain: adapter choice, the device with its buffer pool and command
//! batching, and [`Tensor`] with its ops, each running a kernel from `wgtrain-kernels`.
//!
//! ## Execution model
//! - **Batching**: ops record compute passes into one pending command encoder, submitted every
//!   64 dispatches or when a read-back (`to_vec`, `item`) needs results. Nothing else waits.
//! - **Parameters**: each dispatch's params struct gets its own slot in a per-submit uniform
//!   arena uploaded just before the submit, so parameters can never be overwritten under a
//!   recorded dispatch.
//! - **Memory**: buffers come from a pool keyed by size class; a released buffer rejoins the
//!   pool only after the submit that last used it. Memory stays flat over training steps.
//! - **Pipelines**: created once per (module, entry point, override constants), with explicit
//!   layouts shared by kernels of the same binding pattern.
//! - **Determinism**: no float atomics; every reduction has a fixed order, so a run is
//!   bit-for-bit repeatable on the same adapter.
//! - **Profiling**: `WGTRAIN_PROFILE=1` or [`Device::set_profiling`] times every kernel alone
//!   ([`Device::profile`]), to find where a workload's time goes.
//!
//! ```no_run
//! use wgtrain_tensor::{Device, Tensor};
//! # fn main() -> wgtrain_tensor::Result<()> {
//! let dev = Device::new()?;
//! let a = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
//! let b = a.transpose(0, 1)?.matmul(&a)?.relu()?;
//! assert_eq!(b.to_vec::<f32>()?, vec![10.0, 14.0, 14.0, 20.0]);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod adapter;
mod batch;
mod coop;
mod coop_check;
mod cpu;
mod creation;
mod custom;
mod device;
mod dtype;
mod error;
mod fault;
#[cfg(test)]
mod layering;
pub mod ops;
mod pipeline_file;
mod plan;
mod pool;
pub mod profile;
pub mod shape;
mod strategy;
mod tensor;

pub use adapter::{AdapterChoice, AdapterSummary};
pub use coop::CoopStatus;
pub use custom::{CustomKernel, KernelArg};
pub use device::{Device, DeviceOptions};
pub use dtype::{DType, Element};
pub use error::{IndexKind, Result, TensorError};
pub use ops::{
    AdagradParams, AdamParams, AugmentOptions, BatchNormOutput, Conv2dOptions, LayerNormOutput, LossScale,
    LossScaleState, MatmulOptions, MaxPool2dOutput, NormGrads, Pool2dOptions, ReduceOp, RmspropParams, SgdParams,
    UpdateOptions, XentOptions, adagrad_step, adam_step, rmsprop_step, sgd_step,
};
pub use ops::{DEFAULT_GROWTH_INTERVAL, DEFAULT_INITIAL_SCALE};
pub use pipeline_file::{PipelineCacheDir, PipelineCacheStatus};
pub use pool::PoolStats;
pub use profile::KernelTime;
pub use strategy::Strategy;
pub use tensor::Tensor;
pub use wgtrain_kernels::ops::fault::FaultOp;
pub use wgtrain_kernels::ops::map::{BinaryOp, TernaryOp, UnaryOp};
