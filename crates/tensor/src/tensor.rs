//! The device tensor: a reference-counted storage buffer plus shape, strides and an element
//! offset. Views (`reshape` of contiguous data, `permute`, `transpose`, `slice`, `broadcast_to`,
//! `expand`, `squeeze`, `unsqueeze`) share the storage and copy nothing; `contiguous()` copies
//! only when the layout is not already row-major. Kernels that take strided input say so;
//! the others call `contiguous()` first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::pool::BufferKind;
use crate::shape::{axis, broadcast_shapes, check_rank, contiguous_strides};

/// A device buffer owned by the tensors that view it; released to the pool on drop.
/// Deliberately not `Clone`: tensors share it through an `Arc`.
pub struct Storage {
    pub(crate) device: Device,
    pub(crate) buffer: Option<wgpu::Buffer>,
    /// Elements the storage holds.
    pub(crate) len: usize,
    pub(crate) dtype: DType,
    /// Bumped by every in-place write (optimizer steps, running statistics, `assign`, custom
    /// kernels' written arguments), so autograd can detect a saved tensor changed under it.
    version: AtomicU64,
}

impl Storage {
    pub(crate) fn new(device: &Device, len: usize, dtype: DType, kind: BufferKind) -> Result<Storage> {
        // Checked: an element count that fits in usize may still overflow as bytes.
        let bytes = len.checked_mul(dtype.size()).ok_or_else(|| TensorError::Limit {
            op: "alloc",
            what: format!("a buffer of {len} {dtype:?} elements"),
            bytes: u64::MAX,
            limit: device.limits().max_buffer_size,
            limit_name: "max_buffer_size",
        })?;
        let bytes = bytes.max(4) as u64;
        let buffer = device.alloc(bytes, kind)?;
        Ok(Storage { device: device.clone(), buffer: Some(buffer), len, dtype, version: AtomicU64::new(0) })
    }
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("storage buffer is present until drop")
    }
    /// Bytes a kernel may address.
    pub(crate) fn bytes(&self) -> u64 {
        (self.len * self.dtype.size()).max(4) as u64
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Some(b) = self.buffer.take() {
            self.device.retire(b);
        }
    }
}

/// An n-dimensional array on a device.
#[derive(Clone)]
pub struct Tensor {
    pub(crate) storage: Arc<Storage>,
    pub(crate) shape: Vec<usize>,
    pub(crate) strides: Vec<usize>,
    pub(crate) offset: usize,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({:?}, {:?}, strides {:?}, offset {})", self.dtype(), self.shape, self.strides, self.offset)
    }
}

impl Tensor {
    /// A new, uninitialized contiguous tensor (every kernel writes all of its output).
    pub(crate) fn empty(device: &Device, shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::empty_of(device, shape, dtype, BufferKind::Storage)
    }

    /// [`Tensor::empty`] in a buffer of `kind`.
    pub(crate) fn empty_of(device: &Device, shape: &[usize], dtype: DType, kind: BufferKind) -> Result<Tensor> {
        check_rank("empty", shape)?;
        let storage = Storage::new(device, shape.iter().product(), dtype, kind)?;
        Ok(Tensor { storage: Arc::new(storage), shape: shape.to_vec(), strides: contiguous_strides(shape), offset: 0 })
    }

