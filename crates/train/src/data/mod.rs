//! The data pipeline: datasets (CIFAR-10, the MNIST family's IDX files, a folder of your
//! pictures, a CSV file), a loader that batches and shuffles them from a seed on
//! background worker threads (so the GPU does not wait on the host), and batch transforms that
//! run as GPU kernels (augmentation).

pub mod cifar10;
mod csv_data;
mod dataset;
pub mod download;
pub mod extract;
pub mod idx;
mod image_folder;
mod images;
mod loader;

pub use cifar10::{Cifar10, Split};
pub use csv_data::{CsvData, CsvOptions, csv_dataset};
pub use dataset::{Dataset, Example, InMemory, Label};
pub use image_folder::{ImageFolderOptions, image_dataset_from_directory};
pub use images::Images;
pub use loader::{Batch, BatchIter, DataLoader};
