#!/usr/bin/env python3
"""A task check for `quanted verify --check` / `quanted tune --check`: do the quantized model's
detection confidences match float's?

    quanted verify MODEL_uint8.quantize --check "python3 examples/check_scores.py"
    quanted tune MODEL_uint8.quantize --check "python3 examples/check_scores.py --max-error 0.02"

quanted adds FLOAT_DIR and QUANT_DIR (see README "Detection models"). The score output (one
logit per anchor) is found by --output: the ONNX tensor's name (outputs.json's "source"), the
output layer id, or its file name. Its logits go through a sigmoid; an anchor is a detection
when its confidence is at least --threshold. The quantized run is acceptable when, on every
input, no confidence of an anchor that either run scores at or above --floor is off by more
than --max-error, and it detects the same anchors as float, except those whose float
confidence is within --max-error of the threshold (a tie either way). The last line is
`metric=<worst confidence error>`.

Exit 0 acceptable, 1 not, 2 when the check itself cannot run (a missing output, unreadable
folders): Python exits 1 on an uncaught error, which would read as "not acceptable".
Needs numpy only.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def find_output(described, name):
    for entry in described["outputs"]:
        if name in (entry["source"], entry["layer"], entry["file"], entry["tensor"]):
            return entry
    names = ", ".join(e["source"] or e["layer"] for e in described["outputs"])
    raise LookupError(f"no output named {name!r} (outputs: {names})")


def compare(float_dir, quant_dir, args):
    described = json.loads((float_dir / "outputs.json").read_text())
    entry = find_output(described, args.output)
    worst, failures = 0.0, []
    for i in range(described["inputs"]):
        f = sigmoid(np.load(float_dir / str(i) / f"{entry['file']}.npy").astype(np.float64))
        q = sigmoid(np.load(quant_dir / str(i) / f"{entry['file']}.npy").astype(np.float64))
        relevant = (f >= args.floor) | (q >= args.floor)
        error = float(np.max(np.abs(f - q)[relevant])) if relevant.any() else 0.0
        worst = max(worst, error)
        clear = np.abs(f - args.threshold) > args.max_error
        lost = int(np.sum((f >= args.threshold) & (q < args.threshold) & clear))
        added = int(np.sum((q >= args.threshold) & (f < args.threshold) & clear))
        if lost or added or error > args.max_error:
            line = described["dataset"][i] if i < len(described["dataset"]) else "?"
            failures.append(f"input {i} ({line}): {lost} detection(s) lost, {added} added, "
                            f"confidence error {error:.4f}")
    return worst, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default="scores", help="the score output (default: scores)")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--floor", type=float, default=0.05,
                        help="confidences below this in both runs are not compared")
    parser.add_argument("--max-error", type=float, default=0.05)
    parser.add_argument("float_dir", type=Path)
    parser.add_argument("quant_dir", type=Path)
    args = parser.parse_args()
    try:
        worst, failures = compare(args.float_dir, args.quant_dir, args)
    except (OSError, LookupError, KeyError, ValueError) as exc:
        print(f"check_scores: error: {exc}", file=sys.stderr)
        return 2
    for line in failures:
        print(line)
    print(f"metric={worst}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
