#!/usr/bin/env bash
# The README's test command: runs every test of the workspace on a Vulkan adapter (installing
# lavapipe first when there is no Vulkan driver, and Open MPI for the distributed tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/vulkan.sh

# Tests pick a Vulkan adapter (a GPU if one exists, else lavapipe), never the GL fallback.
export WGTRAIN_ADAPTER="${WGTRAIN_ADAPTER:-vulkan}"
cargo test --workspace "$@"
# The GPU-vs-twin suite again under each execution path the adapter does not take by default
# (lavapipe takes cpu-textures), so the path real GPUs take (gpu) and the uniform windows
# are checked for every op family on every push: about 35 s (issue 21, item 4).
for path in gpu cpu-windows; do
    echo "== GPU-vs-twin suite, WGTRAIN_STRATEGY=$path"
    WGTRAIN_STRATEGY=$path cargo test -q -p wgtrain-tensor --test gpu "$@"
done
# Data parallelism on MPI (feature `distributed`): mpirun -np 2 on the one adapter, against
# one process, and the bad setups (about 3 minutes, most of it building the feature).
source scripts/mpi.sh
cargo test -p wgtrain --features distributed --test distributed "$@"
# The API docs build without a broken link.
RUSTDOCFLAGS="-D warnings" cargo doc -q --workspace --no-deps
# Benchmarks and the report examples are compiled, not run (they take minutes on a software
# adapter); the CIFAR-10 trainer has its smoke test among the tests.
cargo bench --workspace --no-run
cargo build --release --workspace --examples
# The curriculum examples run end to end and each fails unless it reaches what it states
# (examples/expect.rs; about 3.5 minutes on lavapipe, 2 cores).
for example in binary_classification regression_outliers compare_optimizers compare_activations lstm_sequence \
    autoencoder gan transfer_learning text_sequences; do
    echo "== example $example"
    cargo run --release -q -p wgtrain --example "$example" 2>&1 | tail -n 6
done
