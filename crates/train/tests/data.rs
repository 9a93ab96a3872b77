//! The data pipeline: loader order and threading, the CIFAR-10 reader, extraction, and the
//! download path against a local HTTP server.

mod data {
    mod cifar10;
    mod download;
    mod extract;
    mod loader;
    pub mod support;
    mod trainer;
}
