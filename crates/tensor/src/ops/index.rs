//! Indexing and shape-building ops: `embedding` and its gradient, `gather` along an axis and its
//! gradient, `one_hot` (kernels of `index.wgsl`), and `concat` and `pad`, which are composed from
//! a fill and strided copies into slice views of the output (no kernel of their own).
//!
//! Indices are u32 or i32 tensors. They live on the device, so the forward ops check them there
//! (`fault.rs`): an out-of-range (or negative) index makes the next read-back fail with
//! [`TensorError::IndexOutOfRange`] naming the op, the first bad value and its position. The
//! kernels never read out of range meanwhile (such an index reads as zero). The gradients take
//! the indices their forward op already checked. Gradients are deterministic scatter-adds (no
//! atomics; contributions summed in index order).

use wgtrain_kernels::KernelSpec;
use wgtrain_kernels::ops::fault::FaultOp;
use wgtrain_kernels::ops::index::{self, IndexParams};

use super::ignore_bits;
use crate::dtype::DType;
use crate::error::{Result, TensorError};
use crate::shape::{axis, check_rank};
use crate::tensor::Tensor;

fn expect_index(op: &'static str, t: &Tensor) -> Result<()> {
    match t.dtype() {
        DType::U32 | DType::I32 => Ok(()),
        got => Err(TensorError::DType { op, expected: DType::U32, got }),
    }
}

/// Records `kernel` over (indices, source, output) when the output is not empty.
fn run(kernel: &'static KernelSpec, p: &IndexParams, ids: &Tensor, src: &Tensor, out: &Tensor) -> Result<()> {
    if p.n == 0 {
        return Ok(());
    }
    let (ids, src) = (ids.dense()?, src.dense()?);
    out.device().dispatch(&index::launch(kernel, p), &[ids.binding(), src.binding(), out.binding()])
}

/// (outer, inner) products around axis `a`.
fn split(shape: &[usize], a: usize) -> (usize, usize) {
    (shape[..a].iter().product(), shape[a + 1..].iter().product())
}

impl Tensor {
    /// Rows of `table` `[vocab, dim]` picked by `ids` (u32 or i32, any shape): output
    /// `ids.shape + [dim]`. An id outside `0..vocab` makes the next read-back fail with
    /// [`TensorError::IndexOutOfRange`] (its row reads as zeros meanwhile).
    pub fn embedding(ids: &Tensor, table: &Tensor) -> Result<Tensor> {
        let op = "embedding";
        ids.same_device(op, table)?;
        expect_index(op, ids)?;
        table.expect_dtype(op, DType::F32)?;
        let bad =
            |_| TensorError::Shape { op, expected: "a rank-2 table [vocab, dim]".into(), got: table.shape.clone() };
        let [vocab, dim] = <[usize; 2]>::try_from(table.shape()).map_err(bad)?;
        let mut shape = ids.shape.clone();
        shape.push(dim);
        check_rank(op, &shape)?;
        let out = Tensor::empty(ids.device(), &shape, DType::F32)?;
        let ids = ids.dense()?;
        ids.check_indices(FaultOp::Embedding, vocab, None)?;
        run(&index::EMBEDDING_FORWARD, &IndexParams::embedding(ids.len(), vocab, dim), &ids, table, &out)?;
        Ok(out)
    }

    /// Gradient of [`embedding`](Self::embedding) w.r.t. the table: `dtable[v] = sum of dy rows
    /// whose id is v`, summed in id order. `dy` has shape `ids.shape + [dim]`; returns
    /// `[vocab, dim]`. Cost: `ceil(vocab / 16) * dim` threads, each scanning all ids, so
    /// `O(vocab * dim * ids / 16)` index reads, fine for vocabularies up to tens of thousands.
    pub fn embedding_backward(ids: &Tensor, dy: &Tensor, vocab: usize) -> Result<Tensor> {
        let op = "embedding_backward";
        ids.same_device(op, dy)?;
        expect_index(op, ids)?;
        dy.expect_dtype(op, DType::F32)?;
        let dim = *dy.shape.last().unwrap_or(&0);
        if dy.rank() != ids.rank() + 1 || dy.shape[..ids.rank()] != ids.shape[..] {
            let why = "dy must have shape ids.shape + [dim]".to_string();
            return Err(TensorError::Incompatible { op, lhs: ids.shape.clone(), rhs: dy.shape.clone(), why });
        }
        let out = Tensor::empty(ids.device(), &[vocab, dim], DType::F32)?;
        run(&index::EMBEDDING_BACKWARD, &IndexParams::embedding_grad(ids.len(), vocab, dim), ids, dy, &out)?;
        Ok(out)
    }

