//! The data pipeline: loader order and threading, the CIFAR-10 reader, and the download path
//! against a local HTTP server serving an archive the test builds.

mod data {
    mod cifar10;
    mod loader;
    mod trainer;
}
