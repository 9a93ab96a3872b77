#!/usr/bin/env bash
# The README's test command: runs every test of the workspace on a Vulkan adapter (installing
# lavapipe first when there is no Vulkan driver).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/vulkan.sh

# Tests pick a Vulkan adapter (a GPU if one exists, else lavapipe), never the GL fallback.
export WGTRAIN_ADAPTER="${WGTRAIN_ADAPTER:-vulkan}"
cargo test --workspace "$@"
# Benchmarks and examples are compiled, not run (they take minutes on a software adapter).
cargo bench --workspace --no-run
cargo build --release --workspace --examples
