//! Indexing: gather and embedding lookups. Their gradients are deterministic scatter-adds (the
//! foundation's gather/embedding backward kernels), no atomics.

use wgtrain_tensor::Tensor;

use crate::error::Result;
use crate::node::record;
use crate::var::Var;

impl Var {
    /// `torch.gather` along `axis` with a u32/i32 `index` (no gradient for the index).
    pub fn gather(&self, axis: isize, index: &Tensor) -> Result<Var> {
        let y = self.data().gather(axis, index)?;
        let shape = self.shape().to_vec();
        Ok(record("gather", y, &[self], vec![index.clone()], move |c| {
            Ok(vec![Some(Tensor::gather_backward(c.grad, axis, &c.saved[0], &shape)?)])
        }))
    }

    /// Rows of `table` `[vocab, dim]` (self) picked by integer `ids` of any shape: output
    /// `[ids..., dim]`. d/dtable: each id's row gets the sum of its positions' gradients.
    pub fn embedding(&self, ids: &Tensor) -> Result<Var> {
        let y = Tensor::embedding(ids, self.data())?;
        let vocab = self.shape()[0];
        Ok(record("embedding", y, &[self], vec![ids.clone()], move |c| {
            Ok(vec![Some(Tensor::embedding_backward(&c.saved[0], c.grad, vocab)?)])
        }))
    }
}
