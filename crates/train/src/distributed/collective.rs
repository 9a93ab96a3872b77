//! The collectives data parallelism needs, on host buffers: what a transport must provide.
//! MPI provides them under the `distributed` feature (`mpi_world.rs`); [`Solo`] is the world
//! of one, where each is the identity.

/// Blocking collectives over a fixed group of processes, each called by every process in the
/// same order (as MPI requires). Results are identical on every rank: a transport whose
/// reduction could round differently on different ranks must reduce on one rank and broadcast
/// (`mpi_world.rs` does), or the replicas' weights would drift apart bit by bit.
pub trait Collective: Send + Sync {
    /// This process's rank, `0..size`.
    fn rank(&self) -> usize;
    /// The number of processes.
    fn size(&self) -> usize;
    /// This process's rank among those on its machine (which GPU it takes).
    fn local_rank(&self) -> usize;
    /// The transport, for logs (`"Open MPI v4.1.4"`).
    fn describe(&self) -> String;
    /// Replaces `data` on every rank with the element-wise sum over ranks.
    fn sum_f32(&self, data: &mut [f32]);
    /// [`Collective::sum_f32`] in f64 (the logs' sums and counts).
    fn sum_f64(&self, data: &mut [f64]);
    /// The smallest of every rank's `value`.
    fn min_u64(&self, value: u64) -> u64;
    /// Replaces `data` on every rank with `root`'s (its length included).
    fn broadcast(&self, root: usize, data: &mut Vec<u8>);
    /// Ends every process of the group with `code` (MPI's abort): what a rank does when it
    /// fails alone, so that the others, waiting in a collective, do not hang.
    fn abort(&self, code: i32) -> !;
}

/// The world of one: a process training alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct Solo;

impl Collective for Solo {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn local_rank(&self) -> usize {
        0
    }
    fn describe(&self) -> String {
        "a world of one".into()
    }
    fn sum_f32(&self, _: &mut [f32]) {}
    fn sum_f64(&self, _: &mut [f64]) {}
    fn min_u64(&self, value: u64) -> u64 {
        value
    }
    fn broadcast(&self, _: usize, _: &mut Vec<u8>) {}
    fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}
