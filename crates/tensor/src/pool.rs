//! The caching buffer pool. Storage buffers are recycled by size class, so a training loop that
//! allocates the same shapes every step stops creating buffers after its first step.
//!
//! A buffer released while commands that use it are still being recorded is *retired*: it
//! joins the free lists only after the submit that carries those commands (see `batch.rs`).
//! That order is what makes reuse safe: the queue runs a later `write_buffer` or dispatch
//! after every earlier submit.

use std::collections::HashMap;

/// Smallest allocation, bytes.
const MIN_BYTES: u64 = 256;

/// The size class of a request: multiples of 256 B up to 4 KiB, then steps of 1/8 of a power of
/// two (at most 12.5 % slack).
pub fn size_class(bytes: u64) -> u64 {
    let b = bytes.max(MIN_BYTES);
    if b <= 4096 {
        return b.div_ceil(256) * 256;
    }
    // 1/16 of the next power of two is at most 1/8 of the request.
    let step = (b.next_power_of_two() / 16).max(256);
    b.div_ceil(step) * step
}

/// What a pooled buffer may be bound as. Buffers are pooled per kind, so a buffer asks only
/// for the usages its binding needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BufferKind {
    /// Storage bindings and copies: every tensor.
    Storage,
    /// Also uniform bindings: the packed operands the `cpu-windows` GEMM reads through 64 KiB
    /// uniform windows (`cpu/matmul.rs`).
    Windows,
}

impl BufferKind {
    /// The usages a buffer of this kind is created with.
    pub(crate) fn usages(self) -> wgpu::BufferUsages {
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
        match self {
            BufferKind::Storage => storage,
            BufferKind::Windows => storage | wgpu::BufferUsages::UNIFORM,
        }
    }

    fn of(buffer: &wgpu::Buffer) -> BufferKind {
        if buffer.usage().contains(wgpu::BufferUsages::UNIFORM) { BufferKind::Windows } else { BufferKind::Storage }
    }
}

/// Counters for tests and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers created since the device opened (flat once a workload is warm).
    pub buffers_created: u64,
    /// Bytes of all buffers ever created.
    pub bytes_created: u64,
    /// Bytes sitting in the free lists now.
    pub pooled_bytes: u64,
    /// Bytes held by live tensors (and retired buffers awaiting their submit).
    pub live_bytes: u64,
}

#[derive(Default)]
pub(crate) struct BufferPool {
    free: HashMap<(u64, BufferKind), Vec<wgpu::Buffer>>,
    pub(crate) stats: PoolStats,
}

impl BufferPool {
    /// A free buffer of this class and kind, if any.
    pub(crate) fn take(&mut self, class: u64, kind: BufferKind) -> Option<wgpu::Buffer> {
        let b = self.free.get_mut(&(class, kind))?.pop()?;
        self.stats.pooled_bytes -= class;
        self.stats.live_bytes += class;
        Some(b)
    }

    /// Book a newly created buffer.
    pub(crate) fn created(&mut self, class: u64) {
        self.stats.buffers_created += 1;
        self.stats.bytes_created += class;
        self.stats.live_bytes += class;
    }

    /// Return buffers whose last use has been submitted.
    pub(crate) fn put(&mut self, buffers: impl IntoIterator<Item = wgpu::Buffer>) {
        for b in buffers {
            let class = b.size();
            self.stats.pooled_bytes += class;
            self.stats.live_bytes -= class;
            self.free.entry((class, BufferKind::of(&b))).or_default().push(b);
        }
    }

    /// Drop every free buffer (memory goes back to the driver).
    pub(crate) fn trim(&mut self) {
        self.free.clear();
        self.stats.pooled_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_cover_requests_with_bounded_slack() {
        for b in [0u64, 1, 255, 256, 257, 4096, 4097, 10_000, 1 << 20, (1 << 20) + 1, 123_456_789] {
            let c = size_class(b);
            assert!(c >= b && c.is_multiple_of(256), "{b} -> {c}");
            assert!(c <= MIN_BYTES.max(b + b / 8 + 256), "{b} -> {c}");
            assert_eq!(size_class(c), c, "classes are fixed points");
        }
    }
}
