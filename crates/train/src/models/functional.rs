//! The Functional API: any directed acyclic graph of layers, with named inputs, several outputs,
//! shared layers (one layer object called on several inputs shares its weights: Siamese
//! networks), skip connections, branches and merges (`add`, `concatenate`).
//!
//! Building is symbolic: each call checks shapes and returns a [`Sym`] (a node of the graph);
//! nothing runs until the finished network is given data.

use std::collections::HashMap;

use serde_json::json;
use wgtrain_autograd::Var;
use wgtrain_tensor::{Device, Tensor};

use super::sequential::snake;
use super::{Network, SummaryRow};
use crate::error::{Result, TrainError};
use crate::layers::{BuildCtx, Ctx, Layer, build_layer, build_layer_pair, merged_masks, shape_error};
use crate::param::Param;

/// A symbolic value of a graph under construction: an input, or the output of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sym(usize);

/// A layer registered in a graph; call it with [`Functional::call`] as often as needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerRef(usize);

#[derive(Debug, Clone)]
enum Op {
    Input(usize),
    Call(usize, Sym),
    /// A layer of two inputs (attention's query and value).
    Pair(usize, Sym, Sym),
    /// An elementwise merge of values of one shape.
    Merge(Merge, Vec<Sym>),
    /// Axis into the batched value.
    Concat(Vec<Sym>, isize),
}

/// Keras' elementwise merge layers: each combines values of one shape into one of that shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The sum (`Add`).
    Add,
    /// The first minus the second, of exactly two values (`Subtract`).
    Subtract,
    /// The product (`Multiply`).
    Multiply,
    /// The mean (`Average`).
    Average,
    /// The elementwise maximum (`Maximum`; NaN wins, as everywhere in wgtrain).
    Maximum,
    /// The elementwise minimum (`Minimum`).
    Minimum,
}

impl Merge {
    /// Every merge.
    pub const ALL: [Merge; 6] =
        [Merge::Add, Merge::Subtract, Merge::Multiply, Merge::Average, Merge::Maximum, Merge::Minimum];

    /// The Keras layer name.
    pub fn name(self) -> &'static str {
        match self {
            Merge::Add => "Add",
            Merge::Subtract => "Subtract",
            Merge::Multiply => "Multiply",
            Merge::Average => "Average",
            Merge::Maximum => "Maximum",
            Merge::Minimum => "Minimum",
        }
    }

    /// Combines `vars` (at least one, two for `Subtract`; checked when the graph is built).
    fn apply(self, vars: &[Var]) -> Result<Var> {
        let fold = |f: fn(&Var, &Var) -> wgtrain_autograd::Result<Var>| -> Result<Var> {
            let mut acc = vars[0].clone();
            for v in &vars[1..] {
                acc = f(&acc, v)?;
            }
            Ok(acc)
        };
        match self {
            Merge::Add => fold(Var::add),
            Merge::Subtract => Ok(vars[0].sub(&vars[1])?),
            Merge::Multiply => fold(Var::mul),
            Merge::Average => Ok(fold(Var::add)?.mul_scalar(1.0 / vars.len() as f32)?),
            Merge::Maximum => fold(Var::maximum),
            Merge::Minimum => fold(Var::minimum),
        }
    }
}

impl Op {
    /// The layer a call runs, if this is a call.
    fn layer(&self) -> Option<usize> {
        match self {
            Op::Call(l, _) | Op::Pair(l, _, _) => Some(*l),
            _ => None,
        }
    }
}

struct Node {
    op: Op,
    name: String,
    /// Per-sample shape.
    shape: Vec<usize>,
}

