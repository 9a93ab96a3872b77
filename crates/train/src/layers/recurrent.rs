//! Recurrent layers: SimpleRNN, LSTM and GRU over `[time, features]` samples.
//!
//! The input projection of every time step is one matmul (`[n, time, features] @ W`); each
//! step then adds the recurrent projection `h @ U` and applies the cell's gates: SimpleRNN with
//! `Var` ops, LSTM and GRU with one fused kernel each way (`Var::lstm_cell`, `Var::gru_cell`),
//! so backpropagation through time is ordinary autograd. Gate layouts follow Keras (LSTM:
//! i, f, c, o; GRU: z, r, h with the reset gate after the recurrent matmul, PyTorch's GRU).

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{DType, Tensor};

use super::config::{LayerConfig, with_rules};
use super::{BuildCtx, Ctx, Layer, WeightRules, built, param, shape_error, weight_rule_builders};
use crate::constraints::Constraint;
use crate::error::{Result, TrainError};
use crate::init::Initializer;
use crate::param::Param;
use crate::regularizers::Regularizer;

/// Which recurrence a [`Recurrent`] layer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// `h = tanh(x W + h U + b)`.
    Simple,
    /// Long short-term memory (forget-gate bias starts at 1, as Keras' `unit_forget_bias`).
    Lstm,
    /// Gated recurrent unit.
    Gru,
}

impl Cell {
    /// The layer type Keras calls a layer of this cell (`kind()`, and what `load_model` reads).
    fn kind(self) -> &'static str {
        match self {
            Cell::Simple => "SimpleRNN",
            Cell::Lstm => "LSTM",
            Cell::Gru => "GRU",
        }
    }
    fn gates(self) -> usize {
        match self {
            Cell::Simple => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// A recurrent layer over samples `[time, features]`: output `[units]` (the last state), or
/// `[time, units]` with `return_sequences` (for stacking). Kernels Glorot-uniform, recurrent
/// kernels orthogonal, as Keras.
pub struct Recurrent {
    name: String,
    cell: Cell,
    units: usize,
    return_sequences: bool,
    kernel: Option<Var>,
    recurrent: Option<Var>,
    bias: Option<Var>,
    /// GRU's second bias, inside the reset gate.
    recurrent_bias: Option<Var>,
    /// Kernel, bias and output regularizers and constraints.
    rules: WeightRules,
    /// The recurrent kernel's regularizer (Keras' `recurrent_regularizer`).
    recurrent_regularizer: Option<Regularizer>,
    /// The recurrent kernel's constraint (Keras' `recurrent_constraint`).
    recurrent_constraint: Option<Constraint>,
}

/// `SimpleRNN`.
pub struct SimpleRnn;
/// `LSTM`.
pub struct Lstm;
/// `GRU`.
pub struct Gru;

impl SimpleRnn {
    /// A SimpleRNN of `units` units returning its last state.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(units: usize) -> Recurrent {
        Recurrent::new(Cell::Simple, units)
    }
}
impl Lstm {
    /// An LSTM of `units` units returning its last state.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(units: usize) -> Recurrent {
        Recurrent::new(Cell::Lstm, units)
    }
}
impl Gru {
    /// A GRU of `units` units returning its last state.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(units: usize) -> Recurrent {
        Recurrent::new(Cell::Gru, units)
    }
}

/// Column block `k` of width `u` of `[n, g u]` gates.
fn block(g: &Var, k: usize, u: usize) -> Result<Var> {
    Ok(g.slice(1, k * u, (k + 1) * u, 1)?)
}

