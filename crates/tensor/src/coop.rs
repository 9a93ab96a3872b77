//! Cooperative matrices (tensor cores) for the f16 matmul: whether this device uses them.
//!
//! wgpu exposes them as the experimental `EXPERIMENTAL_COOPERATIVE_MATRIX` (Vulkan's
//! `VK_KHR_cooperative_matrix`, Metal's simdgroup matrices). A device asks for it only when the
//! adapter offers what `matmul_coop.wgsl` needs: 16 x 16 x 16 tiles of f16 summed in f32, and
//! subgroups exactly 32 wide (one subgroup is the kernel's workgroup). `WGTRAIN_COOP=0`
//! declines it.
//!
//! The feature is experimental, and no machine this was built on has it, so a device that gets
//! it checks the kernel against the tiled GEMM before the planner may pick it: a batched
//! product of awkward extents, through a transposed operand, with a bias and an activation, in
//! both output precisions. Only a device whose check passed is [`CoopStatus::Verified`]; the
//! planner then tries the cooperative form first for f16 matmuls (convolutions stay on the
//! tiled GEMM). A failed check leaves the tiled GEMM serving everything and says why. The
//! check (`coop_check.rs`) runs at the first f16 matmul (or `Device::coop`), so a device that
//! never multiplies f16 matrices never pays for it.

/// Whether the f16 matmul runs on cooperative matrices, and if not, why.
#[derive(Debug, Clone, PartialEq)]
pub enum CoopStatus {
    /// The adapter lacks something the kernel needs (what).
    Unavailable(String),
    /// `WGTRAIN_COOP=0` declined it.
    Declined,
    /// Checked against the tiled GEMM at the first f16 matmul (the largest difference seen):
    /// the planner picks it for f16 matmuls.
    Verified {
        /// The largest absolute difference from the tiled GEMM's f32 output.
        max_error: f32,
    },
    /// The check against the tiled GEMM failed (how): the tiled GEMM serves every matmul.
    Rejected(String),
}

impl std::fmt::Display for CoopStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CoopStatus::Unavailable(why) => write!(f, "unavailable ({why})"),
            CoopStatus::Declined => write!(f, "declined (WGTRAIN_COOP=0)"),
            CoopStatus::Verified { max_error } => {
                write!(f, "on, verified against the tiled GEMM (max error {max_error:.1e})")
            }
            CoopStatus::Rejected(why) => write!(f, "off, failed its check against the tiled GEMM: {why}"),
        }
    }
}

/// What the adapter lacks for `matmul_coop.wgsl`, if anything: the feature, a 16 x 16 x 16
/// f16 -> f32 configuration, subgroups exactly 32 wide.
pub(crate) fn unmet(
    features: wgpu::Features,
    configs: &[wgpu::CooperativeMatrixProperties],
    subgroup_sizes: (u32, u32),
) -> Option<String> {
    if !features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        return Some("no EXPERIMENTAL_COOPERATIVE_MATRIX".into());
    }
    if !features.contains(wgpu::Features::SHADER_F16) {
        return Some("no SHADER_F16".into());
    }
    let fits = |c: &wgpu::CooperativeMatrixProperties| {
        (c.m_size, c.n_size, c.k_size) == (16, 16, 16)
            && c.ab_type == wgpu::CooperativeScalarType::F16
            && c.cr_type == wgpu::CooperativeScalarType::F32
    };
    if !configs.iter().any(fits) {
        return Some(format!("no 16x16x16 f16 -> f32 configuration among {} offered", configs.len()));
    }
    if subgroup_sizes != (32, 32) {
        return Some(format!("subgroups {}-{} wide, the kernel needs exactly 32", subgroup_sizes.0, subgroup_sizes.1));
    }
    None
}

/// Whether to ask for the feature on `adapter`: `Ok` to ask, else the status without it.
pub(crate) fn request(adapter: &wgpu::Adapter) -> std::result::Result<(), CoopStatus> {
    if std::env::var("WGTRAIN_COOP").is_ok_and(|v| v == "0") {
        return Err(CoopStatus::Declined);
    }
    let info = adapter.get_info();
    let sizes = (info.subgroup_min_size, info.subgroup_max_size);
    match unmet(adapter.features(), &adapter.cooperative_matrix_properties(), sizes) {
        Some(why) => Err(CoopStatus::Unavailable(why)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wgpu::{CooperativeMatrixProperties as Config, CooperativeScalarType as Scalar, Features};

    fn config(side: u32, ab: Scalar, cr: Scalar) -> Config {
        Config { m_size: side, n_size: side, k_size: side, ab_type: ab, cr_type: cr, saturating_accumulation: false }
    }

    #[test]
    fn the_kernel_is_asked_for_only_where_everything_it_needs_is_there() {
        let all = Features::EXPERIMENTAL_COOPERATIVE_MATRIX | Features::SHADER_F16;
        let good = [config(8, Scalar::F32, Scalar::F32), config(16, Scalar::F16, Scalar::F32)];
        assert_eq!(unmet(all, &good, (32, 32)), None);
        // lavapipe: f16 and subgroups, no cooperative matrices.
        let why = unmet(Features::SHADER_F16 | Features::SUBGROUP, &[], (8, 8)).unwrap();
        assert!(why.contains("EXPERIMENTAL_COOPERATIVE_MATRIX"), "{why}");
        assert!(unmet(Features::EXPERIMENTAL_COOPERATIVE_MATRIX, &good, (32, 32)).unwrap().contains("SHADER_F16"));
        let why = unmet(all, &good[..1], (32, 32)).unwrap();
        assert!(why.contains("16x16x16 f16 -> f32") && why.contains("1 offered"), "{why}");
        let why = unmet(all, &[config(16, Scalar::F16, Scalar::F16)], (32, 32)).unwrap();
        assert!(why.contains("16x16x16"), "f16 sums are not what the kernel computes: {why}");
        let why = unmet(all, &good, (32, 64)).unwrap();
        assert!(why.contains("32-64") && why.contains("exactly 32"), "{why}");
    }

    #[test]
    fn statuses_say_what_they_mean() {
        assert!(CoopStatus::Declined.to_string().contains("WGTRAIN_COOP=0"));
        assert!(CoopStatus::Verified { max_error: 1e-5 }.to_string().starts_with("on"));
        assert!(CoopStatus::Rejected("element 3".into()).to_string().contains("element 3"));
    }
}
