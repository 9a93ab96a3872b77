//! The CPU-adapter GEMM over textures: each operand is copied linearly (a memcpy on lavapipe)
//! into an rgba32float texture [`TEXTURE_WIDTH`] texels wide, and `gemm_texture` reads it as a
//! read-only storage texture, which llvmpipe loads through its image path: 1.4x the uniform
//! gathers of [`super::gemm_uniform`] in the same inner loop, and no 64 KiB window. So one
//! dispatch covers all of K (C is stored once, with its epilogue) and there is no pack. Same contract as [`super::matmul`]; a [`TexturePlan`] exists only where the strides
//! let four consecutive elements of the contiguous dimension form one texel, else the caller
//! takes the uniform-window path ([`super::gemm_uniform`]).

use bytemuck::{Pod, Zeroable};

use super::matmul::MatmulParams;
use crate::{Access, Constants, KernelSpec, Launch, Shader};

/// Texels per texture row (the shader's `t & 4095`, `t >> 12`).
pub const TEXTURE_WIDTH: u32 = 4096;
/// Invocations per workgroup of `gemm_texture`; each owns an 8 x 16 block of C.
const WG: u32 = 64;
/// The workgroup shapes the plan chooses from: invocations across the columns (the rest go
/// across the rows), i.e. tiles of 32 x 256, 64 x 128 and 128 x 64.
const COLUMN_GROUPS: [u32; 3] = [16, 8, 4];

/// Parameters of `gemm_texture.wgsl`. An operand's element `e` (counted from its offset, where
/// its copy starts) is component `e % 4` of texel `e / 4` of its texture.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct GemmTextureParams {
    /// Rows of C.
    pub m: u32,
    /// Columns of C.
    pub n: u32,
    /// Inner dimension.
    pub k: u32,
    /// A's texels between rows (k-contiguous A) or between k steps (row-contiguous A).
    pub a_major: u32,
    /// A's texels between batches.
    pub a_batch: u32,
    /// B's texels between columns (k-contiguous B) or between k steps (column-contiguous B).
    pub b_major: u32,
    /// B's texels between batches.
    pub b_batch: u32,
    /// Element offset of the bias.
    pub bias_off: u32,
    /// Scalar argument of the epilogue activation.
    pub alpha: f32,
    /// Padding to a multiple of 16 bytes.
    pub _pad: [u32; 3],
}

/// `gemm_texture`: (A texture, B texture, bias, C).
pub static GEMM: KernelSpec = KernelSpec {
    shader: Shader::GemmTexture,
    entry: "gemm_texture",
    bindings: &[Access::Texture, Access::Texture, Access::Read, Access::ReadWrite],
};

/// How one operand lies in its texture: the elements to copy and how the shader steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextureOperand {
    /// Element offset of the operand in its buffer: the copy starts here (a multiple of 4).
    pub first: u32,
    /// Texels the copy covers (from `first`), up to the texel of the last element.
    pub texels: u32,
    /// Whether k is the contiguous dimension (else the rows, or B's columns, are).
    pub k_contiguous: bool,
    /// Texels between rows (k-contiguous) or between k steps.
    pub major: u32,
    /// Texels between batches.
    pub batch: u32,
}

impl TextureOperand {
    /// The operand `rows x depth` at `off + b * bs + row * rs + k * ks`, or `None` when neither
    /// dimension is contiguous with texel-aligned strides. A k-contiguous layout needs
    /// `depth % 4 == 0` (a texel must not straddle two rows).
    fn new(rows: u32, depth: u32, batch: u32, off: u32, rs: u32, ks: u32, bs: u32) -> Option<TextureOperand> {
        let aligned = |s: u32, extent: u32| s.is_multiple_of(4) || extent == 1;
        if !off.is_multiple_of(4) || !aligned(bs, batch) {
            return None;
        }
        let k_contiguous = if ks == 1 && depth.is_multiple_of(4) && aligned(rs, rows) {
            true
        } else if rs == 1 && aligned(ks, depth) {
            false
        } else {
            return None;
        };
        let major = if k_contiguous { rs } else { ks } / 4;
        let last = (batch as u64 - 1) * bs as u64 + (rows as u64 - 1) * rs as u64 + (depth as u64 - 1) * ks as u64;
        let texels = u32::try_from(last / 4 + 1).ok()?;
        Some(TextureOperand { first: off, texels, k_contiguous, major, batch: if batch > 1 { bs / 4 } else { 0 } })
    }

    /// Texture rows the operand needs.
    pub fn height(&self) -> u32 {
        self.texels.div_ceil(TEXTURE_WIDTH)
    }
}

/// A matmul on the texture path: its two operands and its one dispatch.
#[derive(Debug, Clone)]
pub struct TexturePlan {
    /// A, as copied into its texture.
    pub a: TextureOperand,
    /// B, as copied into its texture (its "rows" are C's columns).
    pub b: TextureOperand,
    /// The GEMM dispatch: bindings (A texture, B texture, bias, C).
    pub launch: Launch,
}

