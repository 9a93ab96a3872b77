//! Runtime element types. f32 is the compute type; f16 is a storage type (where the adapter has
//! `SHADER_F16`) with casts; u32 and i32 hold indices, labels, argmax and pooling indices.

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float: the compute type of every op.
    F32,
    /// 16-bit float, a storage type; needs the adapter's `SHADER_F16`.
    F16,
    /// 32-bit unsigned integer: labels, indices, argmax.
    U32,
    /// 32-bit signed integer.
    I32,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F16 => 2,
            _ => 4,
        }
    }
}

/// A host type that maps to a [`DType`] and can be copied to and from device buffers.
pub trait Element: bytemuck::Pod + Send + Sync + std::fmt::Debug {
    /// The tensor dtype of this host type.
    const DTYPE: DType;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
}
impl Element for half::f16 {
    const DTYPE: DType = DType::F16;
}
impl Element for u32 {
    const DTYPE: DType = DType::U32;
}
impl Element for i32 {
    const DTYPE: DType = DType::I32;
}
