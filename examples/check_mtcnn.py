#!/usr/bin/env python3
"""A task check for `quanted verify --check` / `quanted tune --check` on MTCNN's O-Net (the
third stage, which decides face or not for each candidate box and corrects it): does the
quantized model make float's detections?

    quanted verify onet_uint8.quantize --check "python3 examples/check_mtcnn.py"
    quanted tune onet_uint8.quantize --check "python3 examples/check_mtcnn.py --min-iou 0.95"

quanted adds FLOAT_DIR and QUANT_DIR (see README "Detection models"). Each input is one
candidate crop. The outputs are found by their ONNX names (outputs.json's "source"):
`face_prob` (no face, face), `boxes` (the correction of the crop's corners, as fractions of
its side) and `landmarks` (five x then five y, fractions of the crop).

Decoded as facenet-pytorch does: a candidate is a face when its face probability is above
--threshold (0.7, MTCNN's third-stage default); its box is the crop [0, 0, 1, 1] moved by the
correction, its landmarks the ten fractions. The quantized run is acceptable when, on every
input:
  - it makes float's decision (except where float's probability is within --max-prob-error of
    the threshold: a tie either way) and its face probability is within --max-prob-error
    (0.05) of float's;
  - on each face float finds, its box overlaps float's with IoU at least --min-iou (0.9) and
    no landmark moves by more than --max-landmark-error (0.02 of the box's side, one pixel of
    O-Net's 48).
The last line is `metric=<worst box IoU over float's faces>` (1 when float finds none).

Exit 0 acceptable, 1 not, 2 when the check itself cannot run (a missing output, unreadable
folders): Python exits 1 on an uncaught error, which would read as "not acceptable".
Needs numpy only.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np


def find_output(described, name):
    for entry in described["outputs"]:
        if name in (entry["source"], entry["layer"], entry["file"], entry["tensor"]):
            return entry
    names = ", ".join(e["source"] or e["layer"] for e in described["outputs"])
    raise LookupError(f"no output named {name!r} (outputs: {names})")


def iou(a, b):
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def decode(folder, i, files):
    def load(key):
        return np.load(folder / str(i) / f"{files[key]}.npy").astype(np.float64).ravel()
    prob = float(load("face_prob")[1])
    box = np.array([0.0, 0.0, 1.0, 1.0]) + load("boxes")
    return prob, box, load("landmarks")


def compare(float_dir, quant_dir, args):
    described = json.loads((float_dir / "outputs.json").read_text())
    files = {name: find_output(described, name)["file"]
             for name in ("face_prob", "boxes", "landmarks")}
    worst, failures = 1.0, []
    for i in range(described["inputs"]):
        fp, fbox, fmarks = decode(float_dir, i, files)
        qp, qbox, qmarks = decode(quant_dir, i, files)
        problems = []
        tie = abs(fp - args.threshold) <= args.max_prob_error
        if (fp > args.threshold) != (qp > args.threshold) and not tie:
            problems.append("no face" if fp > args.threshold else "face")  # its decision
        if abs(fp - qp) > args.max_prob_error:
            problems.append(f"face probability {fp:.4f} -> {qp:.4f}")
        if fp > args.threshold:
            overlap = iou(fbox, qbox)
            worst = min(worst, overlap)
            moved = float(np.max(np.abs(fmarks - qmarks)))
            if overlap < args.min_iou:
                problems.append(f"box IoU {overlap:.4f}")
            if moved > args.max_landmark_error:
                problems.append(f"a landmark moved by {moved:.4f} of the box")
        if problems:
            line = described["dataset"][i] if i < len(described["dataset"]) else "?"
            said = "face" if fp > args.threshold else "no face"
            failures.append(f"input {i} ({line}): float says {said} ({fp:.4f}); quantized: "
                            + ", ".join(problems))
    return worst, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--max-prob-error", type=float, default=0.05)
    parser.add_argument("--min-iou", type=float, default=0.9)
    parser.add_argument("--max-landmark-error", type=float, default=0.02)
    parser.add_argument("float_dir", type=Path)
    parser.add_argument("quant_dir", type=Path)
    args = parser.parse_args()
    try:
        worst, failures = compare(args.float_dir, args.quant_dir, args)
    except (OSError, LookupError, KeyError, ValueError, IndexError) as exc:
        print(f"check_mtcnn: error: {exc}", file=sys.stderr)
        return 2
    for line in failures:
        print(line)
    print(f"metric={worst}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