    /// Validates `gather` operands; returns the resolved axis.
    fn gather_check(op: &'static str, shape: &[usize], ax: isize, idx: &Tensor) -> Result<usize> {
        expect_index(op, idx)?;
        let a = axis(op, ax, shape.len())?;
        let fits = idx.rank() == shape.len() && (0..shape.len()).all(|d| d == a || idx.shape[d] <= shape[d]);
        if !fits {
            let why = format!("the index must have the same rank and extents <= the input's off axis {a}");
            return Err(TensorError::Incompatible { op, lhs: shape.to_vec(), rhs: idx.shape.clone(), why });
        }
        Ok(a)
    }

    /// `torch.gather`: `out[..., j, ...] = self[..., index[..., j, ...], ...]` along `axis`;
    /// `index` (u32/i32) has this tensor's rank, extents <= its extents off the axis, and gives
    /// the output shape. An index outside the axis makes the next read-back fail with
    /// [`TensorError::IndexOutOfRange`] (it reads as zero meanwhile).
    pub fn gather(&self, ax: isize, index: &Tensor) -> Result<Tensor> {
        let op = "gather";
        self.same_device(op, index)?;
        self.expect_dtype(op, DType::F32)?;
        let a = Tensor::gather_check(op, &self.shape, ax, index)?;
        // Off the axis, the index may be smaller than the input: gather from that corner.
        let mut x = self.clone();
        for d in (0..self.rank()).filter(|&d| d != a) {
            x = x.slice(d as isize, 0, index.shape[d], 1)?;
        }
        let (outer, inner) = split(&index.shape, a);
        let out = Tensor::empty(self.device(), &index.shape, DType::F32)?;
        let index = index.dense()?;
        index.check_indices(FaultOp::Gather, self.shape[a], None)?;
        let p = IndexParams::gather(outer, self.shape[a], index.shape[a], inner);
        run(&index::GATHER_FORWARD, &p, &index, &x, &out)?;
        Ok(out)
    }

    /// Gradient of [`gather`](Self::gather) w.r.t. its input of `input_shape`: the scatter-add
    /// `dx[..., index[..., j, ...], ...] += dy[..., j, ...]`, summed in j order. `dy` has the
    /// index's shape.
    pub fn gather_backward(dy: &Tensor, ax: isize, index: &Tensor, input_shape: &[usize]) -> Result<Tensor> {
        let op = "gather_backward";
        dy.same_device(op, index)?;
        dy.expect_dtype(op, DType::F32)?;
        let a = Tensor::gather_check(op, input_shape, ax, index)?;
        if dy.shape != index.shape {
            let why = "dy must have the index's shape".to_string();
            return Err(TensorError::Incompatible { op, lhs: dy.shape.clone(), rhs: index.shape.clone(), why });
        }
        let mut corner = index.shape.clone();
        corner[a] = input_shape[a];
        let (outer, inner) = split(&corner, a);
        let dx = Tensor::empty(dy.device(), &corner, DType::F32)?;
        let p = IndexParams::gather_grad(outer, input_shape[a], index.shape[a], inner);
        run(&index::GATHER_BACKWARD, &p, index, dy, &dx)?;
        if corner == input_shape {
            return Ok(dx);
        }
        let pads: Vec<(usize, usize)> = corner.iter().zip(input_shape).map(|(&c, &s)| (0, s - c)).collect();
        dx.pad(&pads, 0.0)
    }

    /// One-hot rows: labels (u32/i32, any shape) -> f32 `labels.shape + [classes]`. A label
    /// outside `0..classes` makes the next read-back fail with [`TensorError::IndexOutOfRange`]
    /// (its row reads as zeros meanwhile).
    pub fn one_hot(&self, classes: usize) -> Result<Tensor> {
        self.one_hot_with(classes, None, FaultOp::OneHot)
    }

