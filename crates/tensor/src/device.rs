//! The device: one adapter, its queue, the pipeline cache, the buffer pool and the pending
//! command batch. `Device` is a cheap `Arc` handle, `Send + Sync` (the batch and the pool sit
//! behind locks), shared by every tensor made on it.
//!
//! Execution model, in the order an op meets it: the op validates shapes on the host, asks a
//! launcher in `wgtrain-kernels` for a `Launch`, allocates its output from the pool, and calls
//! [`Device::dispatch`], which fetches the cached pipeline, puts the params in the arena slot
//! of the current batch, and records one compute pass. Submits happen in batches (`batch.rs`);
//! only read-backs wait for the GPU.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use wgtrain_kernels::ops::tiles::GemmTiles;
use wgtrain_kernels::{Access, Launch, PipelineCache};

use crate::adapter::{self, AdapterChoice, AdapterSummary};
use crate::batch::{Batch, FLUSH_EVERY};
use crate::coop::{self, CoopStatus};
use crate::error::{Result, TensorError};
use crate::fault::{self, FaultRecord, RECORD_BYTES};
use crate::pipeline_file::{self, PipelineCacheDir, PipelineCacheStatus, PipelineFile};
use crate::pool::{BufferKind, BufferPool, PoolStats, size_class};
use crate::profile::{KernelTime, Profile};
use crate::strategy::{Execution, Strategy};

/// One buffer binding: the buffer, the byte offset the binding starts at, and its size.
pub type BufferRange<'a> = (&'a wgpu::Buffer, u64, u64);

/// One binding of a dispatch, in the order of the kernel's `bindings`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Resource<'a> {
    /// A storage or uniform buffer range.
    Buffer(BufferRange<'a>),
    /// A texture read with `textureLoad` ([`Access::Texture`]).
    Texture(&'a wgpu::TextureView),
}

/// A handle to a GPU (or software) device. Clones share the device.
#[derive(Clone)]
pub struct Device {
    pub(crate) inner: Arc<DeviceInner>,
}

pub(crate) struct DeviceInner {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    summary: AdapterSummary,
    features: wgpu::Features,
    limits: wgpu::Limits,
    pipelines: PipelineCache,
    tiles: GemmTiles,
    cpu: bool,
    /// Whether the f16 matmul runs on cooperative matrices (`coop.rs`): set at creation when
    /// the device did not ask for them, else by their check when the planner first asks.
    pub(crate) coop: OnceLock<CoopStatus>,
    /// The strategy in force and the software-adapter wing's state (`strategy.rs`).
    pub(crate) exec: Execution,
    /// The largest storage binding a dispatch may use: the adapter's limit, or less (see
    /// [`Device::set_max_binding_bytes`]).
    max_binding_bytes: AtomicU64,
    /// Read on every dispatch, so an atomic rather than the profile's lock.
    profiling: AtomicBool,
    profile: Mutex<Option<Profile>>,
    pub(crate) batch: Mutex<Batch>,
    pool: Mutex<BufferPool>,
    /// Where device-side checks report bad input; read with every read-back (`fault.rs`).
    pub(crate) faults: FaultRecord,
    /// Four zero words: the guard of an optimizer update that no loss scale guards.
    zero_word: wgpu::Buffer,
    /// The driver's pipeline cache and the file it is kept in (`pipeline_file.rs`).
    driver_cache: Option<wgpu::PipelineCache>,
    pipeline_file: Mutex<Option<PipelineFile>>,
    pipeline_cache_status: PipelineCacheStatus,
    errors: Arc<Mutex<Vec<String>>>,
    lost: Arc<Mutex<Option<String>>>,
}

/// How to open a [`Device`]: which adapter, and where its compiled pipelines are cached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceOptions {
    /// Which adapter (default: `WGTRAIN_ADAPTER`, else the best one).
    pub adapter: AdapterChoice,
    /// The pipeline cache's folder (default: the user's cache folder; see `PipelineCacheDir`).
    pub pipeline_cache: PipelineCacheDir,
}

impl DeviceInner {
    fn save_pipeline_cache(&self) -> std::io::Result<()> {
        match (&self.driver_cache, lock(&self.pipeline_file).as_mut()) {
            (Some(cache), Some(file)) => file.save(cache),
            _ => Ok(()),
        }
    }
}

