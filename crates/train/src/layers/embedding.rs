//! Embedding lookups.

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use super::config::{LayerConfig, with_rules};
use super::{BuildCtx, Ctx, Layer, WeightRules, built, param};
use crate::error::{Result, TrainError};
use crate::init::Initializer;
use crate::param::Param;

/// The table is the kernel of an Embedding's [`WeightRules`]; its rules' keys, ours and Keras'.
const TABLE_RULES: [(&str, &str); 2] =
    [("kernel_regularizer", "embeddings_regularizer"), ("kernel_constraint", "embeddings_constraint")];

/// Rows of a `[vocab, dim]` table picked by integer ids (u32/i32) of any per-sample shape:
/// output `[ids..., dim]`. Table initialized U(-0.05, 0.05), as Keras.
pub struct Embedding {
    name: String,
    vocab: usize,
    dim: usize,
    table: Option<Var>,
    rules: WeightRules,
    /// Id 0 is padding (Keras' `mask_zero`).
    mask_zero: bool,
}

impl Embedding {
    /// A table of `vocab` rows of `dim` values. An id >= `vocab` (or negative) looks up zeros.
    pub fn new(vocab: usize, dim: usize) -> Self {
        Embedding { name: String::new(), vocab, dim, table: None, rules: WeightRules::default(), mask_zero: false }
    }
    /// Id 0 is padding (Keras' `mask_zero`): a batch of sequences of ids `[n, time]` gets a
    /// mask, so recurrent layers skip its padded steps, attention ignores them and the loss
    /// leaves them out. Id 0 then means nothing else (a vocabulary of `vocab - 1` words).
    pub fn mask_zero(mut self, on: bool) -> Self {
        self.mask_zero = on;
        self
    }
    /// Penalizes the table (Keras' `embeddings_regularizer`).
    pub fn embeddings_regularizer(mut self, r: crate::regularizers::Regularizer) -> Self {
        self.rules.kernel_regularizer = Some(r);
        self
    }
    /// Penalizes the looked-up vectors, per sample (Keras' `activity_regularizer`).
    pub fn activity_regularizer(mut self, r: crate::regularizers::Regularizer) -> Self {
        self.rules.activity_regularizer = Some(r);
        self
    }
    /// Projects the table after each update, row by row (Keras' `embeddings_constraint`).
    pub fn embeddings_constraint(mut self, c: crate::constraints::Constraint) -> Self {
        self.rules.kernel_constraint = Some(c);
        self
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt, its rules under Keras' names.
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        let rules = WeightRules {
            kernel_regularizer: c.get_or("embeddings_regularizer", None)?,
            activity_regularizer: c.get_or("activity_regularizer", None)?,
            kernel_constraint: c.get_or("embeddings_constraint", None)?,
            ..WeightRules::default()
        };
        let layer = Embedding::new(c.get("input_dim")?, c.get("output_dim")?).mask_zero(c.get_or("mask_zero", false)?);
        Ok(Embedding { rules, ..layer })
    }
}

impl Layer for Embedding {
    fn kind(&self) -> &'static str {
        "Embedding"
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        if self.vocab == 0 || self.dim == 0 {
            return Err(TrainError::config(&self.name, "vocabulary and dimension must be >= 1"));
        }
        self.rules.check(&self.name)?;
        let init = Initializer::Uniform { low: -0.05, high: 0.05 };
        self.table = Some(Var::parameter(init.create(ctx.device, &[self.vocab, self.dim], (1, 1), ctx.next_seed())?));
        let mut out = input.to_vec();
        out.push(self.dim);
        Ok(out)
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let y = built(&self.table, &self.name)?.embedding(x.data())?;
        self.rules.activity(&y, ctx)?;
        Ok(y)
    }
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        self.rules.weight_penalties(self.table.as_ref(), None)
    }
    /// With `mask_zero`, sequences of ids `[n, time]` are masked where the id is 0.
    fn compute_mask(&self, x: &Var, _: Option<&Tensor>) -> Result<Option<Tensor>> {
        if !self.mask_zero || x.rank() != 2 {
            return Ok(None);
        }
        let ids = x.data();
        let ids = if ids.dtype() == DType::F32 { ids.clone() } else { ids.cast(DType::F32)? };
        Ok(Some(ids.ne_scalar(0.0)?))
    }
    /// A unit is a row of the table (one id's vector).
    fn apply_constraints(&self) -> Result<()> {
        self.rules.constrain(self.table.as_ref(), &[1], None)
    }
    fn params(&self) -> Vec<Param> {
        param(&self.name, "embeddings", &self.table).into_iter().collect()
    }
    fn config(&self) -> serde_json::Value {
        let settings = json!({ "input_dim": self.vocab, "output_dim": self.dim, "mask_zero": self.mask_zero });
        let mut config = with_rules(settings, &self.rules);
        if let Some(map) = config.as_object_mut() {
            for (ours, keras) in TABLE_RULES {
                if let Some(rule) = map.remove(ours) {
                    map.insert(keras.to_string(), rule);
                }
            }
        }
        config
    }
    /// A lookup in the f32 table: the next layer casts what it computes in.
    fn compute_dtype(&self, _: DType) -> Option<DType> {
        Some(DType::F32)
    }
}