impl Recurrent {
    /// A `cell` layer of `units` units returning its last state.
    pub fn new(cell: Cell, units: usize) -> Self {
        Recurrent {
            name: String::new(),
            cell,
            units,
            return_sequences: false,
            kernel: None,
            recurrent: None,
            bias: None,
            recurrent_bias: None,
            rules: WeightRules::default(),
            recurrent_regularizer: None,
            recurrent_constraint: None,
        }
    }
    weight_rule_builders!();
    fn weight_rules_mut(&mut self) -> &mut WeightRules {
        &mut self.rules
    }
    /// Penalizes the recurrent kernel (Keras' `recurrent_regularizer`).
    pub fn recurrent_regularizer(mut self, r: Regularizer) -> Self {
        self.recurrent_regularizer = Some(r);
        self
    }
    /// Projects the recurrent kernel after each update (Keras' `recurrent_constraint`).
    pub fn recurrent_constraint(mut self, c: Constraint) -> Self {
        self.recurrent_constraint = Some(c);
        self
    }
    /// Return every step's state `[time, units]` instead of the last.
    pub fn return_sequences(mut self, on: bool) -> Self {
        self.return_sequences = on;
        self
    }
    /// Whether it returns every step's state.
    pub fn returns_sequences(&self) -> bool {
        self.return_sequences
    }
    /// The same layer, unbuilt: its cell, units, output mode, regularizers and constraints
    /// (the backward half of a [`Bidirectional`](super::Bidirectional)).
    pub fn unbuilt_copy(&self) -> Recurrent {
        Recurrent {
            rules: self.rules,
            recurrent_regularizer: self.recurrent_regularizer,
            recurrent_constraint: self.recurrent_constraint,
            ..Recurrent::new(self.cell, self.units).return_sequences(self.return_sequences)
        }
    }
    /// The layer [`config`](Layer::config) wrote, unbuilt, its cell the entry's type
    /// (`SimpleRNN`, `LSTM` or `GRU`).
    pub(crate) fn from_config(c: &LayerConfig<'_>) -> Result<Self> {
        let cells = [Cell::Simple, Cell::Lstm, Cell::Gru];
        let Some(cell) = cells.into_iter().find(|cell| cell.kind() == c.kind()) else {
            return Err(c.error("a recurrent layer's type is SimpleRNN, LSTM or GRU"));
        };
        let layer = Recurrent::new(cell, c.get("units")?).return_sequences(c.get_or("return_sequences", false)?);
        Ok(Recurrent {
            rules: c.weight_rules()?,
            recurrent_regularizer: c.get_or("recurrent_regularizer", None)?,
            recurrent_constraint: c.get_or("recurrent_constraint", None)?,
            ..layer
        })
    }

    /// Runs the layer from initial states (`h0`, and `c0` for an LSTM; zeros when `None`) and
    /// returns the output and the final states `(h, c)` (c only for an LSTM).
    pub fn forward_with_state(&self, x: &Var, h0: Option<&Var>, c0: Option<&Var>) -> Result<(Var, Var, Option<Var>)> {
        self.forward_masked(x, None, h0, c0)
    }

    /// `forward_with_state` over sequences with padded steps: where `mask` `[n, time]` is 0,
    /// the states carry over unchanged (and a returned sequence repeats the last real
    /// output), so padding changes nothing (Keras' masking).
    pub fn forward_masked(
        &self,
        x: &Var,
        mask: Option<&Tensor>,
        h0: Option<&Var>,
        c0: Option<&Var>,
    ) -> Result<(Var, Var, Option<Var>)> {
        let (w, uk, b) =
            (built(&self.kernel, &self.name)?, built(&self.recurrent, &self.name)?, built(&self.bias, &self.name)?);
        let &[n, steps, _] = x.shape() else {
            return Err(shape_error(&self.name, "a batch of sequences [n, time, features]", x.shape()));
        };
        let u = self.units;
        if let Some(m) = mask {
            super::check_mask(&self.name, m, n, steps)?;
        }
        let zeros = || -> Result<Var> { Ok(Var::constant(Tensor::zeros(x.device(), &[n, u], DType::F32)?)) };
        let mut h = match h0 {
            Some(h) => h.clone(),
            None => zeros()?,
        };
        let mut c = match (self.cell, c0) {
            (Cell::Lstm, Some(c)) => Some(c.clone()),
            (Cell::Lstm, None) => Some(zeros()?),
            _ => None,
        };
        // All input projections at once: [n, time, g u].
        let xw = x.linear(w, Some(b), None, 0.0)?;
        let mut outputs = Vec::with_capacity(if self.return_sequences { steps } else { 0 });
        for t in 0..steps {
            let xt = xw.slice(1, t, t + 1, 1)?.reshape(&[n, self.cell.gates() * u])?;
            let (prev_h, prev_c) = (h.clone(), c.clone());
            h = match self.cell {
                Cell::Simple => xt.add(&h.matmul(uk)?)?.tanh()?,
                Cell::Lstm => {
                    // The gates' activations and both states in one fused kernel each way.
                    let g = xt.add(&h.matmul(uk)?)?;
                    let prev = c.take().expect("an LSTM carries a cell state");
                    let hc = Var::lstm_cell(&g, &prev)?;
                    c = Some(block(&hc, 1, u)?);
                    block(&hc, 0, u)?
                }
                Cell::Gru => {
                    // z, r, the candidate and h = z h + (1 - z) cand in one fused kernel each way.
                    let rb = built(&self.recurrent_bias, &self.name)?;
                    let hu = h.linear(uk, Some(rb), None, 0.0)?;
                    Var::gru_cell(&xt, &hu, &h)?
                }
            };
            if let Some(m) = mask {
                // A padded step keeps the states: s = prev + m (new - prev).
                let keep = Var::constant(m.slice(1, t, t + 1, 1)?.contiguous()?);
                let carry = |new: &Var, prev: &Var| -> Result<Var> { Ok(prev.add(&keep.mul(&new.sub(prev)?)?)?) };
                h = carry(&h, &prev_h)?;
                if let (Some(new), Some(prev)) = (&c, &prev_c) {
                    c = Some(carry(new, prev)?);
                }
            }
            if self.return_sequences {
                outputs.push(h.unsqueeze(1)?);
            }
        }
        let out = if self.return_sequences {
            let refs: Vec<&Var> = outputs.iter().collect();
            Var::concat(&refs, 1)?
        } else {
            h.clone()
        };
        Ok((out, h, c))
    }
}

