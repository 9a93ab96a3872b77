//! A named parameter: what optimizers update, checkpoints save and `freeze` switches off. The
//! name is the path in the layer tree (`dense_1/kernel`), stable across runs, so optimizer
//! state and checkpoints are keyed by it.

use wgtrain_autograd::Var;

/// A trainable (or frozen) tensor with its layer-tree name.
#[derive(Debug, Clone)]
pub struct Param {
    /// Path in the layer tree, e.g. `dense_1/kernel`.
    pub name: String,
    /// The parameter's value and gradient.
    pub var: Var,
}

impl Param {
    /// A parameter named `name`.
    pub fn new(name: impl Into<String>, var: Var) -> Self {
        Param { name: name.into(), var }
    }
}
