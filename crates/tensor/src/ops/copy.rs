//! Layout and dtype changes: `contiguous`, `copy`, `cast`, writing into views (the base of
//! `concat` and `pad`).

use wgtrain_kernels::KernelSpec;
use wgtrain_kernels::ops::map::{self, MapParams, WordCast};

use super::operand;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

impl Tensor {
    /// This tensor if it is already row-major, else a row-major copy.
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() { Ok(self.clone()) } else { self.copy() }
    }

    /// Row-major at element 0 of its storage: for kernels that index from the start of their
    /// bindings. A copy unless the tensor already is.
    pub(crate) fn dense(&self) -> Result<Tensor> {
        if self.is_contiguous() && self.offset == 0 { Ok(self.clone()) } else { self.copy() }
    }

    /// A row-major copy with its own storage.
    pub fn copy(&self) -> Result<Tensor> {
        let out = Tensor::empty(self.device(), &self.shape, self.dtype())?;
        out.assign(self)?;
        Ok(out)
    }

    /// Writes `src` (broadcast to this view's shape) into this view, in place: every tensor
    /// sharing the storage sees the write. The base of `concat`, `pad` and slice gradients.
    pub fn assign(&self, src: &Tensor) -> Result<()> {
        self.same_device("assign", src)?;
        if self.dtype() != src.dtype() {
            return Err(TensorError::DType { op: "assign", expected: self.dtype(), got: src.dtype() });
        }
        if self.is_empty() {
            return Ok(());
        }
        let src = src.broadcast_to(&self.shape).map_err(|_| TensorError::Incompatible {
            op: "assign",
            lhs: self.shape.clone(),
            rhs: src.shape.clone(),
            why: "the source does not broadcast to the destination's shape".into(),
        })?;
        let kernel: &'static KernelSpec = if self.dtype() == DType::F16 { &map::COPY_F16 } else { &map::COPY };
        let p = MapParams::new(&self.shape, &[operand(&src), operand(self)], 0, 0.0, 0.0);
        self.mark_modified();
        self.device().dispatch(&map::launch(kernel, &p), &[src.binding(), self.binding()])
    }

    /// Converts to `dtype` (f32 <-> f16 by rounding, f32 -> integers by truncation toward zero,
    /// negatives to 0 for u32; i32 <-> u32 reinterpret the bits).
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        use DType::*;
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        let (kernel, code): (&'static KernelSpec, u32) = match (self.dtype(), dtype) {
            (F32, F16) => (&map::CAST_F32_F16, 0),
            (F16, F32) => (&map::CAST_F16_F32, 0),
            (F32, I32) => (&map::CAST_WORD, WordCast::F32ToI32 as u32),
            (F32, U32) => (&map::CAST_WORD, WordCast::F32ToU32 as u32),
            (I32, F32) => (&map::CAST_WORD, WordCast::I32ToF32 as u32),
            (U32, F32) => (&map::CAST_WORD, WordCast::U32ToF32 as u32),
            (I32, U32) | (U32, I32) => (&map::CAST_WORD, WordCast::Reinterpret as u32),
            (F16, _) => return self.cast(F32)?.cast(dtype),
            (_, F16) => return self.cast(F32)?.cast(F16),
            _ => unreachable!("equal dtypes returned above"),
        };
        let out = Tensor::empty(self.device(), &self.shape, dtype)?;
        if out.is_empty() {
            return Ok(out);
        }
        let p = MapParams::new(&self.shape, &[operand(self), operand(&out)], code, 0.0, 0.0);
        self.device().dispatch(&map::launch(kernel, &p), &[self.binding(), out.binding()])?;
        Ok(out)
    }
}