    /// [`one_hot`](Self::one_hot) whose label `ignore_index`, if given, gives a zero row rather
    /// than a fault, with faults reported under `op`'s name (a loss built on one_hot names
    /// itself: [`FaultOp::SparseCrossEntropy`]). The sum of a row is then 1 for a kept label
    /// and 0 for the ignored one: the mask of kept samples.
    pub fn one_hot_with(&self, classes: usize, ignore_index: Option<i64>, op: FaultOp) -> Result<Tensor> {
        let name = "one_hot";
        expect_index(name, self)?;
        if classes == 0 {
            let why = "the class count is 0; it must be at least 1".into();
            return Err(TensorError::Argument { op: name, why });
        }
        let mut shape = self.shape.clone();
        shape.push(classes);
        check_rank(name, &shape)?;
        let out = Tensor::empty(self.device(), &shape, DType::F32)?;
        let ignore = ignore_bits(ignore_index, self.dtype());
        let labels = self.dense()?;
        labels.check_indices(op, classes, ignore)?;
        let p = IndexParams::one_hot_ignoring(self.len(), classes, ignore);
        if p.n > 0 {
            self.device().dispatch(&index::launch(&index::ONE_HOT, &p), &[labels.binding(), out.binding()])?;
        }
        Ok(out)
    }

    /// Joins tensors of one dtype and rank along `axis`; all other extents must agree.
    pub fn concat(tensors: &[&Tensor], ax: isize) -> Result<Tensor> {
        let op = "concat";
        let Some(first) = tensors.first() else {
            return Err(TensorError::Argument { op, why: "no tensors to concatenate".into() });
        };
        let a = axis(op, ax, first.rank())?;
        for t in &tensors[1..] {
            first.same_device(op, t)?;
            if t.dtype() != first.dtype() {
                return Err(TensorError::DType { op, expected: first.dtype(), got: t.dtype() });
            }
            let agree = t.rank() == first.rank() && (0..t.rank()).all(|d| d == a || t.shape[d] == first.shape[d]);
            if !agree {
                let why = format!("all extents but axis {a} must match");
                return Err(TensorError::Incompatible { op, lhs: first.shape.clone(), rhs: t.shape.clone(), why });
            }
        }
        let mut shape = first.shape.clone();
        shape[a] = tensors.iter().map(|t| t.shape[a]).sum();
        let out = Tensor::empty(first.device(), &shape, first.dtype())?;
        // Whole contiguous blocks one after another are buffer copies, with no binding limit
        // (`predict` stacks its batches' outputs this way, however large the result).
        if a == 0 && out.copy_rows_from(tensors) {
            return Ok(out);
        }
        let mut at = 0;
        for t in tensors {
            out.slice(a as isize, at, at + t.shape[a], 1)?.assign(t)?;
            at += t.shape[a];
        }
        Ok(out)
    }

    /// Constant padding: `pads[d] = (before, after)` elements added on dimension d (one pair per
    /// dimension). `value` is converted to the dtype like [`cast`](Self::cast).
    pub fn pad(&self, pads: &[(usize, usize)], value: f32) -> Result<Tensor> {
        let op = "pad";
        if pads.len() != self.rank() {
            let (n, r) = (pads.len(), self.rank());
            let why = format!("{n} (before, after) pairs for the {r} dimensions of {:?}", self.shape);
            return Err(TensorError::Argument { op, why });
        }
        let shape: Vec<usize> = self.shape.iter().zip(pads).map(|(&e, &(b, f))| e + b + f).collect();
        let (dev, dt) = (self.device(), self.dtype());
        let out = if dt == DType::F32 {
            Tensor::full(dev, &shape, value)?
        } else if value == 0.0 {
            Tensor::zeros(dev, &shape, dt)?
        } else {
            Tensor::full(dev, &shape, value)?.cast(dt)?
        };
        let mut inner = out.clone();
        for (d, (&e, &(b, _))) in self.shape.iter().zip(pads).enumerate() {
            inner = inner.slice(d as isize, b, b + e, 1)?;
        }
        inner.assign(self)?;
        Ok(out)
    }
}
