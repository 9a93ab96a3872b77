//! Keras' mixed-precision policy: the dtype layers compute in, and the dtype their variables
//! are kept in.
//!
//! Under [`Policy::mixed_float16`] each layer with weights casts its float input and its
//! weights to f16 for its compute (the f32 weights stay the masters the optimizer updates: the
//! casts' gradients come back in f32; each weight keeps its f16 copy, which the optimizer's
//! update rewrites in the same dispatch, so a step casts no weight), layers without weights run in whatever dtype reaches
//! them, ops that must stay f32 do so inside (softmax, cross-entropy, norm statistics,
//! reductions read f16 and compute in f32), and the model's output is cast to f32 for the loss
//! and the metrics. `compile` wraps the optimizer in a [`LossScaleOptimizer`] so that small
//! gradients survive f16, unless it already has a loss scale.
//!
//! [`LossScaleOptimizer`]: crate::optim::LossScaleOptimizer

use wgtrain_tensor::DType;

/// The dtypes layers compute in and keep their variables in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    compute: DType,
    variable: DType,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::float32()
    }
}

impl Policy {
    /// Everything in f32 (the default).
    pub fn float32() -> Policy {
        Policy { compute: DType::F32, variable: DType::F32 }
    }
    /// Layers compute in f16, variables stay f32 (needs the adapter's `SHADER_F16`).
    pub fn mixed_float16() -> Policy {
        Policy { compute: DType::F16, variable: DType::F32 }
    }
    /// A policy by its Keras name: `"float32"` or `"mixed_float16"`.
    pub fn by_name(name: &str) -> Option<Policy> {
        match name {
            "float32" => Some(Policy::float32()),
            "mixed_float16" => Some(Policy::mixed_float16()),
            _ => None,
        }
    }
    /// The Keras name.
    pub fn name(&self) -> &'static str {
        if self.is_mixed() { "mixed_float16" } else { "float32" }
    }
    /// The dtype layers compute in.
    pub fn compute_dtype(&self) -> DType {
        self.compute
    }
    /// The dtype variables are kept in.
    pub fn variable_dtype(&self) -> DType {
        self.variable
    }
    /// Whether layers compute in f16.
    pub fn is_mixed(&self) -> bool {
        self.compute == DType::F16
    }
}
