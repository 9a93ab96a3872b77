#!/usr/bin/env python3
# Reads wgtrain's TensorBoard event files with the real reader of the `tensorboard` Python
# package (pip install tensorboard): every record through EventFileLoader (TFRecord framing,
# whose length and data CRC-32Cs its reader checks, raising DataLossError on a mismatch),
# then the EventAccumulator that `tensorboard --logdir` uses, which must list wgtrain's scalars
# (loss, metrics, learning rate) and histograms (weights, gradient norm) with their values.
# Usage: python3 scripts/tensorboard_check.py runs/cifar10/tensorboard
# (the CI test `crates/train` parses the same files with its own CRC-checking reader; this is
# the cross-check against TensorBoard itself, outside CI because it needs the package.)
import glob
import os
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

root = sys.argv[1] if len(sys.argv) > 1 else "runs/cifar10/tensorboard"
files = sorted(glob.glob(os.path.join(root, "**", "events.out.tfevents.*"), recursive=True))
if not files:
    sys.exit(f"no event files under {root}")
for path in files:
    events = list(EventFileLoader(path).Load())
    tags = sorted({v.tag for e in events for v in e.summary.value})
    print(f"{path}: {len(events)} events, tags {tags}")
ok = True
for run in sorted({os.path.dirname(f) for f in files}):
    acc = event_accumulator.EventAccumulator(run, size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    print(f"{run}: scalars {tags['scalars']}, {len(tags['histograms'])} histograms")
    for tag in tags["scalars"]:
        print(f"  {tag}: {[(s.step, round(s.value, 4)) for s in acc.Scalars(tag)]}")
    ok &= bool(tags["scalars"])
sys.exit(0 if ok else "a run has no scalars TensorBoard can read")
