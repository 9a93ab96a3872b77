#!/usr/bin/env bash
# The one-shot GPU report: on whatever adapter wgtrain picks (a real GPU when there is one), run
# the GPU-vs-twin tests, `kernel_report`, `train_report` and 2 epochs of the CIFAR-10 trainer on
# synthetic data, then print one JSON summary (adapter, driver, strategy, whether f16 matmuls
# ran on cooperative matrices, GFLOP/s, images/s, first-call times, epoch times, test counts)
# and write it to a file. Under 8 minutes on an H100.
#
#   bash scripts/gpu_report.sh [--strategy gpu|cpu-textures|cpu-windows] [--quick]
#                              [--bin DIR] [--out DIR]
#   bash scripts/gpu_report.sh --package DIR     # build here, copy the stripped binaries to DIR
#
# --strategy forces an execution strategy (on lavapipe, `--strategy gpu` proves the script and
#   runs the path real GPUs take); the default is the adapter's own.
# --quick    fewer repetitions and a smaller trainer run (a software adapter takes minutes).
# --bin DIR  use binaries made by --package (for a machine without a Rust toolchain: the device
#   machines have none); otherwise they are built here with cargo, in release.
# --out DIR  where the logs and `gpu_report.json` go (default runs/gpu_report): six files (seven where the f16 matmuls ran on cooperative matrices: their tiled rows too).
#
# On the device tool's GPU machine (no cargo there; both machines are x86-64): here, run
# `bash scripts/gpu_report.sh --package .gpu-bin` and fetch the Vulkan loader into `.gl` as the
# tool's README says; then run, carrying `.gl` and `.gpu-bin`:
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; bash scripts/gpu_report.sh --bin .gpu-bin --out $OUT
set -uo pipefail
cd "$(dirname "$0")/.."

strategy="" quick=0 bin="" out="runs/gpu_report" package=""
while [ $# -gt 0 ]; do
    case "$1" in
        --strategy) strategy="$2"; shift 2 ;;
        --quick) quick=1; shift ;;
        --bin) bin="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --package) package="$2"; shift 2 ;;
        *) echo "gpu_report: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done

# The binaries the report runs, by role.
build() {
    cargo build --release -q -p wgtrain --example train_report --example cifar10 >&2 || return 1
    cargo build --release -q -p wgtrain-tensor --example kernel_report >&2 || return 1
    local tests
    tests=$(cargo test --release -p wgtrain-tensor --test gpu --no-run 2>&1 | grep -o 'target/release/deps/gpu-[0-9a-f]*' | head -n 1)
    [ -n "$tests" ] || { echo "gpu_report: the GPU test binary was not built" >&2; return 1; }
    BIN_TESTS="$tests"
    BIN_KERNEL=target/release/examples/kernel_report
    BIN_TRAIN=target/release/examples/train_report
    BIN_CIFAR=target/release/examples/cifar10
}

if [ -n "$package" ]; then
    build || exit 1
    mkdir -p "$package"
    for pair in "gpu_tests:$BIN_TESTS" "kernel_report:$BIN_KERNEL" "train_report:$BIN_TRAIN" "cifar10:$BIN_CIFAR"; do
        cp "${pair#*:}" "$package/${pair%%:*}" && strip "$package/${pair%%:*}"
    done
    du -sh "$package"
    exit 0
fi

if [ -n "$bin" ]; then
    BIN_TESTS="$bin/gpu_tests" BIN_KERNEL="$bin/kernel_report" BIN_TRAIN="$bin/train_report" BIN_CIFAR="$bin/cifar10"
else
    source scripts/vulkan.sh
    build || exit 1
fi

# A driver outside the loader's standard folders (the NVIDIA device machines mount theirs).
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ]; then
    export VK_DRIVER_FILES="$nvidia_icd"
fi
export WGTRAIN_ADAPTER="${WGTRAIN_ADAPTER:-vulkan}"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then export NODEVICE_SELECT="${NODEVICE_SELECT:-1}"; fi
case "$strategy" in
    "") ;;
    gpu|cpu-textures|cpu-windows) export WGTRAIN_STRATEGY="$strategy" ;;
    *) echo "gpu_report: --strategy is gpu, cpu-textures or cpu-windows" >&2; exit 2 ;;
