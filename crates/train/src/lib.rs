//! # wgtrain
//!
//! Keras-level ease with PyTorch-level control, on any GPU wgpu reaches (Vulkan, Metal, DX12,
//! GL) and on software adapters. Every number is computed by WGSL compute shaders.
//!
//! This crate re-exports the lower layers: [`tensor`] (device tensors and kernels),
//! [`autograd`] (the define-by-run graph), and adds optimizers, losses and metrics.

pub mod callbacks;
pub mod checkpoint;
pub mod data;
mod error;
pub mod init;
pub mod layers;
mod logs;
pub mod losses;
pub mod metrics;
pub mod models;
pub mod optim;
mod param;
pub mod tensorboard;

pub use error::{Result, TrainError};
pub use logs::{History, Logs};
pub use param::Param;
pub use wgtrain_autograd as autograd;
pub use wgtrain_tensor as tensor;
