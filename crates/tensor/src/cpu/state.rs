//! What the software-adapter strategies keep between ops: pooled operand textures and the
//! largest pack a convolution may write. A [`Device`](crate::Device) owns one [`WingState`]
//! inside its strategy object (`strategy.rs`); the GPU strategy never touches it. This file
//! holds data only (no device or tensor), so the device can own it without a use-circle.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Default of [`WingState::max_pack_bytes`]: keeps the pool from holding huge im2col buffers.
const DEFAULT_MAX_PACK_BYTES: u64 = 64 << 20;

/// The software-adapter wing's state.
pub(crate) struct WingState {
    pub(crate) textures: Mutex<TexturePool>,
    max_pack_bytes: AtomicU64,
}

impl Default for WingState {
    fn default() -> Self {
        WingState { textures: Mutex::default(), max_pack_bytes: DEFAULT_MAX_PACK_BYTES.into() }
    }
}

impl WingState {
    /// The largest packed (im2col) operand of a convolution, before the adapter's binding limit.
    pub(crate) fn max_pack_bytes(&self) -> u64 {
        self.max_pack_bytes.load(Ordering::Relaxed)
    }
    pub(crate) fn set_max_pack_bytes(&self, bytes: u64) {
        self.max_pack_bytes.store(bytes, Ordering::Relaxed);
    }
}

/// An operand texture and the view its dispatches bind (made once, pooled with it).
pub(crate) struct OperandTexture {
    pub(crate) texture: wgpu::Texture,
    pub(crate) view: wgpu::TextureView,
}

/// Free operand textures by format and height.
#[derive(Default)]
pub(crate) struct TexturePool {
    pub(crate) free: HashMap<(wgpu::TextureFormat, u32), Vec<OperandTexture>>,
    /// Textures created since the device opened (flat once a workload is warm).
    pub(crate) created: u64,
}

/// The height a texture of `rows` rows is allocated with: powers of two up to 16, then steps
/// of 1/16 of the next power of two (under 12.5 % slack), capped at `max`.
pub(crate) fn height_class(rows: u32, max: u32) -> u32 {
    let class = if rows <= 16 {
        rows.max(1).next_power_of_two()
    } else {
        let step = rows.next_power_of_two() / 16;
        rows.div_ceil(step) * step
    };
    class.min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn height_classes_cover_requests_with_bounded_slack() {
        for rows in [1u32, 2, 3, 5, 16, 17, 100, 1000, 4097, 16384] {
            let c = height_class(rows, 16384);
            assert!(c >= rows && c <= (rows + rows / 8).max(rows.next_power_of_two().min(16)), "{rows} -> {c}");
            assert_eq!(height_class(c, 16384), c, "classes are fixed points");
        }
        assert_eq!(height_class(9000, 8192), 8192, "capped at the adapter's limit");
    }
}
