//! Making tensors and reading them back: host transfer (the only waits), constant fills,
//! `arange`, and seeded random tensors generated on the device (Philox, so the same seed gives
//! the same bits on every adapter and in the CPU twin).

use wgtrain_kernels::ops::{fill, random};

use crate::device::Device;
use crate::dtype::{DType, Element};
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

impl Tensor {
    /// Copies host data into a new contiguous tensor of `shape`; the dtype follows `E` (`f32`,
    /// `half::f16`, `u32`, `i32`). Fails with [`TensorError::Shape`] when `shape` does not hold
    /// `data.len()` elements, [`TensorError::Feature`] for f16 without `SHADER_F16`.
    ///
    /// ```no_run
    /// use wgtrain_tensor::{DType, Device, Tensor};
    /// # fn main() -> wgtrain_tensor::Result<()> {
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// let labels = Tensor::from_slice(&dev, &[0u32, 2], &[2])?;
    /// assert_eq!((x.shape(), labels.dtype()), (&[2, 3][..], DType::U32));
    /// # Ok(()) }
    /// ```
    pub fn from_slice<E: Element>(device: &Device, data: &[E], shape: &[usize]) -> Result<Tensor> {
        let n = crate::shape::numel("from_slice", shape)?;
        if n != data.len() {
            return Err(TensorError::Shape {
                op: "from_slice",
                expected: format!("a shape with {} elements (the data's length)", data.len()),
                got: shape.to_vec(),
            });
        }
        if E::DTYPE == DType::F16 && !device.has_f16() {
            return Err(TensorError::Feature { op: "from_slice", feature: "SHADER_F16" });
        }
        let t = Tensor::empty(device, shape, E::DTYPE)?;
        if !data.is_empty() {
            device.write(t.storage.buffer(), bytemuck::cast_slice(data));
        }
        Ok(t)
    }

