//! The pipeline cache: shader modules, bind-group layouts and compute pipelines are each created
//! once per device and reused for every dispatch.
//!
//! Keys: a module by [`Shader`]; a bind-group layout by its binding access pattern (binding 0 is
//! always the parameter uniform), so kernels with the same pattern share one layout; a pipeline
//! by (module, entry point, override constants). Layouts are explicit, never `layout: None`.
//! Custom (user) kernels are keyed by their source text the same way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::{Access, Constants, KernelSpec, Shader};

/// Which module a pipeline comes from: one of ours, or a user's WGSL text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModuleKey {
    /// A wgtrain module; compiled without runtime bounds checks (every kernel guards its indices).
    Builtin(Shader),
    /// A user's WGSL text, keyed by the text itself; compiled with wgpu's bounds checks.
    Custom(Arc<str>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PipelineKey {
    module: ModuleKey,
    entry: String,
    bindings: Vec<Access>,
    constants: Constants,
}

/// A pipeline plus the layout its bind groups must use.
#[derive(Debug, Clone)]
pub struct CachedPipeline {
    /// The compute pipeline.
    pub pipeline: wgpu::ComputePipeline,
    /// The layout of its single bind group (binding 0 = params uniform, then the kernel's buffers).
    pub layout: wgpu::BindGroupLayout,
}

#[derive(Default)]
struct Caches {
    modules: HashMap<ModuleKey, wgpu::ShaderModule>,
    layouts: HashMap<Vec<Access>, (wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    pipelines: HashMap<PipelineKey, CachedPipeline>,
}

/// Creates pipelines on first use and hands out the cached ones afterwards.
pub struct PipelineCache {
    device: wgpu::Device,
    /// The driver's cache of compiled pipelines (kept on disk by the tensor crate), if any.
    driver_cache: Option<wgpu::PipelineCache>,
    caches: Mutex<Caches>,
    created: std::sync::atomic::AtomicU64,
}

impl PipelineCache {
    /// An empty cache for `device`; nothing is compiled until first use. Pipelines are built
    /// through `driver_cache` when given, so a driver can reuse a previous run's compilations.
    pub fn new(device: wgpu::Device, driver_cache: Option<wgpu::PipelineCache>) -> Self {
        PipelineCache { device, driver_cache, caches: Mutex::new(Caches::default()), created: 0.into() }
    }

    /// Number of compute pipelines created so far (flat after warm-up; tests check it).
    pub fn pipelines_created(&self) -> u64 {
        self.created.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The pipeline of a built-in kernel with the given constants.
    pub fn builtin(&self, kernel: &KernelSpec, constants: &Constants) -> CachedPipeline {
        self.get(ModuleKey::Builtin(kernel.shader), kernel.entry, kernel.bindings, constants)
    }

    /// The pipeline of any module (built-in or custom WGSL text).
    pub fn get(&self, module: ModuleKey, entry: &str, bindings: &[Access], constants: &Constants) -> CachedPipeline {
        let key =
            PipelineKey { module, entry: entry.to_string(), bindings: bindings.to_vec(), constants: constants.clone() };
        let mut c = self.caches.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = c.pipelines.get(&key) {
            return p.clone();
        }
        let module = self.module(&mut c, &key.module);
        let (bgl, pl) = self.layout(&mut c, bindings);
        let consts: Vec<(&str, f64)> = constants.pairs().iter().map(|&(k, v)| (k, v as f64)).collect();
        let label = match &key.module {
            ModuleKey::Builtin(s) => format!("{}:{}", s.name(), entry),
            ModuleKey::Custom(_) => format!("custom:{entry}"),
        };
        let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&label),
            layout: Some(&pl),
            module: &module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &consts,
                // Every kernel writes workgroup memory before reading it.
                zero_initialize_workgroup_memory: false,
            },
            cache: self.driver_cache.as_ref(),
        });
        self.created.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cached = CachedPipeline { pipeline, layout: bgl };
        c.pipelines.insert(key, cached.clone());
        cached
    }

    fn module(&self, c: &mut Caches, key: &ModuleKey) -> wgpu::ShaderModule {
        if let Some(m) = c.modules.get(key) {
            return m.clone();
        }
        let (label, text): (String, String) = match key {
            ModuleKey::Builtin(s) => (s.name().to_string(), s.source()),
            ModuleKey::Custom(src) => ("custom".to_string(), src.to_string()),
        };
        let desc = wgpu::ShaderModuleDescriptor { label: Some(&label), source: wgpu::ShaderSource::Wgsl(text.into()) };
        let m = match key {
            // SAFETY: wgtrain's own kernels guard every index against the extents in their params
            // (each is parity-tested on sizes that are not multiples of its tiles). Dropping
            // wgpu's injected bounds clamps halves their run time on lavapipe, where every
            // buffer access is already a per-lane loop. Users' kernels keep the checks.
            ModuleKey::Builtin(_) => unsafe {
                self.device.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
            },
            ModuleKey::Custom(_) => self.device.create_shader_module(desc),
        };
        c.modules.insert(key.clone(), m.clone());
        m
    }

    fn layout(&self, c: &mut Caches, bindings: &[Access]) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
        if let Some(l) = c.layouts.get(bindings) {
            return l.clone();
        }
        let mut entries = vec![wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }];
        for (i, a) in bindings.iter().enumerate() {
            let buffer = |ty| wgpu::BindingType::Buffer { ty, has_dynamic_offset: false, min_binding_size: None };
            let texture = |format| wgpu::BindingType::StorageTexture {
                access: wgpu::StorageTextureAccess::ReadOnly,
                format,
                view_dimension: wgpu::TextureViewDimension::D2,
            };
            let ty = match a {
                Access::Uniform => buffer(wgpu::BufferBindingType::Uniform),
                Access::Read => buffer(wgpu::BufferBindingType::Storage { read_only: true }),
                Access::ReadWrite => buffer(wgpu::BufferBindingType::Storage { read_only: false }),
                Access::Texture => texture(wgpu::TextureFormat::Rgba32Float),
                Access::TextureU32 => texture(wgpu::TextureFormat::Rgba32Uint),
            };
            entries.push(wgpu::BindGroupLayoutEntry {
                binding: i as u32 + 1,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty,
                count: None,
            });
        }
        let bgl = self
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("wgtrain"), entries: &entries });
        let pl = self.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("wgtrain"),
            bind_group_layouts: &[Some(&bgl)],
            immediate_size: 0,
        });
        c.layouts.insert(bindings.to_vec(), (bgl.clone(), pl.clone()));
        (bgl, pl)
    }
}
