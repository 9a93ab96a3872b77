//! The MPI transport (feature `distributed`): rsmpi over the system's MPI (Open MPI on Debian).
//!
//! Sums are a reduce to rank 0 and a broadcast, not `MPI_Allreduce`: an all-reduce may add in a
//! different order on different ranks (recursive doubling does), and the replicas must stay
//! bit-identical. Every call takes one lock, so the collectives of one process never overlap
//! (MPI is initialised for serialized calls from any thread: tests run on worker threads).

use std::sync::Mutex;

use mpi::Threading;
use mpi::collective::{CommunicatorCollectives, Root, SystemOperation};
use mpi::datatype::Equivalence;
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};

use super::collective::Collective;
use crate::error::{Result, TrainError};

/// The MPI world of this process, and its machine-local communicator.
pub(crate) struct MpiWorld {
    /// Dropping it finalizes MPI: kept for the process's life with the world.
    _universe: Universe,
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
    local_rank: usize,
    library: String,
    lock: Mutex<()>,
}

// SAFETY: MPI is initialised with MPI_THREAD_SERIALIZED (checked in `init`), which allows calls
// from any thread one at a time; every call goes through `lock`. rsmpi's handles are plain
// MPI handles, valid in every thread of the process.
unsafe impl Send for MpiWorld {}
unsafe impl Sync for MpiWorld {}

impl MpiWorld {
    /// Initialises MPI (once per process): the world of `mpirun`, or of one process without it.
    pub(crate) fn init() -> Result<MpiWorld> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized).ok_or_else(|| {
            TrainError::config("Distributed::init", "MPI is already initialised in this process (init it once)")
        })?;
        if threading < Threading::Serialized {
            let why = format!("this MPI offers {threading:?} threading; wgtrain needs Serialized");
            return Err(TrainError::config("Distributed::init", why));
        }
        let world = universe.world();
        let local_rank = world.split_shared(world.rank()).rank() as usize;
        let library = mpi::environment::library_version()
            .map(|v| v.split([',', '\n', '\0']).next().unwrap_or_default().trim().to_string())
            .unwrap_or_else(|_| "MPI".into());
        Ok(MpiWorld {
            rank: world.rank() as usize,
            size: world.size() as usize,
            local_rank,
            library,
            world,
            _universe: universe,
            lock: Mutex::new(()),
        })
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The element-wise sum over ranks, on every rank: reduced on rank 0, then broadcast.
    fn sum<T: Equivalence + Copy>(&self, data: &mut [T]) {
        let _g = self.guard();
        let root = self.world.process_at_rank(0);
        if self.rank == 0 {
            let mine = data.to_vec();
            root.reduce_into_root(&mine[..], data, SystemOperation::sum());
        } else {
            root.reduce_into(&data[..], SystemOperation::sum());
        }
        root.broadcast_into(data);
    }
}

impl Collective for MpiWorld {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn local_rank(&self) -> usize {
        self.local_rank
    }
    fn describe(&self) -> String {
        self.library.clone()
    }
    fn sum_f32(&self, data: &mut [f32]) {
        self.sum(data)
    }
    fn sum_f64(&self, data: &mut [f64]) {
        self.sum(data)
    }
    fn min_u64(&self, value: u64) -> u64 {
        let _g = self.guard();
        let mut out = value;
        self.world.all_reduce_into(&value, &mut out, SystemOperation::min());
        out
    }
    fn broadcast(&self, root: usize, data: &mut Vec<u8>) {
        let _g = self.guard();
        let root = self.world.process_at_rank(root as i32);
        let mut len = data.len() as u64;
        root.broadcast_into(&mut len);
        data.resize(len as usize, 0);
        if len > 0 {
            root.broadcast_into(&mut data[..]);
        }
    }
    fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}