    /// Extents, outermost first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// Element (not byte) stride of each dimension; 0 for a broadcast dimension.
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }
    /// Element offset of the view in its storage.
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }
    /// Element type.
    pub fn dtype(&self) -> DType {
        self.storage.dtype
    }
    /// The device the storage lives on.
    pub fn device(&self) -> &Device {
        &self.storage.device
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    /// Whether some extent is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether the view is row-major with no gaps (it may still start at an offset).
    pub fn is_contiguous(&self) -> bool {
        self.shape.iter().zip(&self.strides).zip(contiguous_strides(&self.shape)).all(|((&e, &s), c)| e == 1 || s == c)
    }
    /// How many in-place writes the storage has had. Every view of one storage shares the count;
    /// autograd compares it with the count when a tensor was saved for backward.
    pub fn version(&self) -> u64 {
        self.storage.version.load(Ordering::Acquire)
    }
    /// Records an in-place write to the storage. The library's in-place ops call it; call it
    /// after writing a tensor by other means (e.g. a custom kernel) so autograd sees the change.
    pub fn mark_modified(&self) {
        self.storage.version.fetch_add(1, Ordering::AcqRel);
    }
    /// Whether two tensors share storage.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    pub(crate) fn binding(&self) -> (&wgpu::Buffer, u64) {
        (self.storage.buffer(), self.storage.bytes())
    }

    /// [`Tensor::binding`] rounded up to whole vec4s, for kernels that store four elements an
    /// invocation into a new output: the last group's extra lanes land in the buffer's own
    /// slack (buffers are whole multiples of 256 bytes).
    pub(crate) fn vec4_binding(&self) -> (&wgpu::Buffer, u64) {
        let (buffer, bytes) = self.binding();
        (buffer, bytes.next_multiple_of(16).min(buffer.size()))
    }

    pub(crate) fn view(&self, shape: Vec<usize>, strides: Vec<usize>, offset: usize) -> Tensor {
        Tensor { storage: self.storage.clone(), shape, strides, offset }
    }

    pub(crate) fn expect_dtype(&self, op: &'static str, dtype: DType) -> Result<()> {
        if self.dtype() != dtype {
            return Err(TensorError::DType { op, expected: dtype, got: self.dtype() });
        }
        Ok(())
    }

    /// Checks this is a float tensor (f32, or f16 on an adapter with `SHADER_F16`) and says
    /// whether it is f16.
    pub(crate) fn expect_float(&self, op: &'static str) -> Result<bool> {
        match self.dtype() {
            DType::F16 if !self.device().has_f16() => Err(TensorError::Feature { op, feature: "SHADER_F16" }),
            DType::F16 => Ok(true),
            _ => self.expect_dtype(op, DType::F32).map(|()| false),
        }
    }

    /// This float tensor as f32 (a cast when it is f16): how the ops that compute in f32
    /// whatever their input (reductions, softmax, cross-entropy, norms) take f16 tensors.
    pub(crate) fn widened(&self, op: &'static str) -> Result<Tensor> {
        if self.expect_float(op)? { self.cast(DType::F32) } else { Ok(self.clone()) }
    }

    pub(crate) fn same_device(&self, op: &'static str, other: &Tensor) -> Result<()> {
        if self.device() != other.device() {
            return Err(TensorError::DeviceMismatch { op });
        }
        Ok(())
    }

    /// Same data, new shape (one dimension may be `usize::MAX` to infer it). A view when the
    /// tensor is contiguous, else a contiguous copy first.
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if shape.len() > crate::shape::MAX_RANK {
            check_rank("reshape", shape)?;
        }
        let len = self.len();
        let mut shape = shape.to_vec();
        let known_dims: Vec<usize> = shape.iter().copied().filter(|&d| d != usize::MAX).collect();
        let known = crate::shape::numel("reshape", &known_dims)?;
        let inferred = shape.iter().filter(|&&d| d == usize::MAX).count();
        if inferred > 1 || (inferred == 1 && (known == 0 || !len.is_multiple_of(known))) {
            return Err(TensorError::Shape {
                op: "reshape",
                expected: format!("a shape with {len} elements"),
                got: shape,
            });
        }
        if let Some(d) = shape.iter_mut().find(|d| **d == usize::MAX) {
            *d = len / known;
        }
        if crate::shape::numel("reshape", &shape)? != len {
            return Err(TensorError::Shape {
                op: "reshape",
                expected: format!("a shape with {len} elements (from {:?})", self.shape),
                got: shape,
            });
        }
        let src = self.contiguous()?;
        let strides = contiguous_strides(&shape);
        Ok(src.view(shape, strides, src.offset))
    }

    /// Reorders dimensions: output dimension i is input dimension `perm[i]`. A view.
    pub fn permute(&self, perm: &[usize]) -> Result<Tensor> {
        let mut seen = vec![false; self.rank()];
        let valid =
            perm.len() == self.rank() && perm.iter().all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(TensorError::Argument {
                op: "permute",
                why: format!("{perm:?} is not a permutation of the {} dimensions of {:?}", self.rank(), self.shape),
            });
        }
        let shape = perm.iter().map(|&p| self.shape[p]).collect();
        let strides = perm.iter().map(|&p| self.strides[p]).collect();
        Ok(self.view(shape, strides, self.offset))
    }

    /// Swaps two dimensions (negative axes count from the end). A view.
    pub fn transpose(&self, a: isize, b: isize) -> Result<Tensor> {
        let (a, b) = (axis("transpose", a, self.rank())?, axis("transpose", b, self.rank())?);
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Elements `start..end` (step `step`) along `axis`. A view.
    pub fn slice(&self, ax: isize, start: usize, end: usize, step: usize) -> Result<Tensor> {
        let a = axis("slice", ax, self.rank())?;
        if step == 0 || start > end || end > self.shape[a] {
            return Err(TensorError::Argument {
                op: "slice",
                why: format!("range {start}..{end} step {step} on axis {a} of shape {:?}", self.shape),
            });
        }
        let mut shape = self.shape.clone();
        let mut strides = self.strides.clone();
        shape[a] = (end - start).div_ceil(step);
        strides[a] *= step;
        Ok(self.view(shape, strides, self.offset + start * self.strides[a]))
    }

    /// Broadcasts to `shape` (NumPy rules) with zero strides. A view.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        check_rank("broadcast_to", shape)?;
        let out = broadcast_shapes("broadcast_to", &self.shape, shape)?;
        if out != shape {
            return Err(TensorError::Incompatible {
                op: "broadcast_to",
                lhs: self.shape.clone(),
                rhs: shape.to_vec(),
                why: "the tensor cannot grow to that shape".into(),
            });
        }
        let lead = shape.len() - self.rank();
        let strides = (0..shape.len())
            .map(|i| if i < lead || self.shape[i - lead] == 1 && shape[i] != 1 { 0 } else { self.strides[i - lead] })
            .collect();
        Ok(self.view(shape.to_vec(), strides, self.offset))
    }

    /// PyTorch's `expand`: like [`broadcast_to`](Self::broadcast_to).
    pub fn expand(&self, shape: &[usize]) -> Result<Tensor> {
        self.broadcast_to(shape)
    }

    /// Inserts a unit dimension at `axis` (0..=rank). A view.
    pub fn unsqueeze(&self, ax: usize) -> Result<Tensor> {
        if ax > self.rank() {
            return Err(TensorError::Argument { op: "unsqueeze", why: format!("axis {ax} > rank {}", self.rank()) });
        }
        let mut shape = self.shape.clone();
        let mut strides = self.strides.clone();
        shape.insert(ax, 1);
        strides.insert(ax, 0);
        check_rank("unsqueeze", &shape)?;
        Ok(self.view(shape, strides, self.offset))
    }

    /// Removes a unit dimension. A view.
    pub fn squeeze(&self, ax: isize) -> Result<Tensor> {
        let a = axis("squeeze", ax, self.rank())?;
        if self.shape[a] != 1 {
            return Err(TensorError::Argument { op: "squeeze", why: format!("axis {a} of {:?} is not 1", self.shape) });
        }
        let mut shape = self.shape.clone();
        let mut strides = self.strides.clone();
        shape.remove(a);
        strides.remove(a);
        Ok(self.view(shape, strides, self.offset))
    }
}