impl Drop for DeviceInner {
    /// Keeps what this run compiled for the next one (best effort: a run must not fail on it).
    fn drop(&mut self) {
        if lock(&self.lost).is_some() {
            return;
        }
        if let Err(e) = self.save_pipeline_cache() {
            eprintln!("wgtrain: warning: the pipeline cache was not saved: {e}");
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Device({})", self.inner.summary)
    }
}

impl PartialEq for Device {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Device {
    /// Opens the adapter named by `WGTRAIN_ADAPTER`, or the best one available (discrete GPUs
    /// first, software adapters last). Fails with [`TensorError::NoAdapter`] when there is none
    /// and [`TensorError::RequestDevice`] when the adapter will not open.
    ///
    /// ```no_run
    /// use wgtrain_tensor::Device;
    /// # fn main() -> wgtrain_tensor::Result<()> {
    /// let dev = Device::new()?;
    /// println!("running on {}", dev.adapter());
    /// if dev.is_cpu() {
    ///     println!("software adapter: expect CPU speeds");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn new() -> Result<Device> {
        Device::with_adapter(AdapterChoice::Auto)
    }

    /// Opens an adapter chosen as `choice` says, with the optional features wgtrain can use
    /// (`SHADER_F16`, `SUBGROUP`, `TIMESTAMP_QUERY`) and the largest limits it allows.
    pub fn with_adapter(choice: AdapterChoice) -> Result<Device> {
        Device::with_options(DeviceOptions { adapter: choice, ..Default::default() })
    }

