//! Data-parallel training, the Horovod model: one process per GPU, each with a whole replica
//! of the model; every global batch split into contiguous shards, one per process; the
//! gradients summed over processes before each optimizer step, so every replica takes the same
//! step and the run learns what one process with the whole batch would.
//!
//! The transport is MPI (feature `distributed`): `Distributed::init` reads the rank, the
//! number of processes and the machine-local rank from `mpirun`, and a process started without
//! it is a world of one. [`Model::distribute`](crate::models::Model::distribute) makes the
//! replicas one model (the same architecture, checked; rank 0's weights, optimizer state and
//! seed), after which `fit` and `fit_loader` train data-parallel; custom loops sum their
//! gradients with [`Distributed::all_reduce_grads`] or wrap their optimizer in a
//! [`DistributedOptimizer`].
//!
//! What a run sees does not depend on how many processes run it: the sample order and the
//! augmentation and dropout draws are those of one process with the whole batch (each rank's
//! shard draws dropout from its rows' place in the batch). Two exceptions: batch norm keeps
//! per-rank statistics, as Horovod and PyTorch's DDP do (each epoch's logs, validation
//! included, are rank 0's, so callbacks decide alike everywhere); and a last batch with fewer
//! samples than processes is skipped. Only rank 0 prints, logs and writes files. An error that
//! may be one process's alone ends every process (MPI's abort) rather than leave them waiting.

mod agreement;
mod collective;
mod gradients;
#[cfg(feature = "distributed")]
mod mpi_world;
mod optimizer;
mod replicate;
mod shard;

use std::sync::Arc;

pub(crate) use agreement::{all, rank0_logs, rank0_says};
pub use collective::{Collective, Solo};
pub use gradients::{BUCKET_BYTES, CommStats};
pub use optimizer::DistributedOptimizer;
pub(crate) use replicate::{agree, broadcast_state, replicable};
pub(crate) use shard::shard;

use wgtrain_tensor::{AdapterChoice, Device, DeviceOptions};

use crate::error::{Result, TrainError};
use crate::param::Param;

/// A handle to the group of processes training together (clones share it).
#[derive(Clone)]
pub struct Distributed {
    comm: Arc<dyn Collective>,
}

impl std::fmt::Debug for Distributed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Distributed(rank {} of {}, {})", self.rank(), self.size(), self.comm.describe())
    }
}

impl Distributed {
    /// Joins the MPI world `mpirun` started this process in (a world of one without `mpirun`).
    /// MPI can be initialised once per process; a second call fails.
    #[cfg(feature = "distributed")]
    pub fn init() -> Result<Distributed> {
        Ok(Distributed::over(mpi_world::MpiWorld::init()?))
    }
    /// A world of one (what a run without a transport is).
    pub fn solo() -> Distributed {
        Distributed::over(Solo)
    }
    /// A group over another transport.
    pub fn over(comm: impl Collective + 'static) -> Distributed {
        Distributed { comm: Arc::new(comm) }
    }
    /// This process's rank, `0..size`.
    pub fn rank(&self) -> usize {
        self.comm.rank()
    }
    /// The number of processes.
    pub fn size(&self) -> usize {
        self.comm.size()
    }
    /// This process's rank among those on its machine.
    pub fn local_rank(&self) -> usize {
        self.comm.local_rank()
    }
    /// Whether this is rank 0, the one that prints, logs and writes files.
    pub fn is_chief(&self) -> bool {
        self.rank() == 0
    }
    /// The transport (`"Open MPI v4.1.4"`, or "a world of one").
    pub fn transport(&self) -> String {
        self.comm.describe()
    }
    /// The collectives, for what this module does not wrap.
    pub fn collective(&self) -> &dyn Collective {
        self.comm.as_ref()
    }
    /// The adapter this process should open: the one of its local rank among the best (see
    /// [`AdapterChoice::LocalRank`]; `WGTRAIN_ADAPTER` narrows the list).
    pub fn adapter(&self) -> AdapterChoice {
        AdapterChoice::LocalRank(self.local_rank())
    }
    /// Opens this process's device ([`Distributed::adapter`]).
    pub fn device(&self) -> Result<Device> {
        Ok(Device::with_options(DeviceOptions { adapter: self.adapter(), ..Default::default() })?)
    }
    /// Checks that a global batch of `batch_size` splits evenly among the processes.
    pub fn check_batch(&self, op: &str, batch_size: usize) -> Result<()> {
        if !batch_size.is_multiple_of(self.size()) {
            let why = format!(
                "the global batch_size {batch_size} does not divide among {} processes: use a multiple of {}",
                self.size(),
                self.size()
            );
            return Err(TrainError::config(op, why));
        }
        Ok(())
    }
    /// Sums every trainable parameter's gradient over the processes and divides by their
    /// number (each process's gradient being of its own shard's mean loss, the result is that
    /// of the global batch when the shards are equal). For custom loops, between `backward` and
    /// the optimizer's step.
    pub fn all_reduce_grads(&self, params: &[Param]) -> Result<CommStats> {
        gradients::all_reduce(self.collective(), params, 1.0 / self.size() as f32)
    }
    /// [`Distributed::all_reduce_grads`] with this process's gradient weighted by `weight`
    /// (its share of the global batch, when the shards differ).
    pub fn all_reduce_grads_weighted(&self, params: &[Param], weight: f32) -> Result<CommStats> {
        gradients::all_reduce(self.collective(), params, weight)
    }
    /// Ends every process with `code` (MPI's abort): for a process that fails alone, so that
    /// the others do not wait for it forever.
    pub fn abort(&self, code: i32) -> ! {
        self.comm.abort(code)
    }
}