/// A network defined as a graph of layer calls.
///
/// ```no_run
/// use wgtrain::layers::Dense;
/// use wgtrain::models::Functional;
/// use wgtrain::prelude::{Adam, FitOptions, MeanSquaredError, Model, Tensor};
/// # fn main() -> wgtrain::Result<()> {
/// let dev = wgtrain::tensor::Device::new()?;
/// let mut g = Functional::new(&dev);
/// let (a, b) = (g.input("left", &[8]), g.input("right", &[8]));
/// let shared = g.layer(Dense::new(16).relu());
/// let (ha, hb) = (g.call(shared, a)?, g.call(shared, b)?); // one set of weights
/// let merged = g.add(&[ha, hb])?;
/// let skip = g.concatenate(&[merged, a], -1)?; // a skip connection
/// let out = g.apply(Dense::new(1), skip)?;
/// g.set_outputs(&[out])?;
///
/// // Train it like any network, feeding the inputs in declaration order.
/// let mut model = Model::new(g);
/// model.compile(Adam::new(1e-3), MeanSquaredError, vec![])?;
/// let left = Tensor::rand_uniform(&dev, &[256, 8], -1.0, 1.0, 1)?;
/// let right = Tensor::rand_uniform(&dev, &[256, 8], -1.0, 1.0, 2)?;
/// let y = left.sub(&right)?.abs()?.sum(&[1], true)?; // [256, 1]
/// model.fit_inputs(&[left, right], &y, FitOptions { epochs: 3, ..Default::default() })?;
/// # Ok(()) }
/// ```
pub struct Functional {
    device: Device,
    layers: Vec<Box<dyn Layer>>,
    /// The per-sample shapes of the input (or the two inputs) each layer was built for (shared
    /// calls must match them).
    built_for: Vec<Option<Vec<Vec<usize>>>>,
    nodes: Vec<Node>,
    inputs: Vec<Sym>,
    outputs: Vec<Sym>,
    counts: HashMap<String, usize>,
    seed: u64,
}

impl Functional {
    /// An empty graph on `device`; weights are drawn from seed 0 unless [`seed`](Self::seed) is set.
    pub fn new(device: &Device) -> Self {
        Functional {
            device: device.clone(),
            layers: Vec::new(),
            built_for: Vec::new(),
            nodes: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            counts: HashMap::new(),
            seed: 0,
        }
    }
    /// The seed of the weight initializers of layers built after this call.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The next free name of a `kind` (`dense_3`): numbered by kind, skipping the names that
    /// layers and nodes already have (a layer named `dense_1` by hand).
    fn unique(&mut self, kind: &str) -> String {
        let base = snake(kind);
        loop {
            let n = self.counts.entry(base.clone()).or_insert(0);
            *n += 1;
            let name = format!("{base}_{n}");
            let taken = self.layers.iter().any(|l| l.name() == name) || self.nodes.iter().any(|n| n.name == name);
            if !taken {
                return name;
            }
        }
    }

    fn push(&mut self, op: Op, name: String, shape: Vec<usize>) -> Sym {
        self.nodes.push(Node { op, name, shape });
        Sym(self.nodes.len() - 1)
    }

    fn node(&self, s: Sym) -> Result<&Node> {
        self.nodes
            .get(s.0)
            .ok_or_else(|| TrainError::config("Functional", format!("{s:?} is not a value of this graph")))
    }

    /// A named input taking samples of `shape`; inputs are fed in the order they are declared.
    pub fn input(&mut self, name: &str, shape: &[usize]) -> Sym {
        let index = self.inputs.len();
        let s = self.push(Op::Input(index), name.to_string(), shape.to_vec());
        self.inputs.push(s);
        s
    }

    /// Registers `layer` (built on its first call).
    pub fn layer(&mut self, layer: impl Layer + 'static) -> LayerRef {
        self.layer_boxed(Box::new(layer))
    }

    /// Registers a boxed layer (chosen at run time).
    pub fn layer_boxed(&mut self, mut layer: Box<dyn Layer>) -> LayerRef {
        if layer.name().is_empty() {
            let name = self.unique(layer.kind());
            layer.set_name(name);
        }
        self.layers.push(layer);
        self.built_for.push(None);
        LayerRef(self.layers.len() - 1)
    }

    /// Calls a registered layer on `x`. The first call builds it for x's shape; later calls
    /// reuse its weights and must pass the same shape.
    pub fn call(&mut self, layer: LayerRef, x: Sym) -> Result<Sym> {
        self.call_on(layer, &[x])
    }

