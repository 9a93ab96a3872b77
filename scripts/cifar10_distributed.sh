#!/usr/bin/env bash
# The CIFAR-10 trainer, data-parallel on MPI: one process per GPU of this machine (or N), each
# on the adapter of its local rank. Builds the trainer with the `distributed` feature (installing
# Open MPI first when it is missing) and runs it under mpirun; the trainer's flags follow.
#
#   bash scripts/cifar10_distributed.sh [-n N] [--hostfile FILE] [trainer flags...]
#   bash scripts/cifar10_distributed.sh -n 2 --synthetic 2000 --epochs 3
#
# -n N            processes (default: the GPUs `nvidia-smi -L` lists, else 2).
# --hostfile FILE several machines: an Open MPI hostfile ("node1 slots=8" per line); the same
#                 binary path and data must exist on every machine.
# --batch-size is the global batch: each process takes batch/N of it (N must divide it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/vulkan.sh
source scripts/mpi.sh

n="" hostfile=()
while [ $# -gt 0 ]; do
    case "$1" in
        -n) n="$2"; shift 2 ;;
        --hostfile) hostfile=(--hostfile "$2"); shift 2 ;;
        *) break ;;
    esac
done
if [ -z "$n" ]; then
    n=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
    [ "$n" -gt 0 ] 2>/dev/null || n=2
fi
cargo build --release -q -p wgtrain --features distributed --example cifar10
export WGTRAIN_ADAPTER="${WGTRAIN_ADAPTER:-vulkan}"
# Running as root (containers) needs --allow-run-as-root; more processes than cores on one
# machine (lavapipe) needs --oversubscribe.
root=()
if [ "$(id -u)" -eq 0 ]; then root=(--allow-run-as-root); fi
exec mpirun "${root[@]}" --oversubscribe "${hostfile[@]}" -np "$n" -x WGTRAIN_ADAPTER -x NODEVICE_SELECT \
    target/release/examples/cifar10 --distributed "$@"
