//! Tile sizes of the GEMM core (matmul and convolutions), chosen once per adapter from its kind
//! and limits: no autotuning stall on first use. The values for CPU adapters were measured on
//! lavapipe (see `kernel_report`); the GPU values are the conventional 64 x 64 x 16 tile.

use crate::Constants;

/// Rows of C per invocation in the GEMM core's register block (a `const` in the shader).
pub const TM: u32 = 4;
/// Columns of C per invocation in the GEMM core's register block (a `const` in the shader).
pub const TN: u32 = 4;

/// Workgroup shape and K slice of the GEMM core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GemmTiles {
    /// Invocations along columns of C (the `WG_X` constant).
    pub wg_x: u32,
    /// Invocations along rows of C (the `WG_Y` constant).
    pub wg_y: u32,
    /// K elements staged in workgroup memory per slice (the `BK` constant).
    pub bk: u32,
}

impl GemmTiles {
    /// Rows of C per workgroup.
    pub fn bm(&self) -> u32 {
        self.wg_y * TM
    }
    /// Columns of C per workgroup.
    pub fn bn(&self) -> u32 {
        self.wg_x * TN
    }
    /// Workgroup memory the tiles take, in bytes.
    pub fn shared_bytes(&self) -> u32 {
        (self.bm() + self.bn()) * self.bk * 4
    }

    /// Tiles for an adapter, within its workgroup limits. Software adapters get the same tiles
    /// as GPUs: they run the texture or uniform-window GEMMs, and take this tiled core only
    /// when asked to (`WGTRAIN_GEMM=tiled`).
    pub fn choose(max_invocations: u32, max_shared_bytes: u32) -> Self {
        let preferred = GemmTiles { wg_x: 16, wg_y: 16, bk: 16 };
        let fallback = GemmTiles { wg_x: 8, wg_y: 8, bk: 8 };
        if preferred.wg_x * preferred.wg_y <= max_invocations && preferred.shared_bytes() <= max_shared_bytes {
            preferred
        } else {
            fallback
        }
    }

    /// The override constants of the GEMM core.
    pub fn constants(&self) -> Constants {
        Constants::new(&[("WG_X", self.wg_x), ("WG_Y", self.wg_y), ("BK", self.bk)])
    }

    /// Invariants the kernels rely on: the staging loops cover tiles exactly, and (for the
    /// convolutions) an invocation stages the same column in every K slice.
    pub fn is_valid(&self) -> bool {
        let threads = self.wg_x * self.wg_y;
        (self.bm() * self.bk).is_multiple_of(threads)
            && (self.bn() * self.bk).is_multiple_of(threads)
            && threads.is_multiple_of(self.bn())
    }
}

impl Default for GemmTiles {
    fn default() -> Self {
        GemmTiles { wg_x: 16, wg_y: 16, bk: 16 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_tiles_satisfy_the_kernel_invariants() {
        for (inv, shm) in [(256, 16384), (1024, 32768), (64, 16384)] {
            let t = GemmTiles::choose(inv, shm);
            assert!(t.is_valid(), "{t:?}");
            assert!(t.wg_x * t.wg_y <= inv && t.shared_bytes() <= shm, "{t:?}");
        }
    }
}
