//! Pooling. Max pooling keeps the index of each window's maximum (ties: the first), so its
//! backward is a gather with no atomics.

use wgtrain_tensor::Pool2dOptions;

use crate::error::Result;
use crate::node::record;
use crate::var::Var;

fn dims4(s: &[usize]) -> [usize; 4] {
    [s[0], s[1], s[2], s[3]]
}

impl Var {
    /// Max pooling over `[n, c, h, w]`; the whole gradient of a window goes to its maximum.
    pub fn max_pool2d(&self, o: &Pool2dOptions) -> Result<Var> {
        let out = self.data().max_pool2d(o)?;
        let shape = dims4(self.shape());
        let o = *o;
        Ok(record("max_pool2d", out.y, &[self], vec![out.indices], move |c| {
            Ok(vec![Some(c.grad.max_pool2d_backward(&c.saved[0], shape, &o)?)])
        }))
    }

    /// Average pooling over `[n, c, h, w]` (padding counts toward the window, as PyTorch's
    /// default `count_include_pad`); each input gets the window gradient over its size.
    pub fn avg_pool2d(&self, o: &Pool2dOptions) -> Result<Var> {
        let y = self.data().avg_pool2d(o)?;
        let shape = dims4(self.shape());
        let o = *o;
        Ok(record("avg_pool2d", y, &[self], vec![], move |c| Ok(vec![Some(c.grad.avg_pool2d_backward(shape, &o)?)])))
    }

    /// The mean of each `[h, w]` plane: `[n, c, h, w]` to `[n, c]`.
    pub fn global_avg_pool2d(&self) -> Result<Var> {
        let y = self.data().global_avg_pool2d()?;
        let shape = dims4(self.shape());
        Ok(record("global_avg_pool2d", y, &[self], vec![], move |c| {
            Ok(vec![Some(c.grad.global_avg_pool2d_backward(shape)?)])
        }))
    }
}