    /// Calls a registered layer of two inputs on `first` and `second` (Keras'
    /// `mha(query, value)`: a `MultiHeadAttention` as cross-attention, the query's steps
    /// attending to the value's). Built on the first call, shared as `call`'s layers are.
    pub fn call_pair(&mut self, layer: LayerRef, first: Sym, second: Sym) -> Result<Sym> {
        self.call_on(layer, &[first, second])
    }

    /// Registers and calls a layer of two inputs used once.
    pub fn apply_pair(&mut self, layer: impl Layer + 'static, first: Sym, second: Sym) -> Result<Sym> {
        let l = self.layer(layer);
        self.call_pair(l, first, second)
    }

    /// A call of a layer on one or two values.
    fn call_on(&mut self, layer: LayerRef, xs: &[Sym]) -> Result<Sym> {
        let shapes = xs.iter().map(|&x| Ok(self.node(x)?.shape.clone())).collect::<Result<Vec<_>>>()?;
        let index = layer.0;
        let Some(name) = self.layers.get(index).map(|l| l.name().to_string()) else {
            return Err(TrainError::config("Functional::call", format!("{layer:?} is not a layer of this graph")));
        };
        if self.layers.iter().enumerate().any(|(j, other)| j != index && other.name() == name) {
            let why = format!("two layers of this graph are named {name:?}: their weights would share names");
            return Err(TrainError::config("Functional::call", why));
        }
        let l = &mut self.layers[index];
        let out = match &self.built_for[index] {
            Some(built) if *built != shapes => {
                let why = format!(
                    "its weights were built for inputs of shapes {built:?}; this call gives {shapes:?} (a layer is called on one input or two, always alike)"
                );
                return Err(TrainError::config(l.name(), why));
            }
            Some(_) => {
                // Same weights, same shapes: the output shape is that of the first call.
                let first = self.nodes.iter().find(|n| n.op.layer() == Some(index));
                first.map(|n| n.shape.clone()).unwrap_or_default()
            }
            None => {
                let seed = self.seed.wrapping_mul(1_000_003).wrapping_add(index as u64 * 7919);
                let mut ctx = BuildCtx::new(&self.device, seed);
                let out = match shapes.as_slice() {
                    [shape] => build_layer(l.as_mut(), shape, &mut ctx)?,
                    [a, b] => build_layer_pair(l.as_mut(), a, b, &mut ctx)?,
                    _ => unreachable!("a layer is called on one or two values"),
                };
                self.built_for[index] = Some(shapes);
                out
            }
        };
        let op = match xs {
            [x] => Op::Call(index, *x),
            [a, b] => Op::Pair(index, *a, *b),
            _ => unreachable!("a layer is called on one or two values"),
        };
        Ok(self.push(op, name, out))
    }

    /// Registers and calls a layer used once.
    pub fn apply(&mut self, layer: impl Layer + 'static, x: Sym) -> Result<Sym> {
        let l = self.layer(layer);
        self.call(l, x)
    }

    /// The elementwise sum of values of one shape (Keras' `Add`).
    pub fn add(&mut self, xs: &[Sym]) -> Result<Sym> {
        self.merge(Merge::Add, xs)
    }

    /// The first value minus the second (Keras' `Subtract`: exactly two, of one shape).
    pub fn subtract(&mut self, a: Sym, b: Sym) -> Result<Sym> {
        self.merge(Merge::Subtract, &[a, b])
    }

    /// The elementwise product of values of one shape (Keras' `Multiply`).
    pub fn multiply(&mut self, xs: &[Sym]) -> Result<Sym> {
        self.merge(Merge::Multiply, xs)
    }

    /// The elementwise mean of values of one shape (Keras' `Average`).
    pub fn average(&mut self, xs: &[Sym]) -> Result<Sym> {
        self.merge(Merge::Average, xs)
    }

    /// The elementwise maximum of values of one shape (Keras' `Maximum`).
    pub fn maximum(&mut self, xs: &[Sym]) -> Result<Sym> {
        self.merge(Merge::Maximum, xs)
    }

