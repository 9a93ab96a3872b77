//! The data pipeline: loader order and threading, the CIFAR-10 reader, extraction, the download
//! path against a local HTTP server, the CIFAR-10 trainer's flags, and a bad-input suite.

mod data {
    /// The CIFAR-10 trainer (`examples/cifar10.rs`) as a module: the tests parse its flags and
    /// call its `run` (examples are not libraries, and an example binary is not built for
    /// `cargo test --test data`).
    #[allow(dead_code)]
    #[path = "../../../../examples/cifar10.rs"]
    pub mod trainer_bin;

    mod bad_input;
    mod cifar10;
    mod download;
    mod extract;
    mod loader;
    pub mod support;
    mod trainer;
    mod users_data;
}