    /// Copies the tensor to the host, in row-major order (views are read through their strides).
    /// Submits pending work and waits for the GPU. `E` must match the tensor's dtype, else
    /// [`TensorError::DType`].
    ///
    /// ```no_run
    /// use wgtrain_tensor::{Device, Tensor};
    /// # fn main() -> wgtrain_tensor::Result<()> {
    /// let dev = Device::new()?;
    /// let x = Tensor::from_slice(&dev, &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// let xt = x.transpose(0, 1)?; // a strided view, no copy
    /// assert_eq!(xt.to_vec::<f32>()?, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// assert_eq!(x.sum_all()?.item::<f32>()?, 21.0);
    /// # Ok(()) }
    /// ```
    pub fn to_vec<E: Element>(&self) -> Result<Vec<E>> {
        if E::DTYPE != self.dtype() {
            return Err(TensorError::DType { op: "to_vec", expected: self.dtype(), got: E::DTYPE });
        }
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let t = self.contiguous()?;
        let size = E::DTYPE.size() as u64;
        let bytes = self.device().read(t.storage.buffer(), t.offset as u64 * size, t.len() as u64 * size)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// The single value of a one-element tensor.
    pub fn item<E: Element>(&self) -> Result<E> {
        if self.len() != 1 {
            return Err(TensorError::Shape { op: "item", expected: "one element".into(), got: self.shape.clone() });
        }
        Ok(self.to_vec::<E>()?[0])
    }

    /// A tensor whose every element has the bit pattern of `word` (any 4-byte dtype).
    fn filled(device: &Device, shape: &[usize], dtype: DType, word: u32) -> Result<Tensor> {
        let t = Tensor::empty(device, shape, dtype)?;
        let p = fill::FillParams { n: t.len() as u32, word, start: 0.0, step: 0.0 };
        device.dispatch(&fill::launch(&fill::FILL_VALUE, &p), &[t.binding()])?;
        Ok(t)
    }

    /// All zeros.
    pub fn zeros(device: &Device, shape: &[usize], dtype: DType) -> Result<Tensor> {
        match dtype {
            DType::F16 => Tensor::full(device, shape, 0.0)?.cast(DType::F16),
            _ => Tensor::filled(device, shape, dtype, 0),
        }
    }

    /// All ones.
    pub fn ones(device: &Device, shape: &[usize], dtype: DType) -> Result<Tensor> {
        match dtype {
            DType::F32 => Tensor::full(device, shape, 1.0),
            DType::U32 | DType::I32 => Tensor::filled(device, shape, dtype, 1),
            DType::F16 => Tensor::full(device, shape, 1.0)?.cast(DType::F16),
        }
    }

    /// An f32 tensor with every element `value`.
    pub fn full(device: &Device, shape: &[usize], value: f32) -> Result<Tensor> {
        Tensor::filled(device, shape, DType::F32, value.to_bits())
    }

    /// f32 `start, start + step, ...` with `n` elements.
    pub fn arange(device: &Device, start: f32, step: f32, n: usize) -> Result<Tensor> {
        if !(start.is_finite() && step.is_finite()) {
            let why = format!("start {start} and step {step} must be finite");
            return Err(TensorError::Argument { op: "arange", why });
        }
        let t = Tensor::empty(device, &[n], DType::F32)?;
        let p = fill::FillParams { n: n as u32, word: 0, start, step };
        device.dispatch(&fill::launch(&fill::FILL_ARANGE, &p), &[t.binding()])?;
        Ok(t)
    }

    /// Uniform samples in `[low, high)`, a pure function of `seed` and the element index.
    pub fn rand_uniform(device: &Device, shape: &[usize], low: f32, high: f32, seed: u64) -> Result<Tensor> {
        if !(low.is_finite() && high.is_finite() && low <= high) {
            let why = format!("the range [{low}, {high}) must be finite with low <= high");
            return Err(TensorError::Argument { op: "rand_uniform", why });
        }
        let t = Tensor::empty(device, shape, DType::F32)?;
        let p = random::RandomParams::uniform(t.len(), seed, low, high);
        device.dispatch(&random::launch(&random::RANDOM_FILL, &p), &[t.binding()])?;
        Ok(t)
    }

    /// Normal samples with `mean` and `std` (Box-Muller on Philox words).
    pub fn rand_normal(device: &Device, shape: &[usize], mean: f32, std: f32, seed: u64) -> Result<Tensor> {
        if !(mean.is_finite() && std.is_finite() && std >= 0.0) {
            let why = format!("mean {mean} must be finite and std {std} finite and >= 0");
            return Err(TensorError::Argument { op: "rand_normal", why });
        }
        let t = Tensor::empty(device, shape, DType::F32)?;
        let p = random::RandomParams::normal(t.len(), seed, mean, std);
        device.dispatch(&random::launch(&random::RANDOM_FILL, &p), &[t.binding()])?;
        Ok(t)
    }

    /// Inverted dropout: zeroes each element with probability `p` and scales the rest by
    /// `1 / (1 - p)`. The mask is recomputed from `seed`, so the gradient is `dropout` of the
    /// upstream gradient with the same seed: no mask is stored.
    /// f32 or f16 (the same mask either way).
    pub fn dropout(&self, p: f32, seed: u64) -> Result<Tensor> {
        self.dropout_at(p, seed, 0)
    }

    /// [`Tensor::dropout`] as the elements `first..first + len` of a longer stream draw it: a
    /// data-parallel shard of a batch (rows from sample s, `first` = s x the sample's elements)
    /// gets exactly the mask those rows get in the whole batch.
    pub fn dropout_at(&self, p: f32, seed: u64, first: u64) -> Result<Tensor> {
        let f16 = self.expect_float("dropout")?;
        if !(0.0..1.0).contains(&p) {
            return Err(TensorError::Argument { op: "dropout", why: format!("probability {p} is not in [0, 1)") });
        }
        // The kernel indexes from element 0 of its input binding.
        let x = self.dense()?;
        let out = Tensor::empty(self.device(), &self.shape, self.dtype())?;
        if first + x.len() as u64 > u32::MAX as u64 {
            let why = format!("the stream positions {first}..{} pass 2^32", first + x.len() as u64);
            return Err(TensorError::Argument { op: "dropout", why });
        }
        let params = random::RandomParams::dropout(x.len(), seed, p, first as u32);
        self.device().dispatch(&random::launch(random::DROPOUT.of(f16), &params), &[x.binding(), out.binding()])?;
        Ok(out)
    }
}
