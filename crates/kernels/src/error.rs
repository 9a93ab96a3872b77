//! Errors of the kernel layer: a shader that does not parse or validate, or constants that do
//! not resolve. Each names the shader module (and entry point) it is about.

use thiserror::Error;

/// Result of kernel-layer operations.
pub type Result<T> = std::result::Result<T, KernelError>;

/// What can go wrong before a kernel is dispatched.
#[derive(Debug, Error)]
pub enum KernelError {
    /// The WGSL text of a module failed to parse.
    #[error("shader {shader}: WGSL parse error: {message}")]
    Parse {
        /// The shader module's name.
        shader: &'static str,
        /// naga's parse diagnostic.
        message: String,
    },
    /// The module parsed but naga rejected it.
    #[error("shader {shader}: validation error: {message}")]
    Validate {
        /// The shader module's name.
        shader: &'static str,
        /// naga's validation diagnostic.
        message: String,
    },
    /// A set of override constants did not resolve for an entry point.
    #[error("shader {shader}, entry {entry}: override constants {constants:?} do not resolve: {message}")]
    Overrides {
        /// The shader module's name.
        shader: &'static str,
        /// The entry point the constants were resolved for.
        entry: &'static str,
        /// The constants, as a debug-printed list of `(name, value)` pairs.
        constants: String,
        /// naga's diagnostic.
        message: String,
    },
    /// The adapter lacks a feature the shader needs.
    #[error("shader {shader} needs the adapter feature {feature}, which this adapter does not have")]
    MissingFeature {
        /// The shader module's name.
        shader: &'static str,
        /// The missing feature, e.g. `SHADER_F16`.
        feature: &'static str,
    },
}
