//! What a layer with a kernel and a bias may add to them, as Keras' arguments of the same
//! names: regularizers of the kernel, the bias and the output, and constraints of the kernel
//! and the bias. One struct every such layer holds, and one macro for their builders.

use wgtrain_autograd::Var;

use super::Ctx;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::regularizers::Regularizer;

/// A layer's regularizers and constraints (none by default).
#[derive(Debug, Clone, Copy, Default)]
pub struct WeightRules {
    pub(crate) kernel_regularizer: Option<Regularizer>,
    pub(crate) bias_regularizer: Option<Regularizer>,
    pub(crate) activity_regularizer: Option<Regularizer>,
    pub(crate) kernel_constraint: Option<Constraint>,
    pub(crate) bias_constraint: Option<Constraint>,
}

impl WeightRules {
    /// Checks every factor and bound, naming `layer` (at build).
    pub(crate) fn check(&self, layer: &str) -> Result<()> {
        [self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer]
            .into_iter()
            .flatten()
            .try_for_each(|r| r.check(layer))?;
        [self.kernel_constraint, self.bias_constraint].into_iter().flatten().try_for_each(|c| c.check(layer))
    }

    /// The penalties of the kernel and the bias; a frozen weight has none (Keras penalizes
    /// trainable weights only).
    pub(crate) fn weight_penalties(&self, kernel: Option<&Var>, bias: Option<&Var>) -> Result<Vec<Var>> {
        let (kernel, bias) = (trainable(kernel), trainable(bias));
        let mut out = Vec::new();
        if let (Some(r), Some(k)) = (self.kernel_regularizer, kernel) {
            out.push(r.penalty(k)?);
        }
        if let (Some(r), Some(b)) = (self.bias_regularizer, bias) {
            out.push(r.penalty(b)?);
        }
        Ok(out)
    }

    /// Adds the output's penalty to the pass (Keras 3: the whole batch's, not divided by its
    /// size as tf.keras 2 did).
    pub(crate) fn activity(&self, out: &Var, ctx: &mut Ctx) -> Result<()> {
        if let Some(r) = self.activity_regularizer {
            ctx.add_loss(r.penalty(out)?);
        }
        Ok(())
    }

    /// Projects the kernel (its units' norms over `kernel_axes`) and the bias; a frozen weight
    /// stays as it is (Keras constrains what the optimizer updates).
    pub(crate) fn constrain(&self, kernel: Option<&Var>, kernel_axes: &[isize], bias: Option<&Var>) -> Result<()> {
        let (kernel, bias) = (trainable(kernel), trainable(bias));
        if let (Some(c), Some(k)) = (self.kernel_constraint, kernel) {
            c.apply(k.data(), kernel_axes)?;
        }
        if let (Some(c), Some(b)) = (self.bias_constraint, bias) {
            c.apply(b.data(), &[0])?;
        }
        Ok(())
    }
}

/// `v` when it is trained (not frozen).
fn trainable(v: Option<&Var>) -> Option<&Var> {
    v.filter(|v| v.requires_grad())
}

/// The builders of [`WeightRules`] on a layer with a `fn weight_rules_mut(&mut self) -> &mut
/// WeightRules`.
macro_rules! weight_rule_builders {
    () => {
        /// Penalizes the kernel (Keras' `kernel_regularizer`).
        pub fn kernel_regularizer(mut self, r: crate::regularizers::Regularizer) -> Self {
            self.weight_rules_mut().kernel_regularizer = Some(r);
            self
        }
        /// Penalizes the bias (Keras' `bias_regularizer`).
        pub fn bias_regularizer(mut self, r: crate::regularizers::Regularizer) -> Self {
            self.weight_rules_mut().bias_regularizer = Some(r);
            self
        }
        /// Penalizes the output, per sample (Keras' `activity_regularizer`).
        pub fn activity_regularizer(mut self, r: crate::regularizers::Regularizer) -> Self {
            self.weight_rules_mut().activity_regularizer = Some(r);
            self
        }
        /// Projects the kernel after each update (Keras' `kernel_constraint`).
        pub fn kernel_constraint(mut self, c: crate::constraints::Constraint) -> Self {
            self.weight_rules_mut().kernel_constraint = Some(c);
            self
        }
        /// Projects the bias after each update (Keras' `bias_constraint`).
        pub fn bias_constraint(mut self, c: crate::constraints::Constraint) -> Self {
            self.weight_rules_mut().bias_constraint = Some(c);
            self
        }
    };
}
pub(crate) use weight_rule_builders;
