//! Launchers of `fault.wgsl`: device-side checks of user-given indices (labels, embedding ids,
//! gather indices) and of non-finite values, reported through the device's *fault record*
//! rather than a host read-back per op. The tensor layer owns the record (one small buffer per
//! device), binds it to these kernels, and reads it with its next read-back.
//!
//! Shape contract: indices are `n` 32-bit words (u32, or i32 bits), contiguous from element 0;
//! `check_finite` takes `n` contiguous f32. The record is [`RECORD_WORDS`] u32 words laid out as
//! the `RECORD_*` constants say; all zero means no fault.

use bytemuck::{Pod, Zeroable};

use crate::launch::grid_1d;
use crate::{Access, KernelSpec, Launch, Shader};

/// Words of the fault record.
pub const RECORD_WORDS: usize = 8;
/// Record word: the [`FaultOp`] code of the first index fault (0: none).
pub const RECORD_OP: usize = 0;
/// Record word: the position of the first bad index in the op's index tensor.
pub const RECORD_POSITION: usize = 1;
/// Record word: the bad value's bits.
pub const RECORD_VALUE: usize = 2;
/// Record word: the bound the value broke (valid values are `0..limit`).
pub const RECORD_LIMIT: usize = 3;
/// Record word: 1 when the indices were i32 (the value is shown signed).
pub const RECORD_SIGNED: usize = 4;
/// Record word: `!tag` of the first (smallest-tagged) non-finite tensor checked; 0: none.
pub const RECORD_NONFINITE: usize = 5;

/// The op whose indices a check guards: it names the op in the error and says whether its
/// indices are class labels or indices.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultOp {
    /// The fused softmax cross-entropy (`Tensor::cross_entropy_*`): labels.
    CrossEntropy = 1,
    /// Sparse categorical cross-entropy on probabilities (the training crate's loss): labels.
    SparseCrossEntropy = 2,
    /// `Tensor::embedding`: indices into the table's rows.
    Embedding = 3,
    /// `Tensor::one_hot`: labels.
    OneHot = 4,
    /// `Tensor::gather`: indices along the axis.
    Gather = 5,
}

impl FaultOp {
    /// Every op, for decoding a record.
    pub const ALL: [FaultOp; 5] =
        [FaultOp::CrossEntropy, FaultOp::SparseCrossEntropy, FaultOp::Embedding, FaultOp::OneHot, FaultOp::Gather];

    /// The op as its error message names it.
    pub fn name(self) -> &'static str {
        match self {
            FaultOp::CrossEntropy => "cross_entropy",
            FaultOp::SparseCrossEntropy => "sparse_categorical_crossentropy",
            FaultOp::Embedding => "embedding",
            FaultOp::OneHot => "one_hot",
            FaultOp::Gather => "gather",
        }
    }
    /// Whether the op's indices are class labels (else indices into a tensor).
    pub fn takes_labels(self) -> bool {
        matches!(self, FaultOp::CrossEntropy | FaultOp::SparseCrossEntropy | FaultOp::OneHot)
    }
    /// The op with record code `code`, if any.
    pub fn from_code(code: u32) -> Option<FaultOp> {
        FaultOp::ALL.into_iter().find(|&op| op as u32 == code)
    }
}

/// Parameters of `check_indices`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Default)]
pub struct CheckParams {
    /// Indices to check.
    pub n: u32,
    /// Valid values are `0..limit`.
    pub limit: u32,
    /// 1 when `ignore` is skipped rather than a fault.
    pub has_ignore: u32,
    /// The ignored value's bits (an i32 such as -100 as its two's complement).
    pub ignore: u32,
    /// The [`FaultOp`] code the record gets.
    pub op: u32,
    /// 1 when the indices are i32.
    pub signed: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 2],
}

impl CheckParams {
    /// A check of `n` indices against `0..limit` for `op`, skipping `ignore` (bits) if given.
    pub fn new(op: FaultOp, n: usize, limit: usize, ignore: Option<u32>, signed: bool) -> Self {
        CheckParams {
            n: n as u32,
            // A limit past u32 admits every u32 value.
            limit: limit.min(u32::MAX as usize) as u32,
            has_ignore: ignore.is_some() as u32,
            ignore: ignore.unwrap_or(0),
            op: op as u32,
            signed: signed as u32,
            _pad: [0; 2],
        }
    }
}

/// Parameters of `check_finite`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Default)]
pub struct FiniteParams {
    /// f32 elements to check.
    pub n: u32,
    /// The caller's name for the tensor; the record keeps the smallest tag that was non-finite.
    pub tag: u32,
    /// Padding to 16 bytes.
    pub _pad: [u32; 2],
}

/// Bindings (indices, record): one workgroup finds the first bad index.
pub static CHECK_INDICES: KernelSpec =
    KernelSpec { shader: Shader::Fault, entry: "check_indices", bindings: &[Access::Read, Access::ReadWrite] };
/// Bindings (values, record): flags a non-finite element.
pub static CHECK_FINITE: KernelSpec =
    KernelSpec { shader: Shader::Fault, entry: "check_finite", bindings: &[Access::Read, Access::ReadWrite] };

/// `check_indices` as a single workgroup (the price of a race-free first position: fine for
/// label and id tensors, which are small next to the data they index).
pub fn check_indices(p: &CheckParams) -> Launch {
    Launch::new(&CHECK_INDICES, p, [1, 1, 1])
}

/// `check_finite` over `p.n` elements.
pub fn check_finite(p: &FiniteParams) -> Launch {
    Launch::new(&CHECK_FINITE, p, grid_1d(p.n as usize, 256))
}