    /// The elementwise minimum of values of one shape (Keras' `Minimum`).
    pub fn minimum(&mut self, xs: &[Sym]) -> Result<Sym> {
        self.merge(Merge::Minimum, xs)
    }

    /// Any elementwise merge of values of one shape.
    pub fn merge(&mut self, merge: Merge, xs: &[Sym]) -> Result<Sym> {
        let name = self.unique(merge.name());
        let Some(&first) = xs.first() else {
            return Err(TrainError::config(&name, "needs at least one value"));
        };
        if merge == Merge::Subtract && xs.len() != 2 {
            return Err(TrainError::config(&name, format!("subtracts exactly two values, got {}", xs.len())));
        }
        let shape = self.node(first)?.shape.clone();
        for &x in xs {
            let s = &self.node(x)?.shape;
            if *s != shape {
                return Err(shape_error(&name, format!("{shape:?}, the shape of its first input"), s));
            }
        }
        Ok(self.push(Op::Merge(merge, xs.to_vec()), name, shape))
    }

    /// Joins values along `axis` of the per-sample shape (negative counts from the end; Keras'
    /// `Concatenate`); the other extents must agree.
    pub fn concatenate(&mut self, xs: &[Sym], axis: isize) -> Result<Sym> {
        let name = self.unique("Concatenate");
        let Some(&first) = xs.first() else {
            return Err(TrainError::config(&name, "needs at least one value"));
        };
        let mut shape = self.node(first)?.shape.clone();
        let rank = shape.len() as isize;
        let a = if axis < 0 { axis + rank } else { axis };
        if a < 0 || a >= rank {
            return Err(shape_error(&name, format!("a per-sample rank above axis {axis}"), &shape));
        }
        let a = a as usize;
        for &x in &xs[1..] {
            let s = &self.node(x)?.shape;
            let agree = s.len() == shape.len() && s.iter().zip(&shape).enumerate().all(|(d, (u, v))| d == a || u == v);
            if !agree {
                return Err(shape_error(&name, format!("{shape:?} except along axis {a}"), s));
            }
            shape[a] += s[a];
        }
        Ok(self.push(Op::Concat(xs.to_vec(), a as isize + 1), name, shape))
    }

    /// Sets the values the network returns. A model of several outputs is compiled with a loss
    /// per output (`Model::compile_outputs`), each output named after the layer computing it.
    pub fn set_outputs(&mut self, outputs: &[Sym]) -> Result<()> {
        if outputs.is_empty() {
            return Err(TrainError::config("Functional", "needs at least one output"));
        }
        for &o in outputs {
            self.node(o)?;
        }
        self.outputs = outputs.to_vec();
        Ok(())
    }

    /// Every output for the given inputs (in declaration order).
    pub fn forward_all(&self, xs: &[Var], ctx: &mut Ctx) -> Result<Vec<Var>> {
        // The caller's mask (a model inside a model) is the first input's; the context is left
        // as it was found, whatever happens.
        let incoming = ctx.input_mask().cloned();
        let result = self.evaluate(xs, incoming.clone(), ctx);
        ctx.set_input_mask(incoming);
        result
    }

