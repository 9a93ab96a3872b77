//! `take_rows`: rows of a tensor, chosen on the host, copied into a new tensor with buffer
//! copies instead of a kernel. A copy has no binding limit, so this reaches every row of a
//! tensor larger than one storage binding (a whole data set on the device), which no kernel
//! can bind whole. Consecutive rows go in one copy, so an in-order batch is a single copy.

use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// wgpu's `COPY_BUFFER_ALIGNMENT`: copy offsets and sizes are multiples of 4 bytes.
const COPY_ALIGN: usize = 4;

impl Tensor {
    /// Whether a kernel can bind this tensor's storage whole (see
    /// [`Device::max_binding_bytes`](crate::Device::max_binding_bytes)).
    pub fn fits_one_binding(&self) -> bool {
        self.storage.bytes() <= self.device().max_binding_bytes()
    }

    /// Rows `rows` (indices along dimension 0) of a contiguous tensor, as a new contiguous
    /// `[rows.len(), ...]` tensor, copied on the device without binding the source. Rows of an
    /// odd number of f16 elements cannot be copied (copies move whole 4-byte words).
    ///
    /// ```no_run
    /// # use wgtrain_tensor::{Device, Tensor};
    /// # fn main() -> wgtrain_tensor::Result<()> {
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2])?;
    /// assert_eq!(x.take_rows(&[2, 0])?.to_vec::<f32>()?, [4.0, 5.0, 0.0, 1.0]);
    /// # Ok(()) }
    /// ```
    pub fn take_rows(&self, rows: &[u32]) -> Result<Tensor> {
        const OP: &str = "take_rows";
        let Some(&n) = self.shape.first() else {
            return Err(TensorError::Shape { op: OP, expected: "a tensor of rank >= 1".into(), got: vec![] });
        };
        if !self.is_contiguous() {
            return Err(TensorError::Argument { op: OP, why: "the source must be contiguous".into() });
        }
        let row_bytes = self.shape[1..].iter().product::<usize>() * self.dtype().size();
        let start_bytes = self.offset * self.dtype().size();
        if !row_bytes.is_multiple_of(COPY_ALIGN) || !start_bytes.is_multiple_of(COPY_ALIGN) {
            let why = format!("rows of {row_bytes} bytes are not whole 4-byte words, which buffer copies need");
            return Err(TensorError::Argument { op: OP, why });
        }
        if let Some((i, &r)) = rows.iter().enumerate().find(|&(_, &r)| r as usize >= n) {
            let why = format!("row index {r} at position {i} is out of range for {n} rows");
            return Err(TensorError::Argument { op: OP, why });
        }
        let mut shape = self.shape.clone();
        shape[0] = rows.len();
        let out = Tensor::empty(self.device(), &shape, self.dtype())?;
        if row_bytes == 0 {
            return Ok(out);
        }
        let (src, dst) = (self.storage.buffer(), out.storage.buffer());
        let mut i = 0;
        while i < rows.len() {
            // The run of consecutive source rows starting at position i.
            let run = 1 + rows[i + 1..].iter().zip(&rows[i..]).take_while(|(b, a)| **b == **a + 1).count();
            let from = (start_bytes + rows[i] as usize * row_bytes) as u64;
            let to = (i * row_bytes) as u64;
            self.device().copy_buffer(src, from, dst, to, (run * row_bytes) as u64);
            i += run;
        }
        Ok(out)
    }

    /// Fills this new contiguous tensor with `parts` one after another along dimension 0 by
    /// buffer copies, when every part is contiguous at a 4-byte-aligned offset and a whole
    /// number of 4-byte words; `false` (nothing done) otherwise, for the caller's kernel.
    pub(crate) fn copy_rows_from(&self, parts: &[&Tensor]) -> bool {
        let size = self.dtype().size();
        let aligned = |t: &Tensor| {
            t.is_contiguous()
                && (t.offset * size).is_multiple_of(COPY_ALIGN)
                && (t.len() * size).is_multiple_of(COPY_ALIGN)
        };
        if !self.is_contiguous() || self.offset != 0 || !parts.iter().all(|t| aligned(t)) {
            return false;
        }
        let mut to = 0u64;
        for t in parts.iter().filter(|t| !t.is_empty()) {
            let bytes = (t.len() * size) as u64;
            self.device().copy_buffer(t.storage.buffer(), (t.offset * size) as u64, self.storage.buffer(), to, bytes);
            to += bytes;
        }
        self.mark_modified();
        true
    }
}
