#!/usr/bin/env bash
# The README's main command: trains the CIFAR-10 classifier (examples/cifar10.rs) on the best
# adapter (installing lavapipe first when there is no Vulkan driver).
#
# It uses the real CIFAR-10 data when it is in data/cifar10 or can be downloaded; otherwise it
# says so and trains on 2,000 synthetic CIFAR-format images (a pipeline demo). A download that
# stalls fails after 60 s (--download-timeout); --data-url URL or WGTRAIN_CIFAR10_URL names a
# mirror. Flags after the script's name override the defaults below; `--help` lists them all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/vulkan.sh
exec cargo run --release -p wgtrain --example cifar10 -- --or-synthetic 2000 --epochs 3 "$@"