    fn evaluate(&self, xs: &[Var], incoming: Option<Tensor>, ctx: &mut Ctx) -> Result<Vec<Var>> {
        if xs.len() != self.inputs.len() {
            let why = format!("{} inputs given, the graph declares {}", xs.len(), self.inputs.len());
            return Err(TrainError::config("Functional", why));
        }
        if self.outputs.is_empty() {
            return Err(TrainError::config("Functional", "no outputs: call set_outputs first"));
        }
        let mut values: Vec<Option<Var>> = vec![None; self.nodes.len()];
        // Each value's mask (padded steps), beside it.
        let mut masks: Vec<Option<Tensor>> = vec![None; self.nodes.len()];
        // Nodes only refer to earlier nodes, so one pass in order evaluates the graph.
        for (i, node) in self.nodes.iter().enumerate() {
            let get = |s: &Sym| values[s.0].clone().expect("graph nodes refer to earlier nodes");
            let v = match &node.op {
                Op::Input(k) => {
                    let x = &xs[*k];
                    if x.rank() != node.shape.len() + 1 || x.shape()[1..] != node.shape[..] {
                        return Err(shape_error(&node.name, format!("[batch, {:?}...]", node.shape), x.shape()));
                    }
                    masks[i] = incoming.clone().filter(|m| *k == 0 && x.rank() >= 2 && m.shape() == &x.shape()[..2]);
                    x.clone()
                }
                Op::Call(l, x) => {
                    let (layer, input) = (&self.layers[*l], get(x));
                    ctx.set_input_mask(masks[x.0].clone());
                    let out = layer.forward(&input, ctx)?;
                    masks[i] = layer.compute_mask(&input, masks[x.0].as_ref())?;
                    out
                }
                Op::Pair(l, a, b) => {
                    // The value's mask masks the keys; the output keeps the query's steps.
                    ctx.set_input_mask(masks[b.0].clone());
                    let out = self.layers[*l].forward_pair(&get(a), &get(b), ctx)?;
                    masks[i] = masks[a.0].clone();
                    out
                }
                Op::Merge(merge, parts) => {
                    masks[i] = merged_masks(&parts.iter().map(|p| masks[p.0].clone()).collect::<Vec<_>>())?;
                    merge.apply(&common_dtype(parts.iter().map(&get).collect(), ctx)?)?
                }
                Op::Concat(parts, axis) => {
                    masks[i] = concat_masks(parts.iter().map(|p| (masks[p.0].clone(), &self.nodes[p.0].shape)), *axis)?;
                    let vars = common_dtype(parts.iter().map(&get).collect(), ctx)?;
                    let refs: Vec<&Var> = vars.iter().collect();
                    Var::concat(&refs, *axis)?
                }
            };
            values[i] = Some(v);
        }
        ctx.set_output_masks(self.outputs.iter().map(|o| masks[o.0].clone()).collect());
        Ok(self.outputs.iter().map(|o| values[o.0].clone().expect("evaluated")).collect())
    }
}

