//! Linear operand textures of the software-adapter wing ([`crate::Strategy::CpuTextures`]): the texture
//! GEMM's operands, the conv packs' sources, and the inputs of the streaming kernels (maps,
//! Adam, reductions, max pooling), which read texels far faster than storage buffers there.
//! rgba32float (or rgba32uint for indices), [`TEXTURE_WIDTH`] texels wide, filled by a linear
//! buffer-to-texture copy (a memcpy on lavapipe, far cheaper than a packing shader there) and
//! pooled by format and height class, so a training loop stops creating them after its first
//! step.
//!
//! A texture goes back to the pool as soon as the dispatch that reads it is recorded. That is
//! safe because textures are only ever written by copies recorded into the same command
//! stream: the queue runs such a copy after every dispatch recorded before it (wgpu ends the
//! compute pass and orders the copy after the reads). Buffers need retiring instead because
//! `write_buffer` runs ahead of the whole submit.

use wgtrain_kernels::Launch;
use wgtrain_kernels::cpu::gemm_texture::TEXTURE_WIDTH;

use super::state::{OperandTexture, height_class};
use crate::device::{Device, Resource, lock};
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// Bytes of one texture row (the copy's `bytes_per_row`; a multiple of 256 as copies require).
const ROW_BYTES: u64 = TEXTURE_WIDTH as u64 * 16;

impl Device {
    /// A pooled texture holding all of `t`'s buffer from element 0 (the conv packs read their
    /// sources by buffer offset, so one copy serves every image chunk of a call).
    pub(crate) fn tensor_texture(&self, t: &Tensor) -> Result<OperandTexture> {
        let (buffer, bytes) = t.binding();
        self.operand_texture(buffer, 0, (bytes / 4).div_ceil(4) as u32)
    }

    /// A pooled texture holding `texels` texels of `buffer` starting at element `first` (a
    /// multiple of 4): texel `t` is elements `first + 4 t .. first + 4 t + 3`, at
    /// `(t % TEXTURE_WIDTH, t / TEXTURE_WIDTH)`. The copy is recorded into the pending batch.
    pub(crate) fn operand_texture(&self, buffer: &wgpu::Buffer, first: u32, texels: u32) -> Result<OperandTexture> {
        self.linear_texture(buffer, first, texels, wgpu::TextureFormat::Rgba32Float)
    }

    /// [`Device::operand_texture`] with texels of `format` (rgba32float or, for u32 data,
    /// rgba32uint: the copy moves bits either way).
    fn linear_texture(
        &self,
        buffer: &wgpu::Buffer,
        first: u32,
        texels: u32,
        format: wgpu::TextureFormat,
    ) -> Result<OperandTexture> {
        let max = self.limits().max_texture_dimension_2d;
        let rows = texels.div_ceil(TEXTURE_WIDTH);
        let end = (first as u64 + 4 * texels as u64) * 4;
        if !first.is_multiple_of(4) || rows > max || end > buffer.size() {
            return Err(TensorError::Argument {
                op: "operand_texture",
                why: format!(
                    "{texels} texels from element {first} need an aligned start, at most {max} rows and {end} bytes (the buffer has {})",
                    buffer.size()
                ),
            });
        }
        let operand = self.take_texture(format, height_class(rows, max))?;
        let full = texels / TEXTURE_WIDTH;
        let rest = texels % TEXTURE_WIDTH;
        let mut batch = lock(&self.inner.batch);
        let encoder = batch.encoder(&self.inner.device);
        for (row0, height, width) in [(0, full, TEXTURE_WIDTH), (full, (rest > 0) as u32, rest)] {
            if height == 0 {
                continue;
            }
            encoder.copy_buffer_to_texture(
                wgpu::TexelCopyBufferInfo {
                    buffer,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: first as u64 * 4 + row0 as u64 * ROW_BYTES,
                        bytes_per_row: Some(ROW_BYTES as u32),
                        rows_per_image: None,
                    },
                },
                wgpu::TexelCopyTextureInfo {
                    texture: &operand.texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d { x: 0, y: row0, z: 0 },
                    aspect: wgpu::TextureAspect::All,
                },
                wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
            );
        }
        Ok(operand)
    }

    /// Records `launch` with `inputs` (contiguous tensors) copied whole into linear textures as its first bindings (in the format the kernel declares for each), then
    /// `buffers` as the rest. A texture starts at the tensor's offset rounded down to a texel,
    /// so element `k` of the tensor is element `offset % 4 + k` of its texture.
    pub(crate) fn dispatch_textured(
        &self,
        launch: &Launch,
        inputs: &[&Tensor],
        buffers: &[(&wgpu::Buffer, u64)],
    ) -> Result<()> {
        let textures = inputs
            .iter()
            .zip(launch.kernel.bindings)
            .map(|(&t, access)| {
                let skip = t.offset % 4;
                let format = access.texture_format().ok_or_else(|| TensorError::Argument {
                    op: launch.kernel.entry,
                    why: format!("an input is bound as {access:?}, not as a texture"),
                })?;
                self.linear_texture(
                    t.binding().0,
                    (t.offset - skip) as u32,
                    (skip + t.len()).div_ceil(4) as u32,
                    format,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let mut resources: Vec<Resource<'_>> = textures.iter().map(|t| Resource::Texture(&t.view)).collect();
        resources.extend(buffers.iter().map(|&(b, bytes)| Resource::Buffer((b, 0, bytes))));
        let recorded = self.dispatch_resources(launch, &resources);
        drop(resources);
        textures.into_iter().for_each(|t| self.recycle_texture(t));
        recorded
    }

    /// Hands an operand texture back once its dispatch is recorded (see the module docs).
    pub(crate) fn recycle_texture(&self, operand: OperandTexture) {
        let key = (operand.texture.format(), operand.texture.height());
        lock(&self.inner.exec.wing.textures).free.entry(key).or_default().push(operand);
    }

    /// Operand textures created so far (flat once a workload is warm).
    pub fn textures_created(&self) -> u64 {
        lock(&self.inner.exec.wing.textures).created
    }

    fn take_texture(&self, format: wgpu::TextureFormat, height: u32) -> Result<OperandTexture> {
        if let Some(t) = lock(&self.inner.exec.wing.textures).free.get_mut(&(format, height)).and_then(Vec::pop) {
            return Ok(t);
        }
        let scope = self.inner.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let texture = self.inner.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("wgtrain linear operand"),
            size: wgpu::Extent3d { width: TEXTURE_WIDTH, height, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        if pollster::block_on(scope.pop()).is_some() {
            return Err(TensorError::OutOfMemory { bytes: height as u64 * ROW_BYTES });
        }
        lock(&self.inner.exec.wing.textures).created += 1;
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        Ok(OperandTexture { texture, view })
    }
}