impl TexturePlan {
    /// The plan for `p`, or `None` when an operand's strides do not fit the texel layout or a
    /// texture would need more than `max_height` rows.
    pub fn new(p: &MatmulParams, max_height: u32) -> Option<TexturePlan> {
        let batch = p.batch.max(1);
        let a = TextureOperand::new(p.m, p.k, batch, p.a_off, p.a_rs, p.a_cs, p.a_bs)?;
        let b = TextureOperand::new(p.n, p.k, batch, p.b_off, p.b_cs, p.b_rs, p.b_bs)?;
        if (a.k_contiguous || b.k_contiguous) && !p.k.is_multiple_of(4) || a.height().max(b.height()) > max_height {
            return None;
        }
        let cg = column_groups(p.m, p.n);
        let gp = GemmTextureParams {
            m: p.m,
            n: p.n,
            k: p.k,
            a_major: a.major,
            a_batch: a.batch,
            b_major: b.major,
            b_batch: b.batch,
            bias_off: p.bias_off,
            alpha: p.alpha,
            ..Zeroable::zeroed()
        };
        let (tile_rows, tile_cols) = tile(cg);
        let constants = Constants::new(&[
            ("CG", cg),
            ("A_KC", a.k_contiguous as u32),
            ("B_KC", b.k_contiguous as u32),
            ("BIAS", p.has_bias),
            ("ACT", p.act),
        ]);
        let grid = [p.n.div_ceil(tile_cols), p.m.div_ceil(tile_rows), batch];
        Some(TexturePlan { a, b, launch: Launch::new(&GEMM, &gp, grid).with_constants(constants) })
    }
}

/// A workgroup's C tile (rows, columns) when `cg` invocations go across its columns.
fn tile(cg: u32) -> (u32, u32) {
    (8 * (WG / cg), 16 * cg)
}

/// The workgroup shape that pads C least (ties go to the widest tile, whose B loads are shared
/// by most lanes).
fn column_groups(m: u32, n: u32) -> u32 {
    let padded = |cg: u32| {
        let (r, c) = tile(cg);
        m.div_ceil(r) as u64 * r as u64 * n.div_ceil(c) as u64 * c as u64
    };
    COLUMN_GROUPS.into_iter().min_by_key(|&cg| padded(cg)).expect("COLUMN_GROUPS is not empty")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(m: u32, n: u32, k: u32) -> MatmulParams {
        MatmulParams { m, n, k, batch: 1, a_rs: k, a_cs: 1, b_rs: n, b_cs: 1, ..Zeroable::zeroed() }
    }

    #[test]
    fn row_major_and_transposed_operands_take_the_texture_path() {
        let p = params(128, 256, 784);
        let plan = TexturePlan::new(&p, 16384).expect("X . W fits");
        assert!(plan.a.k_contiguous && !plan.b.k_contiguous);
        assert_eq!((plan.a.major, plan.b.major), (784 / 4, 256 / 4));
        assert_eq!(plan.a.texels, 128 * 784 / 4);
        // X^T . dY: A is X (128 x 784) read by columns.
        let p = MatmulParams { m: 784, n: 256, k: 128, a_rs: 1, a_cs: 784, ..params(784, 256, 128) };
        let plan = TexturePlan::new(&p, 16384).expect("X^T . dY fits");
        assert!(!plan.a.k_contiguous && plan.a.major == 784 / 4);
        // dY . W^T: B is W (784 x 256) read by rows.
        let p = MatmulParams { b_rs: 1, b_cs: 256, ..params(128, 784, 256) };
        assert!(TexturePlan::new(&p, 16384).expect("dY . W^T fits").b.k_contiguous);
    }

    #[test]
    fn misaligned_strides_and_oversized_operands_fall_back() {
        // 10 columns: B's rows are not texel-aligned.
        assert!(TexturePlan::new(&params(128, 10, 256), 16384).is_none());
        // An offset that is not a multiple of 4.
        assert!(TexturePlan::new(&MatmulParams { a_off: 2, ..params(8, 8, 8) }, 16384).is_none());
        // k-contiguous A with K % 4 != 0 would straddle rows.
        assert!(TexturePlan::new(&params(8, 8, 6), 16384).is_none());
        // Too tall for the adapter's textures.
        assert!(TexturePlan::new(&params(2048, 2048, 2048), 200).is_none());
        assert!(TexturePlan::new(&params(2048, 2048, 2048), 256).is_some());
    }

    #[test]
    fn tiles_cover_c_with_the_least_padding() {
        for (m, n) in [(1u32, 1u32), (7, 33), (128, 784), (784, 256), (2048, 2048), (33, 1000)] {
            let p = MatmulParams { a_rs: 1, a_cs: m.next_multiple_of(4), ..params(m, n.next_multiple_of(4), 1) };
            let plan = TexturePlan::new(&p, 16384).expect("fits");
            let cg = plan.launch.constants.pairs().iter().find(|c| c.0 == "CG").expect("CG").1;
            let (r, c) = tile(cg);
            let g = plan.launch.workgroups;
            assert!(g[0] * c >= p.n && g[1] * r >= p.m && (g[0] - 1) * c < p.n && (g[1] - 1) * r < p.m, "{g:?}");
        }
        assert_eq!(column_groups(128, 784), 4, "784 columns pad least in 64-wide tiles");
        assert_eq!(column_groups(1024, 1024), 16);
    }
}
