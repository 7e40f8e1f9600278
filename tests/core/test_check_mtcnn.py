"""examples/check_mtcnn.py, the O-Net check, on outputs written as quanted writes them: each of
its rules fails a quantized run alone, and its own errors are status 2 (a broken check)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from quanted.core.engine.taskcheck import CheckBroken, Layout, OutputEntry, TaskCheck, \
    write_outputs

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "check_mtcnn.py"
BOXES, MARKS, PROB = ("@attach_boxes/out0_0:out0", "@attach_landmarks/out0_1:out0",
                      "@attach_face_prob/out0_2:out0")
LAYOUT = Layout([OutputEntry(BOXES, (1, 4), "values", "boxes"),
                 OutputEntry(MARKS, (1, 10), "values", "landmarks"),
                 OutputEntry(PROB, (1, 2), "class", "face_prob")],
                ["face.npy", "half.npy", "cat.npy"])
# a face, a half face below the threshold, no face
FLOAT = {BOXES: [np.array([0.16, -0.02, -0.11, -0.05]), np.array([-0.18, 0.0, -0.41, -0.03]),
                 np.array([0.08, -0.15, -0.09, 0.02])],
         MARKS: [np.linspace(0.3, 0.7, 10)] * 3,
         PROB: [np.array([0.002, 0.998]), np.array([0.804, 0.196]), np.array([0.99, 0.01])]}


def _run(tmp_path, name, changes, *flags):
    quantized = {k: [a.copy() for a in v] for k, v in FLOAT.items()}
    for (tensor, i), value in changes.items():
        quantized[tensor][i] = np.asarray(value, dtype=np.float64)
    f = write_outputs(tmp_path / "f", FLOAT, LAYOUT, "float")
    q = write_outputs(tmp_path / name, quantized, LAYOUT, "quantized")
    command = " ".join([shlex.quote(sys.executable), shlex.quote(str(EXAMPLE)), *flags])
    return TaskCheck.parse(command).run(f, q, tmp_path)


def test_the_same_detections_are_acceptable(tmp_path):
    verdict = _run(tmp_path, "same", {(PROB, 1): [0.79, 0.21]})
    assert verdict.acceptable and verdict.metric == pytest.approx(1.0)


@pytest.mark.parametrize("changes, said", [
    ({(PROB, 0): [0.4, 0.6]}, "float says face (0.9980); quantized: no face"),
    ({(PROB, 1): [0.864, 0.136]}, "face probability 0.1960 -> 0.1360"),
    ({(BOXES, 0): [0.26, 0.08, -0.11, -0.05]}, "box IoU"),
    ({(MARKS, 0): np.linspace(0.3, 0.7, 10) + 0.03}, "a landmark moved by 0.0300"),
])
def test_each_rule_fails_a_run_alone(tmp_path, changes, said):
    verdict = _run(tmp_path, "q", changes)
    assert not verdict.acceptable
    assert any(said in line for line in verdict.tail), verdict.tail


def test_the_tolerances_are_options(tmp_path):
    # 0.196 -> 0.160: inside the default 0.05, outside 0.03
    assert _run(tmp_path, "a", {(PROB, 1): [0.84, 0.16]}).acceptable
    assert not _run(tmp_path, "b", {(PROB, 1): [0.84, 0.16]}, "--max-prob-error", "0.03")\
        .acceptable
    # the box and landmark rules only judge crops float calls a face
    assert _run(tmp_path, "c", {(BOXES, 2): [0.5, 0.5, 0.5, 0.5]}).acceptable


def test_a_missing_output_is_a_broken_check(tmp_path):
    layout = Layout(LAYOUT.outputs[:2], LAYOUT.dataset)
    f = write_outputs(tmp_path / "f", FLOAT, layout, "float")
    q = write_outputs(tmp_path / "q", FLOAT, layout, "quantized")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(EXAMPLE))}"
    with pytest.raises(CheckBroken, match="status 2") as caught:
        TaskCheck.parse(command).run(f, q, tmp_path)
    assert "no output named 'face_prob'" in caught.value.tail[-1]
