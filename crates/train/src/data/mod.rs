//! The data pipeline: datasets, a loader that batches and shuffles them from a seed on
//! background worker threads (so the GPU does not wait on the host), and batch transforms that
//! run as GPU kernels (augmentation).

pub mod cifar10;
mod dataset;
pub mod download;
pub mod extract;
mod loader;

pub use cifar10::{Cifar10, Split};
pub use dataset::{Dataset, Example, InMemory, Label};
pub use loader::{Batch, BatchIter, DataLoader};