    /// [`Device::with_adapter`] with the pipeline cache's folder chosen too.
    pub fn with_options(options: DeviceOptions) -> Result<Device> {
        let adapter = adapter::choose(&options.adapter)?;
        let info = adapter.get_info();
        let summary = adapter::summary(&info);
        let wanted = wgpu::Features::SHADER_F16
            | wgpu::Features::SUBGROUP
            | wgpu::Features::TIMESTAMP_QUERY
            | wgpu::Features::PIPELINE_CACHE;
        let coop_request = coop::request(&adapter);
        let coop_feature = match coop_request {
            Ok(()) => wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX,
            Err(_) => wgpu::Features::empty(),
        };
        let features = adapter.features() & (wanted | coop_feature);
        let limits = adapter.limits();
        // SAFETY: wgpu marks cooperative matrices experimental: their implementation may be
        // wrong on some drivers. They are asked for only where the adapter reports the exact
        // configuration `matmul_coop.wgsl` uses, and the planner picks that kernel only after
        // it matched the tiled GEMM on this device (`coop_check.rs`).
        let experimental = match coop_request {
            Ok(()) => unsafe { wgpu::ExperimentalFeatures::enabled() },
            Err(_) => wgpu::ExperimentalFeatures::disabled(),
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("wgtrain"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: experimental,
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| TensorError::RequestDevice { adapter: summary.to_string(), message: e.to_string() })?;
        // wgpu's default handler panics; errors are collected and returned at the next flush.
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| lock(&sink).push(e.to_string())));
        let lost: Arc<Mutex<Option<String>>> = Arc::default();
        let lost_sink = lost.clone();
        device.set_device_lost_callback(move |reason, msg| {
            *lock(&lost_sink) = Some(format!("{reason:?}: {msg}"));
        });
        let cpu = info.device_type == wgpu::DeviceType::Cpu;
        let tiles =
            GemmTiles::choose(limits.max_compute_invocations_per_workgroup, limits.max_compute_workgroup_storage_size);
        let batch = Batch::new(&device, limits.min_uniform_buffer_offset_alignment);
        let profiling = std::env::var_os("WGTRAIN_PROFILE").is_some();
        // Kernels index bindings with u32 element counts and offsets: a binding (Metal allows
        // max_buffer_size) is capped at 4 GiB so that no count can wrap.
        let max_binding_bytes = limits.max_storage_buffer_binding_size.min(u32::MAX as u64);
        let strategy = Strategy::choose(&limits, cpu);
        let (driver_cache, pipeline_file, pipeline_cache_status) =
            pipeline_file::open(&device, &info, &options.pipeline_cache);
        let coop = OnceLock::new();
        if let Err(status) = coop_request {
            let _ = coop.set(status);
        }
        Ok(Device {
            inner: Arc::new(DeviceInner {
                coop,
                faults: FaultRecord::new(&device),
                // wgpu zero-initializes buffers.
                zero_word: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("wgtrain zero guard"),
                    size: 16,
                    usage: wgpu::BufferUsages::STORAGE,
                    mapped_at_creation: false,
                }),
                pipelines: PipelineCache::new(device.clone(), driver_cache.clone()),
                driver_cache,
                pipeline_file: Mutex::new(pipeline_file),
                pipeline_cache_status,
                device,
                queue,
                summary,
                features,
                limits,
                tiles,
                cpu,
                exec: Execution::new(strategy),
                max_binding_bytes: max_binding_bytes.into(),
                profiling: profiling.into(),
                profile: Mutex::new(profiling.then(Profile::default)),
                batch: Mutex::new(batch),
                pool: Mutex::new(BufferPool::default()),
                errors,
                lost,
            }),
        })
    }

    /// The adapter in use: name, backend, device type, driver.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.inner.summary
    }
    /// Whether f16 storage and casts are available.
    pub fn has_f16(&self) -> bool {
        self.inner.features.contains(wgpu::Features::SHADER_F16)
    }
    /// Whether subgroup operations are available.
    pub fn has_subgroups(&self) -> bool {
        self.inner.features.contains(wgpu::Features::SUBGROUP)
    }
    /// Whether the adapter is a software (CPU) implementation such as lavapipe.
    pub fn is_cpu(&self) -> bool {
        self.inner.cpu
    }
    /// The device limits in force.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.inner.limits
    }
    /// The GEMM tile sizes chosen for this adapter.
    pub fn gemm_tiles(&self) -> GemmTiles {
        self.inner.tiles
    }
    /// The execution strategy: [`Strategy::CpuTextures`] on software adapters, else
    /// [`Strategy::Gpu`]; `WGTRAIN_STRATEGY=gpu|cpu-textures|cpu-windows` (or the older
    /// `WGTRAIN_GEMM=tiled|texture|uniform`) forces one at device creation.
    pub fn strategy(&self) -> Strategy {
        self.inner.exec.strategy()
    }
    /// Chooses the strategy (tests run every one on one adapter). The software-adapter
    /// strategies need 15 uniform buffers per stage of 64 KiB each, and textures 4096 texels
    /// wide.
    pub fn set_strategy(&self, path: Strategy) -> Result<()> {
        if let Some(why) = path.unfit(&self.inner.limits) {
            return Err(TensorError::Argument { op: "set_strategy", why });
        }
        self.inner.exec.set_strategy(path);
        Ok(())
    }
    /// Turns per-kernel timing on (clearing earlier totals) or off. While on, every dispatch
    /// runs alone and is waited for: see [`crate::profile`]. `WGTRAIN_PROFILE=1` turns it on
    /// at device creation.
    pub fn set_profiling(&self, on: bool) {
        *lock(&self.inner.profile) = on.then(Profile::default);
        self.inner.profiling.store(on, Ordering::Relaxed);
    }
    /// Per-kernel totals since profiling was turned on, largest first (empty when off).
    pub fn profile(&self) -> Vec<KernelTime> {
        lock(&self.inner.profile).as_ref().map(Profile::report).unwrap_or_default()
    }
    /// Buffer-pool counters.
    pub fn pool_stats(&self) -> PoolStats {
        lock(&self.inner.pool).stats
    }
    /// Compute pipelines created so far.
    pub fn pipelines_created(&self) -> u64 {
        self.inner.pipelines.pipelines_created()
    }
    /// Command-buffer submits so far.
    pub fn submits(&self) -> u64 {
        lock(&self.inner.batch).submits
    }
    /// Releases the pool's free buffers to the driver.
    pub fn trim_pool(&self) {
        lock(&self.inner.pool).trim();
    }

    /// Submits the pending batch (without waiting) and reports any GPU error since the last flush.
    pub fn flush(&self) -> Result<()> {
        let freed = lock(&self.inner.batch).submit(&self.inner.queue);
        lock(&self.inner.pool).put(freed);
        self.check_errors()
    }

    /// Where the pipeline cache on disk stands: off, cold (no file yet), warm (loaded) or
    /// ignored (a corrupt or foreign file, with the reason).
    pub fn pipeline_cache_status(&self) -> &PipelineCacheStatus {
        &self.inner.pipeline_cache_status
    }

    /// Writes the pipeline cache to its file now (it is also written when the device is
    /// dropped); nothing when the cache is off or has not grown.
    pub fn save_pipeline_cache(&self) -> Result<()> {
        self.inner.save_pipeline_cache().map_err(|e| TensorError::Gpu(format!("saving the pipeline cache: {e}")))
    }

    /// Destroys the device as a driver reset would, for testing what a program does when its
    /// GPU is lost: every later op, allocation and read-back on this device (and its tensors)
    /// fails with [`TensorError::DeviceLost`]. Other devices are unaffected.
    pub fn simulate_loss(&self) {
        self.inner.device.destroy();
        let _ = self.inner.device.poll(wgpu::PollType::Poll);
        // wgpu reports a destroyed device through the lost callback at a later poll; record it
        // now so the very next call fails.
        lock(&self.inner.lost).get_or_insert_with(|| "Destroyed: simulate_loss".into());
    }

    /// Fails once the device is lost, before anything is recorded on it.
    fn check_alive(&self) -> Result<()> {
        match lock(&self.inner.lost).clone() {
            Some(reason) => Err(TensorError::DeviceLost(reason)),
            None => Ok(()),
        }
    }

    /// Flushes and waits until the GPU has finished all submitted work (benchmarks use it).
    pub fn synchronize(&self) -> Result<()> {
        self.flush()?;
        self.wait()
    }

    fn wait(&self) -> Result<()> {
        self.inner.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| TensorError::Gpu(e.to_string()))?;
        self.check_errors()
    }

    fn check_errors(&self) -> Result<()> {
        self.check_alive()?;
        let mut errors = lock(&self.inner.errors);
        if errors.is_empty() {
            return Ok(());
        }
        let all = errors.drain(..).collect::<Vec<_>>().join("; ");
        if all.to_lowercase().contains("out of memory") {
            return Err(TensorError::OutOfMemory { bytes: 0 });
        }
        Err(TensorError::Gpu(all))
    }

    /// A buffer of `kind` of at least `bytes` bytes, from the pool when one is free.
    pub(crate) fn alloc(&self, bytes: u64, kind: BufferKind) -> Result<wgpu::Buffer> {
        self.check_alive()?;
        let class = size_class(bytes);
        if class > self.inner.limits.max_buffer_size {
            return Err(TensorError::Limit {
                op: "alloc",
                what: "a buffer".into(),
                bytes,
                limit: self.inner.limits.max_buffer_size,
                limit_name: "max_buffer_size",
            });
        }
        if let Some(b) = lock(&self.inner.pool).take(class, kind) {
            return Ok(b);
        }
        let scope = self.inner.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgtrain tensor"),
            size: class,
            usage: kind.usages(),
            mapped_at_creation: false,
        });
        if pollster::block_on(scope.pop()).is_some() {
            return Err(TensorError::OutOfMemory { bytes: class });
        }
        lock(&self.inner.pool).created(class);
        Ok(buffer)
    }

    /// Hands a buffer back; it is reused only after the batch that may still use it is submitted.
    pub(crate) fn retire(&self, buffer: wgpu::Buffer) {
        lock(&self.inner.batch).retired.push(buffer);
    }

    /// Records one dispatch. `bindings` are the storage buffers with the bytes each kernel may
    /// address, in the order of the kernel's `bindings`.
    pub fn dispatch(&self, launch: &Launch, bindings: &[(&wgpu::Buffer, u64)]) -> Result<()> {
        let resources: Vec<Resource<'_>> = bindings.iter().map(|&(b, bytes)| Resource::Buffer((b, 0, bytes))).collect();
        self.dispatch_resources(launch, &resources)
    }

    /// [`Device::dispatch`] with each binding starting at a byte offset (uniform windows).
    pub fn dispatch_ranges(&self, launch: &Launch, bindings: &[BufferRange<'_>]) -> Result<()> {
        let resources: Vec<Resource<'_>> = bindings.iter().map(|&b| Resource::Buffer(b)).collect();
        self.dispatch_resources(launch, &resources)
    }

    /// [`Device::dispatch_ranges`] with textures among the bindings.
    pub(crate) fn dispatch_resources(&self, launch: &Launch, bindings: &[Resource<'_>]) -> Result<()> {
        let kernel = launch.kernel;
        if kernel.shader.needs_f16() && !self.has_f16() {
            return Err(TensorError::Feature { op: kernel.entry, feature: "SHADER_F16" });
        }
        if kernel.shader.needs_subgroups() && !self.has_subgroups() {
            return Err(TensorError::Feature { op: kernel.entry, feature: "SUBGROUP" });
        }
        if kernel.shader.needs_coop() && !self.inner.features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX)
        {
            return Err(TensorError::Feature { op: kernel.entry, feature: "EXPERIMENTAL_COOPERATIVE_MATRIX" });
        }
        let pipeline = self.inner.pipelines.builtin(kernel, &launch.constants);
        self.record(&pipeline, kernel.entry, kernel.bindings, &launch.params, launch.workgroups, bindings)
    }

    /// Four zero words, bound as the guard of an unguarded optimizer update.
    pub(crate) fn zero_word(&self) -> &wgpu::Buffer {
        &self.inner.zero_word
    }

    pub(crate) fn pipelines(&self) -> &PipelineCache {
        &self.inner.pipelines
    }

    pub(crate) fn record(
        &self,
        pipeline: &wgtrain_kernels::pipeline::CachedPipeline,
        op: &'static str,
        access: &[Access],
        params: &[u8],
        workgroups: [u32; 3],
        bindings: &[Resource<'_>],
    ) -> Result<()> {
        self.check_alive()?;
        let limits = &self.inner.limits;
        for (r, a) in bindings.iter().zip(access) {
            let Resource::Buffer((buffer, _, bytes)) = *r else { continue };
            if *a == Access::Uniform && !buffer.usage().contains(wgpu::BufferUsages::UNIFORM) {
                let why = "a uniform binding needs a buffer made for windows (BufferKind::Windows)".into();
                return Err(TensorError::Argument { op, why });
            }
            let (limit, limit_name) = match a {
                Access::Uniform => (limits.max_uniform_buffer_binding_size, "max_uniform_buffer_binding_size"),
                _ => (self.max_binding_bytes(), "max_storage_buffer_binding_size"),
            };
            if bytes > limit {
                return Err(TensorError::Limit { op, what: format!("a {a:?} binding"), bytes, limit, limit_name });
            }
        }
        if workgroups.iter().any(|&g| g > limits.max_compute_workgroups_per_dimension) {
            return Err(TensorError::Argument {
                op,
                why: format!(
                    "grid {workgroups:?} exceeds max_compute_workgroups_per_dimension = {}",
                    limits.max_compute_workgroups_per_dimension
                ),
            });
        }
        if workgroups.contains(&0) {
            return Ok(());
        }
        if !self.inner.profiling.load(Ordering::Relaxed) {
            return self.record_batched(pipeline, op, params, workgroups, bindings);
        }
        self.synchronize()?;
        let start = std::time::Instant::now();
        self.record_batched(pipeline, op, params, workgroups, bindings)?;
        self.synchronize()?;
        if let Some(p) = lock(&self.inner.profile).as_mut() {
            p.add(op, start.elapsed());
        }
        Ok(())
    }

    fn record_batched(
        &self,
        pipeline: &wgtrain_kernels::pipeline::CachedPipeline,
        op: &'static str,
        params: &[u8],
        workgroups: [u32; 3],
        bindings: &[Resource<'_>],
    ) -> Result<()> {
        let device = &self.inner.device;
        let mut batch = lock(&self.inner.batch);
        if !batch.has_room() {
            let freed = batch.submit(&self.inner.queue);
            lock(&self.inner.pool).put(freed);
        }
        let offset = batch.push_params(params);
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &batch.arena,
                offset,
                size: wgpu::BufferSize::new(params.len().max(16).next_multiple_of(16) as u64),
            }),
        }];
        for (i, r) in bindings.iter().enumerate() {
            let resource = match *r {
                Resource::Buffer((buffer, offset, bytes)) => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer,
                    offset,
                    size: wgpu::BufferSize::new(bytes.max(4).next_multiple_of(4).min(buffer.size() - offset)),
                }),
                Resource::Texture(view) => wgpu::BindingResource::TextureView(view),
            };
            entries.push(wgpu::BindGroupEntry { binding: i as u32 + 1, resource });
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.layout,
            entries: &entries,
        });
        {
            let pass = batch.pass(device);
            pass.insert_debug_marker(op);
            pass.set_pipeline(&pipeline.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(workgroups[0], workgroups[1], workgroups[2]);
        }
        batch.dispatches += 1;
        if batch.dispatches >= FLUSH_EVERY {
            let freed = batch.submit(&self.inner.queue);
            drop(batch);
            lock(&self.inner.pool).put(freed);
        }
        Ok(())
    }

    /// The most bytes one storage binding of a dispatch may span. A tensor larger than this
    /// exists (up to `max_buffer_size`) but no kernel can bind it whole: `Tensor::take_rows`
    /// copies rows out of it with buffer copies instead, which is how `fit`, `evaluate` and
    /// `predict` batch data larger than one binding.
    pub fn max_binding_bytes(&self) -> u64 {
        self.inner.max_binding_bytes.load(Ordering::Relaxed)
    }
    /// Lowers the storage binding limit below the adapter's (never above it): to check that code
    /// stays within a smaller, portable limit, and in tests, to reach the large-data paths
    /// without hundreds of MiB of data.
    pub fn set_max_binding_bytes(&self, bytes: u64) {
        let bytes = bytes.clamp(4, self.inner.limits.max_storage_buffer_binding_size);
        self.inner.max_binding_bytes.store(bytes, Ordering::Relaxed);
    }

    /// Records a copy of `size` bytes (a multiple of 4, as are both offsets) between buffers,
    /// in order with the pending dispatches. Copies have no binding limit.
    pub(crate) fn copy_buffer(
        &self,
        src: &wgpu::Buffer,
        src_offset: u64,
        dst: &wgpu::Buffer,
        dst_offset: u64,
        size: u64,
    ) {
        let mut batch = lock(&self.inner.batch);
        batch.encoder(&self.inner.device).copy_buffer_to_buffer(src, src_offset, dst, dst_offset, size);
    }

    /// Uploads `data` into `buffer` at offset 0 (ordered before the next submit's commands).
    pub(crate) fn write(&self, buffer: &wgpu::Buffer, data: &[u8]) {
        let mut padded;
        let bytes = if data.len().is_multiple_of(4) {
            data
        } else {
            padded = data.to_vec();
            padded.resize(data.len().next_multiple_of(4), 0);
            &padded
        };
        self.inner.queue.write_buffer(buffer, 0, bytes);
    }

    /// Copies `len` bytes at `offset` of `buffer` to the host: the one place that waits. The
    /// fault record (`fault.rs`) travels in the same copy and submission, and is cleared: a
    /// fault recorded since the last read-back is returned here as the error, once.
    pub(crate) fn read(&self, buffer: &wgpu::Buffer, offset: u64, len: u64) -> Result<Vec<u8>> {
        self.check_alive()?;
        let start = offset / 4 * 4;
        let size = (offset + len).next_multiple_of(4) - start;
        let faults = &self.inner.faults;
        let with_record = faults.take_armed();
        let record_at = size.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        let staging = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgtrain read-back"),
            size: (record_at + if with_record { RECORD_BYTES } else { 0 }).max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        {
            let mut batch = lock(&self.inner.batch);
            let encoder = batch.encoder(&self.inner.device);
            encoder.copy_buffer_to_buffer(buffer, start, &staging, 0, size);
            if with_record {
                encoder.copy_buffer_to_buffer(&faults.buffer, 0, &staging, record_at, RECORD_BYTES);
                encoder.clear_buffer(&faults.buffer, 0, None);
            }
        }
        self.flush()?;
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv().map_err(|e| TensorError::Gpu(e.to_string()))?.map_err(|e| TensorError::Gpu(e.to_string()))?;
        let view = staging.slice(..).get_mapped_range().map_err(|e| TensorError::Gpu(e.to_string()))?;
        if with_record {
            let words: Vec<u32> =
                bytemuck::pod_collect_to_vec(&view[record_at as usize..(record_at + RECORD_BYTES) as usize]);
            if let Some(fault) = fault::decode(&words) {
                return Err(fault);
            }
        }
        let skip = (offset - start) as usize;
        Ok(view[skip..skip + len as usize].to_vec())
    }
}
