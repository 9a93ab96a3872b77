//! # wgtrain
//!
//! Keras-level ease with PyTorch-level control, on any GPU wgpu reaches (Vulkan, Metal, DX12,
//! GL) and on software adapters. Every number is computed by WGSL compute shaders.
//!
//! - Build a network: [`models::Sequential`] (a stack) or [`models::Functional`] (any graph
//!   of [`layers`], shared layers, skip connections, several inputs).
//! - Wrap it in a [`models::Model`], `compile` it with an [`optim`] optimizer, a [`losses`]
//!   loss and [`metrics`], then `fit` / `evaluate` / `predict`, with [`callbacks`]
//!   (early stopping, checkpoints, LR schedules, TensorBoard, resuming) and [`checkpoint`]s.
//! - Or drive it yourself: `Model::train_step`, or [`autograd`] `Var`s and an optimizer.
//! - Data: [`data`] (datasets, a threaded loader, CIFAR-10, GPU augmentation).
//!
//! ```no_run
//! use wgtrain::prelude::*;
//! # fn main() -> wgtrain::Result<()> {
//! let dev = Device::new()?;
//! let x = Tensor::rand_uniform(&dev, &[256, 2], -1.0, 1.0, 1)?;
//! let y = x.sum(&[1], false)?.gt_scalar(0.0)?.cast(DType::U32)?; // label: x0 + x1 > 0
//! let net = Sequential::new(&dev, &[2]).add(Dense::new(16).relu())?.add(Dense::new(2))?;
//! let mut model = Model::new(net);
//! model.compile(Adam::new(1e-2), SparseCategoricalCrossEntropy::from_logits(), vec![Box::new(SparseCategoricalAccuracy::new())])?;
//! let history = model.fit(&x, &y, FitOptions { epochs: 10, batch_size: 32, ..Default::default() })?;
//! println!("{}", model.summary());
//! println!("accuracy {:?}", history.get("accuracy").last());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod callbacks;
pub mod checkpoint;
pub mod constraints;
pub mod data;
pub mod distributed;
mod error;
pub mod init;
pub mod layers;
mod logs;
pub mod losses;
pub mod metrics;
pub mod models;
pub mod optim;
mod param;
pub mod plot;
pub mod policy;
pub mod prelude;
pub mod registry;
pub mod regularizers;
pub mod tensorboard;

pub use error::{Result, TrainError};
pub use logs::{History, Logs, StopReason};
pub use param::Param;
pub use wgtrain_autograd as autograd;
pub use wgtrain_kernels as kernels;
pub use wgtrain_tensor as tensor;
