//! The gradient all-reduce: every rank's gradients, weighted by its share of the global batch,
//! summed over ranks, so each replica steps with the gradient of the global batch's mean loss.
//!
//! Gradients travel in buckets of about [`BUCKET_BYTES`], in reverse parameter order (the order
//! backward finishes them, so a later version can send a bucket while backward still runs).
//! Per bucket: one device concatenation and one read-back, the weighting on the host, one sum
//! over ranks, and an upload per parameter (an upload is a queue write, not a kernel).

use std::time::{Duration, Instant};

use wgtrain_tensor::{DType, Tensor};

use super::collective::Collective;
use crate::error::{Result, TrainError};
use crate::param::Param;

/// The size a bucket fills up to before it is sent (a parameter larger than this goes alone).
pub const BUCKET_BYTES: usize = 4 << 20;

/// Where one all-reduce spent its time, and what it moved.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CommStats {
    /// Waiting for the device to finish backward (compute, not communication: measured apart
    /// so that `read_back` is the copy alone).
    pub backward_wait: Duration,
    /// Reading the gradients back to the host.
    pub read_back: Duration,
    /// The sum over ranks.
    pub all_reduce: Duration,
    /// Writing the summed gradients back to the device.
    pub write_back: Duration,
    /// Gradient bytes this rank sent into the sum.
    pub bytes: u64,
    /// Buckets sent.
    pub buckets: usize,
}

impl std::ops::AddAssign for CommStats {
    fn add_assign(&mut self, o: CommStats) {
        self.backward_wait += o.backward_wait;
        self.read_back += o.read_back;
        self.all_reduce += o.all_reduce;
        self.write_back += o.write_back;
        self.bytes += o.bytes;
        self.buckets += o.buckets;
    }
}

/// Replaces the gradient of every trainable parameter with the sum over ranks of `weight` x
/// each rank's gradient (a parameter with no gradient on a rank counts as zeros there; one
/// with a gradient on no rank keeps none, so the optimizer leaves it alone as one process
/// would). Every rank must call it with the same parameters, in the same order.
pub(crate) fn all_reduce(comm: &dyn Collective, params: &[Param], weight: f32) -> Result<CommStats> {
    let mut stats = CommStats::default();
    if comm.size() == 1 && weight == 1.0 {
        // A world of one: the gradients are the sum already.
        return Ok(stats);
    }
    let trainable: Vec<&Param> = params.iter().filter(|p| p.var.requires_grad()).collect();
    if let Some(p) = trainable.first() {
        let t0 = Instant::now();
        p.var.device().synchronize()?;
        stats.backward_wait = t0.elapsed();
    }
    for bucket in buckets(&trainable) {
        stats += all_reduce_bucket(comm, bucket, weight)?;
    }
    Ok(stats)
}

/// The parameters in reverse order, cut into runs of at most [`BUCKET_BYTES`] (or one
/// parameter).
fn buckets<'a>(params: &[&'a Param]) -> Vec<Vec<&'a Param>> {
    let mut out: Vec<Vec<&Param>> = Vec::new();
    let mut bytes = 0;
    for p in params.iter().rev() {
        let size = p.var.len() * 4;
        match out.last_mut() {
            Some(bucket) if bytes + size <= BUCKET_BYTES => bucket.push(p),
            _ => {
                out.push(vec![p]);
                bytes = 0;
            }
        }
        bytes += size;
    }
    out
}

fn all_reduce_bucket(comm: &dyn Collective, bucket: Vec<&Param>, weight: f32) -> Result<CommStats> {
    let t0 = Instant::now();
    let dev = bucket[0].var.device().clone();
    let mut flat = Vec::with_capacity(bucket.len());
    for p in &bucket {
        if p.var.dtype() != DType::F32 {
            let why = format!("{} is {:?}: only f32 parameters are all-reduced", p.name, p.var.dtype());
            return Err(TrainError::config("distributed", why));
        }
        let grad = match p.var.grad() {
            Some(g) => g.reshape(&[p.var.len()])?,
            None => Tensor::zeros(&dev, &[p.var.len()], DType::F32)?,
        };
        flat.push(grad);
    }
    let refs: Vec<&Tensor> = flat.iter().collect();
    let mut host = Tensor::concat(&refs, 0)?.to_vec::<f32>()?;
    let t1 = Instant::now();
    host.iter_mut().for_each(|g| *g *= weight);
    let values = host.len();
    // One more value per parameter: how many ranks had a gradient for it.
    host.extend(bucket.iter().map(|p| if p.var.grad().is_some() { 1.0 } else { 0.0 }));
    comm.sum_f32(&mut host);
    let t2 = Instant::now();
    let (sums, had) = host.split_at(values);
    let mut at = 0;
    for (p, &had) in bucket.iter().zip(had) {
        let n = p.var.len();
        let grad = if had > 0.0 { Some(Tensor::from_slice(&dev, &sums[at..at + n], p.var.shape())?) } else { None };
        p.var.set_grad(grad)?;
        at += n;
    }
    let t3 = Instant::now();
    Ok(CommStats {
        read_back: t1 - t0,
        all_reduce: t2 - t1,
        write_back: t3 - t2,
        bytes: values as u64 * 4,
        buckets: 1,
        ..CommStats::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wgtrain_autograd::Var;
    use wgtrain_tensor::Device;

    #[test]
    fn buckets_go_in_reverse_order_and_hold_at_most_their_size() {
        let Ok(dev) = Device::new() else { return };
        let p = |name: &str, n: usize| Param::new(name, Var::parameter(Tensor::zeros(&dev, &[n], DType::F32).unwrap()));
        let params = [p("a", 10), p("b", BUCKET_BYTES / 4), p("c", 3), p("d", 5)];
        let refs: Vec<&Param> = params.iter().collect();
        let names: Vec<Vec<&str>> =
            buckets(&refs).iter().map(|b| b.iter().map(|p| p.name.as_str()).collect()).collect();
        assert_eq!(names, [vec!["d", "c"], vec!["b"], vec!["a"]]);
    }
}