impl Layer for Recurrent {
    fn compute_dtype(&self, _: DType) -> Option<DType> {
        Some(DType::F32)
    }
    fn kind(&self) -> &'static str {
        self.cell.kind()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: String) {
        self.name = name;
    }
    fn build(&mut self, input: &[usize], ctx: &mut BuildCtx<'_>) -> Result<Vec<usize>> {
        let &[steps, features] = input else {
            return Err(shape_error(&self.name, "a sequence [time, features]", input));
        };
        if steps == 0 || features == 0 || self.units == 0 {
            return Err(TrainError::config(&self.name, "time, features and units must be >= 1"));
        }
        self.rules.check(&self.name)?;
        self.recurrent_regularizer.map_or(Ok(()), |r| r.check(&self.name))?;
        self.recurrent_constraint.map_or(Ok(()), |c| c.check(&self.name))?;
        let (u, g) = (self.units, self.cell.gates());
        let d = ctx.device;
        self.kernel = Some(Var::parameter(Initializer::GlorotUniform.create(
            d,
            &[features, g * u],
            (features, g * u),
            ctx.next_seed(),
        )?));
        // Orthogonal over the whole [u, g u] recurrent kernel (orthonormal rows), as Keras.
        self.recurrent = Some(Var::parameter(Initializer::Orthogonal { gain: 1.0 }.create(
            d,
            &[u, g * u],
            (u, g * u),
            ctx.next_seed(),
        )?));
        let mut bias = vec![0.0f32; g * u];
        if self.cell == Cell::Lstm {
            bias[u..2 * u].fill(1.0);
        }
        self.bias = Some(Var::parameter(Tensor::from_slice(d, &bias, &[g * u])?));
        if self.cell == Cell::Gru {
            self.recurrent_bias = Some(Var::parameter(Tensor::zeros(d, &[g * u], DType::F32)?));
        }
        Ok(if self.return_sequences { vec![steps, u] } else { vec![u] })
    }
    /// Recurrent layers compute in f32 under every policy: a state carried over many steps
    /// is where f16's 11 bits would show.
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        let y = self.forward_masked(&x.cast(DType::F32)?, ctx.input_mask(), None, None)?.0;
        self.rules.activity(&y, ctx)?;
        Ok(y)
    }
    /// The bias regularizer covers both of a GRU's biases.
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        let mut out = self.rules.weight_penalties(self.kernel.as_ref(), self.bias.as_ref())?;
        out.extend(self.rules.weight_penalties(None, self.recurrent_bias.as_ref())?);
        if let (Some(r), Some(k)) = (self.recurrent_regularizer, self.recurrent.as_ref().filter(|k| k.requires_grad()))
        {
            out.push(r.penalty(k)?);
        }
        Ok(out)
    }
    /// Units are kernel columns, as Dense's.
    fn apply_constraints(&self) -> Result<()> {
        self.rules.constrain(self.kernel.as_ref(), &[0], self.bias.as_ref())?;
        self.rules.constrain(None, &[0], self.recurrent_bias.as_ref())?;
        if let (Some(c), Some(k)) = (self.recurrent_constraint, self.recurrent.as_ref().filter(|k| k.requires_grad())) {
            c.apply(k.data(), &[0])?;
        }
        Ok(())
    }
    fn params(&self) -> Vec<Param> {
        [
            ("kernel", &self.kernel),
            ("recurrent_kernel", &self.recurrent),
            ("bias", &self.bias),
            ("recurrent_bias", &self.recurrent_bias),
        ]
        .into_iter()
        .filter_map(|(n, v)| param(&self.name, n, v))
        .collect()
    }
    /// A returned sequence keeps the mask; the last state is of real steps only.
    fn compute_mask(&self, _: &Var, mask: Option<&Tensor>) -> Result<Option<Tensor>> {
        Ok(mask.filter(|_| self.return_sequences).cloned())
    }
    fn config(&self) -> serde_json::Value {
        let settings = json!({ "units": self.units, "return_sequences": self.return_sequences });
        let mut config = with_rules(settings, &self.rules);
        if let Some(r) = self.recurrent_regularizer {
            config["recurrent_regularizer"] = json!(r);
        }
        if let Some(c) = self.recurrent_constraint {
            config["recurrent_constraint"] = json!(c);
        }
        config
    }
}
