//! Errors of the tensor layer. Variants name the op and carry what was expected and what was
//! given (shapes, dtypes, limits), so a message alone says what to fix.

use thiserror::Error;

use crate::DType;

/// Result of tensor operations.
pub type Result<T> = std::result::Result<T, TensorError>;

/// What can go wrong in the tensor layer: device setup, shape and dtype checks, adapter limits
/// and GPU failures.
#[derive(Debug, Error)]
pub enum TensorError {
    /// No adapter was found (matching `WGTRAIN_ADAPTER` or [`AdapterChoice::Named`], when set).
    ///
    /// [`AdapterChoice::Named`]: crate::AdapterChoice::Named
    #[error(
        "no usable GPU adapter{}: install a GPU driver, or Mesa's software Vulkan driver \
         (`apt-get install mesa-vulkan-drivers`); adapters seen: {seen}",
        if .wanted.is_empty() { String::new() } else { format!(" matching WGTRAIN_ADAPTER={:?}", .wanted) }
    )]
    NoAdapter {
        /// The requested name or backend; empty for automatic choice.
        wanted: String,
        /// Every adapter wgpu enumerated, or `none`.
        seen: String,
    },
    /// The adapter refused to open a device (e.g. it lacks the limits wgtrain requests).
    #[error("could not open the device on {adapter}: {message}")]
    RequestDevice {
        /// The adapter's summary.
        adapter: String,
        /// wgpu's message.
        message: String,
    },
    /// An operand has the wrong shape.
    #[error("{op}: shape mismatch: expected {expected}, got {got:?}")]
    Shape {
        /// The op that checked.
        op: &'static str,
        /// What the op needs, in words (e.g. `[n, c, h, w]`).
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// Two operands' shapes do not fit together (broadcasting, matmul inner dimensions, ...).
    #[error("{op}: shapes {lhs:?} and {rhs:?} are not compatible: {why}")]
    Incompatible {
        /// The op that checked.
        op: &'static str,
        /// The first operand's shape.
        lhs: Vec<usize>,
        /// The second operand's shape.
        rhs: Vec<usize>,
        /// Which dimensions disagree.
        why: String,
    },
    /// An operand has the wrong element type.
    #[error("{op}: dtype mismatch: expected {expected:?}, got {got:?}")]
    DType {
        /// The op that checked.
        op: &'static str,
        /// The dtype the op needs.
        expected: DType,
        /// The dtype given.
        got: DType,
    },
    /// An argument is out of range or inconsistent (an axis, a kernel size, a probability, ...).
    #[error("{op}: invalid argument: {why}")]
    Argument {
        /// The op that checked.
        op: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// A buffer or binding would exceed one of the adapter's limits.
    #[error("{op}: {what} needs {bytes} bytes, over this adapter's limit of {limit} bytes ({limit_name})")]
    Limit {
        /// The op that checked.
        op: &'static str,
        /// The buffer or binding, in words.
        what: String,
        /// Bytes it needs.
        bytes: u64,
        /// The adapter's limit, in bytes.
        limit: u64,
        /// The `wgpu::Limits` field, e.g. `max_storage_buffer_binding_size`.
        limit_name: &'static str,
    },
    /// The op needs an adapter feature this device lacks (e.g. `SHADER_F16` for f16 tensors).
    #[error("{op}: this adapter lacks the {feature} feature")]
    Feature {
        /// The op that checked.
        op: &'static str,
        /// The missing wgpu feature.
        feature: &'static str,
    },
    /// Operands were created on different [`Device`](crate::Device)s.
    #[error("{op}: tensors live on different devices")]
    DeviceMismatch {
        /// The op that checked.
        op: &'static str,
    },
    /// The device could not allocate a buffer.
    #[error("out of device memory while allocating {bytes} bytes")]
    OutOfMemory {
        /// Size of the failed allocation.
        bytes: u64,
    },
    /// The device was lost (driver reset, GPU removed, or [`crate::Device::simulate_loss`]); its
    /// tensors are unusable, and every later op on it fails with this error.
    #[error(
        "the GPU device was lost ({0}): its tensors and the work since the last read-back are gone; \
         make a new Device and load the last checkpoint to go on"
    )]
    DeviceLost(String),
    /// Any other error wgpu reported (validation, internal), with its message.
    #[error("GPU error: {0}")]
    Gpu(String),
    /// A shader failed to parse, validate or specialize.
    #[error(transparent)]
    Kernel(#[from] wgtrain_kernels::KernelError),
    /// A label or index given to an op on the device was out of range. Found by a device-side
    /// check and reported by the next read-back (of any tensor), once (see `fault.rs`).
    #[error(
        "{op}: {what} {value} at position {position} is out of range 0..{limit}{}",
        if matches!(.what, IndexKind::Label) { " (to skip a padding label, set ignore_index to it)" } else { "" }
    )]
    IndexOutOfRange {
        /// The op that took the indices.
        op: &'static str,
        /// Whether they were class labels or indices.
        what: IndexKind,
        /// The first bad value (i32 labels shown signed).
        value: i64,
        /// Its position in the (flattened) index tensor.
        position: u64,
        /// The bound: classes, table rows or the axis extent.
        limit: u64,
    },
    /// A tensor checked with [`Tensor::check_finite`](crate::Tensor::check_finite) held a NaN or
    /// an infinity; `tag` is the smallest tag flagged since the last read-back.
    #[error("a tensor checked with tag {tag} holds NaN or infinity")]
    NonFinite {
        /// The tag the check was given.
        tag: u32,
    },
}

/// What an out-of-range value was to its op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// A class label (cross-entropy, one_hot).
    Label,
    /// An index into a tensor (embedding ids, gather indices).
    Index,
}

impl std::fmt::Display for IndexKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IndexKind::Label => "label",
            IndexKind::Index => "index",
        })
    }
}
