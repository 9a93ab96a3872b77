//! Adapter choice: any backend wgpu reaches (Vulkan, Metal, DX12, GL). `WGTRAIN_ADAPTER` (or
//! [`AdapterChoice::Named`]) picks by a case-insensitive substring of the adapter name or a
//! backend name (`vulkan`, `metal`, `dx12`, `gl`); otherwise discrete GPUs come first, then
//! integrated, virtual, and software adapters last, Vulkan preferred over GL among equals.

use crate::error::{Result, TensorError};

/// How to choose an adapter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AdapterChoice {
    /// `WGTRAIN_ADAPTER` if set, else the best adapter.
    #[default]
    Auto,
    /// An adapter whose name or backend contains this text.
    Named(String),
    /// The adapter of a data-parallel process with this local rank: among the best adapters
    /// (those `WGTRAIN_ADAPTER` names, when set), in the order wgpu lists them, the one at
    /// `local rank % how many`, so each process on a machine takes its own GPU.
    LocalRank(usize),
}

/// What was chosen, for logs and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    /// The adapter's name as the driver reports it.
    pub name: String,
    /// The wgpu backend (`Vulkan`, `Metal`, `Dx12`, `Gl`).
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu` or `Other`.
    pub device_type: String,
    /// Driver name and version, when the backend reports them.
    pub driver: String,
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}, {})", self.name, self.backend, self.device_type, self.driver)
    }
}

pub(crate) fn summary(info: &wgpu::AdapterInfo) -> AdapterSummary {
    AdapterSummary {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
    }
}

fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (kind, backend)
}

fn matches(info: &wgpu::AdapterInfo, wanted: &str) -> bool {
    let w = wanted.to_lowercase();
    let backend = format!("{:?}", info.backend).to_lowercase();
    info.name.to_lowercase().contains(&w) || backend == w || (w == "gl" && backend == "gl")
}

pub(crate) fn choose(choice: &AdapterChoice) -> Result<wgpu::Adapter> {
    let wanted = match choice {
        AdapterChoice::Named(s) => s.clone(),
        AdapterChoice::Auto | AdapterChoice::LocalRank(_) => std::env::var("WGTRAIN_ADAPTER").unwrap_or_default(),
    };
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::all(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    let seen = adapters.iter().map(|a| summary(&a.get_info()).to_string()).collect::<Vec<_>>().join("; ");
    let mut candidates: Vec<wgpu::Adapter> =
        adapters.into_iter().filter(|a| wanted.is_empty() || matches(&a.get_info(), &wanted)).collect();
    // Stable: adapters of one kind keep wgpu's order, the same in every process.
    candidates.sort_by_key(|a| rank(&a.get_info()));
    // A data-parallel process takes its local rank's among its peers: the best kind on the
    // best one's own backend (a GPU that Vulkan and DX12 both list is one GPU, not two).
    if let AdapterChoice::LocalRank(local) = choice {
        let best = candidates.first().map(|a| (rank(&a.get_info()), a.get_info().backend));
        candidates.retain(|a| Some((rank(&a.get_info()), a.get_info().backend)) == best);
        let n = candidates.len().max(1);
        candidates.rotate_left(local % n);
    }
    candidates
        .into_iter()
        .next()
        .ok_or(TensorError::NoAdapter { wanted, seen: if seen.is_empty() { "none".into() } else { seen } })
}
