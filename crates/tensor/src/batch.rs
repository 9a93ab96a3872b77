//! Command batching: every op records its dispatch into one pending `CommandEncoder`, inside
//! one compute pass that stays open until something other than a dispatch (a copy for a
//! read-back) or the submit needs the encoder. A pass per dispatch cost about 60 us more per
//! dispatch on lavapipe (0.14-0.15 ms against 0.08-0.09 ms for tiny dispatches, measured with
//! raw wgpu), a large share of a small training step; wgpu still orders the dispatches of a
//! pass by their usage of each buffer. The encoder is submitted when a read-back needs results, when `FLUSH_EVERY` dispatches have
//! accumulated (so the adapter starts working while the host records more), or when the
//! parameter arena is full. Nothing waits on the GPU except a read-back.
//!
//! Parameters: each dispatch's params struct takes its own aligned slot of a host-side arena,
//! uploaded with one `write_buffer` right before the submit. Slots are never reused within a
//! batch, so no dispatch can see parameters written for another (the hazard of rewriting one
//! uniform buffer between recorded dispatches, which `write_buffer` would silently apply to
//! all of them). Buffers released during a batch are retired and reach the pool only after the
//! submit (see `pool.rs`).

use wgtrain_kernels::PARAMS_SLOT_BYTES;

/// Dispatches per submit when no read-back forces one earlier.
pub(crate) const FLUSH_EVERY: u32 = 64;
/// Parameter arena size: slots for many more dispatches than `FLUSH_EVERY`, so it only fills
/// up when the alignment is large.
pub(crate) const ARENA_BYTES: u64 = 1 << 20;

pub(crate) struct Batch {
    /// The open compute pass; declared before `encoder` so that it ends (drops) first.
    pass: Option<wgpu::ComputePass<'static>>,
    encoder: Option<wgpu::CommandEncoder>,
    pub(crate) params: Vec<u8>,
    pub(crate) arena: wgpu::Buffer,
    pub(crate) slot: u64,
    pub(crate) dispatches: u32,
    pub(crate) retired: Vec<wgpu::Buffer>,
    pub(crate) submits: u64,
}

impl Batch {
    pub(crate) fn new(device: &wgpu::Device, alignment: u32) -> Self {
        let arena = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgtrain params arena"),
            size: ARENA_BYTES,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Batch {
            pass: None,
            encoder: None,
            params: Vec::new(),
            arena,
            slot: (PARAMS_SLOT_BYTES as u64).div_ceil(alignment as u64) * alignment as u64,
            dispatches: 0,
            retired: Vec::new(),
            submits: 0,
        }
    }

    /// Whether one more parameter slot fits.
    pub(crate) fn has_room(&self) -> bool {
        self.params.len() as u64 + self.slot <= ARENA_BYTES
    }

    /// Copies `params` into the next slot and returns its byte offset in the arena.
    pub(crate) fn push_params(&mut self, params: &[u8]) -> u64 {
        let offset = self.params.len() as u64;
        self.params.extend_from_slice(params);
        self.params.resize((offset + self.slot) as usize, 0);
        offset
    }

    /// The encoder for commands other than dispatches; ends the open compute pass first.
    pub(crate) fn encoder(&mut self, device: &wgpu::Device) -> &mut wgpu::CommandEncoder {
        self.pass = None;
        self.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("wgtrain batch") })
        })
    }

    /// The open compute pass, begun on the pending encoder when there is none.
    pub(crate) fn pass(&mut self, device: &wgpu::Device) -> &mut wgpu::ComputePass<'static> {
        if self.pass.is_none() {
            let pass = self
                .encoder(device)
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("wgtrain ops"), timestamp_writes: None })
                .forget_lifetime();
            self.pass = Some(pass);
        }
        self.pass.as_mut().expect("a pass was just begun")
    }

    /// Uploads the arena, submits the encoder and hands back the retired buffers, which are
    /// safe to reuse from now on.
    pub(crate) fn submit(&mut self, queue: &wgpu::Queue) -> Vec<wgpu::Buffer> {
        self.pass = None;
        if let Some(encoder) = self.encoder.take() {
            if !self.params.is_empty() {
                queue.write_buffer(&self.arena, 0, &self.params);
            }
            queue.submit([encoder.finish()]);
            self.submits += 1;
        }
        self.params.clear();
        self.dispatches = 0;
        std::mem::take(&mut self.retired)
    }
}
