#!/usr/bin/env bash
# Sourced by the README's test command (and scripts/cifar10_distributed.sh): makes sure MPI is
# there for the `distributed` feature. wgtrain's data parallelism runs on MPI through the `mpi`
# crate, which binds to the system's MPI when it builds (mpicc, and libclang for its bindings):
# this installs Debian's Open MPI and libclang when either is missing. Nothing else needs MPI.

has_mpi() {
    command -v mpirun >/dev/null && command -v mpicc >/dev/null && compgen -G "/usr/lib/llvm-*/lib/libclang.so*" >/dev/null
}

if ! has_mpi; then
    echo "MPI not found: installing Open MPI and libclang (openmpi-bin libopenmpi-dev libclang-dev) for the distributed tests."
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openmpi-bin libopenmpi-dev libclang-dev >/dev/null
fi