impl Network for Functional {
    fn device(&self) -> &Device {
        &self.device
    }
    fn input_shape(&self) -> &[usize] {
        self.inputs.first().map_or(&[], |s| &self.nodes[s.0].shape)
    }
    fn input_shapes(&self) -> Vec<Vec<usize>> {
        self.inputs.iter().map(|s| self.nodes[s.0].shape.clone()).collect()
    }
    fn output_shape(&self) -> &[usize] {
        self.outputs.first().map_or(&[], |s| &self.nodes[s.0].shape)
    }
    fn forward(&self, x: &Var, ctx: &mut Ctx) -> Result<Var> {
        self.forward_inputs(std::slice::from_ref(x), ctx)
    }
    fn forward_inputs(&self, xs: &[Var], ctx: &mut Ctx) -> Result<Var> {
        Ok(self.forward_all(xs, ctx)?.swap_remove(0))
    }
    fn output_shapes(&self) -> Vec<Vec<usize>> {
        self.outputs.iter().map(|s| self.nodes[s.0].shape.clone()).collect()
    }
    fn output_names(&self) -> Vec<String> {
        self.outputs.iter().map(|s| self.nodes[s.0].name.clone()).collect()
    }
    fn forward_outputs(&self, xs: &[Var], ctx: &mut Ctx) -> Result<Vec<Var>> {
        self.forward_all(xs, ctx)
    }
    fn params(&self) -> Vec<Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }
    fn buffers(&self) -> Vec<(String, Tensor)> {
        self.layers.iter().flat_map(|l| l.buffers()).collect()
    }
    fn layer_params(&self, layer: &str) -> Option<Vec<Param>> {
        self.layers.iter().find(|l| l.name() == layer).map(|l| l.params())
    }
    fn weight_penalties(&self) -> Result<Vec<Var>> {
        super::layer_penalties(&self.layers)
    }
    fn apply_constraints(&self) -> Result<()> {
        self.layers.iter().try_for_each(|l| l.apply_constraints())
    }
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut counted = vec![false; self.layers.len()];
        self.nodes
            .iter()
            .map(|n| {
                let (kind, trainable, non_trainable, mixed_compute) = match &n.op {
                    Op::Input(_) => ("InputLayer".to_string(), 0, 0, None),
                    Op::Merge(m, _) => (m.name().to_string(), 0, 0, None),
                    Op::Concat(..) => ("Concatenate".to_string(), 0, 0, None),
                    Op::Call(l, _) | Op::Pair(l, _, _) => {
                        let layer = &self.layers[*l];
                        // A shared layer's weights count once, at its first call.
                        let first = !std::mem::replace(&mut counted[*l], true);
                        let ps = if first { layer.params() } else { Vec::new() };
                        let t = ps.iter().filter(|p| p.var.requires_grad()).map(|p| p.var.len()).sum();
                        let f = ps.iter().filter(|p| !p.var.requires_grad()).map(|p| p.var.len()).sum::<usize>()
                            + if first { layer.buffers().iter().map(|(_, b)| b.len()).sum() } else { 0 };
                        (layer.kind().to_string(), t, f, layer.compute_dtype(wgtrain_tensor::DType::F16))
                    }
                };
                SummaryRow {
                    name: n.name.clone(),
                    kind,
                    output: n.shape.clone(),
                    trainable,
                    non_trainable,
                    mixed_compute,
                }
            })
            .collect()
    }
    fn config(&self) -> serde_json::Value {
        let layers: Vec<_> = self
            .layers
            .iter()
            .map(|l| json!({ "class_name": l.kind(), "name": l.name(), "config": l.config() }))
            .collect();
        let nodes: Vec<_> = self
            .nodes
            .iter()
            .map(|n| match &n.op {
                Op::Input(k) => json!({ "input": k, "name": n.name, "shape": n.shape }),
                Op::Call(l, x) => json!({ "call": self.layers[*l].name(), "on": x.0 }),
                Op::Pair(l, a, b) => json!({ "call": self.layers[*l].name(), "on": a.0, "and": b.0 }),
                Op::Merge(m, p) => json!({ m.name().to_lowercase(): p.iter().map(|s| s.0).collect::<Vec<_>>() }),
                Op::Concat(p, a) => json!({ "concatenate": p.iter().map(|s| s.0).collect::<Vec<_>>(), "axis": a }),
            })
            .collect();
        json!({ "class_name": "Functional", "layers": layers, "nodes": nodes,
                "outputs": self.outputs.iter().map(|s| s.0).collect::<Vec<_>>() })
    }
}

/// Merge inputs in one dtype: as they are when they agree, else each in the pass's compute
/// dtype (under a mixed policy an f16 branch can meet an f32 one: an input, an embedding).
fn common_dtype(vars: Vec<Var>, ctx: &Ctx) -> Result<Vec<Var>> {
    if vars.iter().all(|v| v.dtype() == vars[0].dtype()) {
        return Ok(vars);
    }
    vars.iter().map(|v| ctx.compute(v)).collect()
}

/// The mask of a concatenation: along time (batched axis 1), the parts' masks joined (an
/// unmasked part's steps are all real); along features, as a merge's.
fn concat_masks<'a>(
    parts: impl Iterator<Item = (Option<Tensor>, &'a Vec<usize>)>,
    axis: isize,
) -> Result<Option<Tensor>> {
    let parts: Vec<_> = parts.collect();
    if parts.iter().all(|(m, _)| m.is_none()) {
        return Ok(None);
    }
    if axis != 1 {
        return merged_masks(&parts.into_iter().map(|(m, _)| m).collect::<Vec<_>>());
    }
    let n = parts.iter().find_map(|(m, _)| m.as_ref().map(|m| m.shape()[0])).unwrap_or(0);
    let device = parts.iter().find_map(|(m, _)| m.as_ref().map(|m| m.device().clone())).expect("a masked part");
    let whole = parts
        .into_iter()
        .map(|(m, shape)| match m {
            Some(m) => Ok(m),
            None => Ok(Tensor::ones(&device, &[n, shape[0]], wgtrain_tensor::DType::F32)?),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Tensor::concat(&whole.iter().collect::<Vec<_>>(), 1)?))
}
