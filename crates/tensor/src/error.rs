//! Errors of the tensor layer. Variants name the op and carry what was expected and what was
//! given (shapes, dtypes, limits), so a message alone says what to fix.

use thiserror::Error;

use crate::DType;

/// Result of tensor operations.
pub type Result<T> = std::result::Result<T, TensorError>;

#[derive(Debug, Error)]
pub enum TensorError {
    #[error(
        "no usable GPU adapter{}: install a GPU driver, or Mesa's software Vulkan driver \
         (`apt-get install mesa-vulkan-drivers`); adapters seen: {seen}",
        if .wanted.is_empty() { String::new() } else { format!(" matching WGTRAIN_ADAPTER={:?}", .wanted) }
    )]
    NoAdapter { wanted: String, seen: String },
    #[error("could not open the device on {adapter}: {message}")]
    RequestDevice { adapter: String, message: String },
    #[error("{op}: shape mismatch: expected {expected}, got {got:?}")]
    Shape { op: &'static str, expected: String, got: Vec<usize> },
    #[error("{op}: shapes {lhs:?} and {rhs:?} are not compatible: {why}")]
    Incompatible { op: &'static str, lhs: Vec<usize>, rhs: Vec<usize>, why: String },
    #[error("{op}: dtype mismatch: expected {expected:?}, got {got:?}")]
    DType { op: &'static str, expected: DType, got: DType },
    #[error("{op}: invalid argument: {why}")]
    Argument { op: &'static str, why: String },
    #[error("{op}: {what} needs {bytes} bytes, over this adapter's limit of {limit} bytes ({limit_name})")]
    Limit { op: &'static str, what: String, bytes: u64, limit: u64, limit_name: &'static str },
    #[error("{op}: this adapter lacks the {feature} feature")]
    Feature { op: &'static str, feature: &'static str },
    #[error("{op}: tensors live on different devices")]
    DeviceMismatch { op: &'static str },
    #[error("out of device memory while allocating {bytes} bytes")]
    OutOfMemory { bytes: u64 },
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    #[error(transparent)]
    Kernel(#[from] wgtrain_kernels::KernelError),
}