esac

mkdir -p "$out"
quick_flag=() synthetic=10000
if [ "$quick" = 1 ]; then quick_flag=(--quick); synthetic=1000; fi

# step NAME COMMAND...: runs one part with its output in $out/NAME.log and its wall time.
step() {
    local name="$1"; shift
    echo "== $name: $*" >&2
    local t0=$SECONDS
    "$@" >"$out/$name.log" 2>&1
    local rc=$?
    echo "$name $rc $((SECONDS - t0))" >>"$out/steps.txt"
    echo "   rc $rc, $((SECONDS - t0)) s" >&2
}
: >"$out/steps.txt"
start=$SECONDS
step tests "$BIN_TESTS"
step kernel_report "$BIN_KERNEL" "${quick_flag[@]}"
# Where the f16 matmuls ran on cooperative matrices (tensor cores), the same rows on the tiled
# GEMM, for the comparison.
if grep -q '^cooperative matrices: on' "$out/kernel_report.log"; then
    step kernel_report_tiled env WGTRAIN_COOP=0 "$BIN_KERNEL" --quick
fi
step train_report "$BIN_TRAIN" "${quick_flag[@]}"
# The trainer's checkpoints and charts go to a scratch folder: $out holds only the report's
# few files (the device tool brings back at most 8).
trainer_out=$(mktemp -d)
step cifar10 "$BIN_CIFAR" --synthetic "$synthetic" --epochs 2 --out "$trainer_out/run" --data "$trainer_out/no-data"
rm -rf "$trainer_out"
total=$((SECONDS - start))

python3 - "$out" "$total" "$strategy" <<'PY'
import json, re, sys, pathlib
out, total, forced = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def log(name):
    p = out / f"{name}.log"
    return p.read_text(errors="replace") if p.exists() else ""
def rows(text):
    got = []
    for line in text.splitlines():
        if line.startswith("{") and line.endswith("}"):
            try:
                got.append(json.loads(line))
            except ValueError:
                pass
    return got
steps = {}
for line in (out / "steps.txt").read_text().splitlines():
    name, rc, secs = line.split()
    steps[name] = {"exit_status": int(rc), "seconds": int(secs)}
tests = log("tests")
passed = sum(int(m) for m in re.findall(r"(\d+) passed", tests))
failed = sum(int(m) for m in re.findall(r"(\d+) failed", tests))
kernel = log("kernel_report")
adapter = re.search(r"^(?:test )?adapter: (.*)$", kernel + tests, re.M)
path = re.search(r"^(?:strategy|gemm path): ([\w-]+)", kernel, re.M)
coop = re.search(r"^cooperative matrices: (.*)$", kernel, re.M)
cifar = log("cifar10")
epochs = [float(s) for s in re.findall(r"^Epoch \d+/\d+ - ([\d.]+)s", cifar, re.M)]
rate = re.search(r"trained \d+ epochs in [\d.]+s: ([\d.]+) images/s", cifar)
# AdapterSummary's Display: "name (backend, device type, driver)".
parts = re.match(r"^(.*) \((\w+), (\w+), (.*)\)$", adapter.group(1)) if adapter else None
summary = {
    "adapter": parts.group(1) if parts else (adapter.group(1) if adapter else None),
    "backend": parts.group(2) if parts else None,
    "device_type": parts.group(3) if parts else None,
    "driver": parts.group(4) if parts else None,
    "strategy": path.group(1) if path else None,
    "strategy_forced": forced or None,
    "cooperative_matrices": coop.group(1) if coop else None,
    "tests": {"passed": passed, "failed": failed},
    "kernels": rows(kernel),
    "kernels_without_cooperative_matrices": rows(log("kernel_report_tiled")),
    "training": rows(log("train_report")),
    "cifar10": {"epoch_seconds": epochs, "images_per_s": float(rate.group(1)) if rate else None},
    "steps": steps,
    "total_seconds": total,
}
text = json.dumps(summary, indent=1)
(out / "gpu_report.json").write_text(text + "\n")
print(text)
PY
echo "summary: $out/gpu_report.json; logs: $out/*.log" >&2
# The report fails when any part did.
! grep -qv ' 0 [0-9]*$' "$out/steps.txt"
