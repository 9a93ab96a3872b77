#!/usr/bin/env bash
# Measures a peer framework, Burn 0.22.1 on its wgpu backend (autotune and fusion on), on this
# machine's adapter, on the workloads of `shared/PEERS.md`: one JSON line per workload, fields as
# there. Run it beside wgtrain's own reports to compare on the same CPU:
#   cargo run --release -p wgtrain-tensor --example kernel_report
#   cargo run --release -p wgtrain --example train_report
# The software adapter's speed differs several-fold between machines (AVX-512, AVX2 and Zen 1's
# 128-bit units), so only figures measured on one machine compare.
#
# The first build takes 15 (Zen 4) to 27 (Zen 1) minutes on 2 cores; the first run autotunes Burn's kernels
# (minutes) and caches the choice, so it warms up before timing and a second run is faster.
# Arguments pick workloads: matmul, conv, cnn, mlp (default all).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/vulkan.sh
exec cargo run --release --manifest-path peers/burn/Cargo.toml -- "$@"
