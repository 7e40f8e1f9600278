"""The task-check protocol (quanted/core/engine/taskcheck.py) with small Python check scripts."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from quanted.core.engine.taskcheck import CheckBroken, Layout, OutputEntry, TaskCheck, metric, \
    write_outputs

TENSORS = ["@attach_boxes/out0_0:out0", "@attach_scores/out0_1:out0"]


def script(tmp_path, body: str, name: str = "check.py") -> str:
    path = tmp_path / name
    path.write_text("import json, os, pathlib, signal, sys\nimport numpy as np\n" + body)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def folders(tmp_path, scale: float = 1.0):
    layout = Layout([OutputEntry(TENSORS[0], (1, 4, 3), "values", "boxes"),
                     OutputEntry(TENSORS[1], (1, 3), "values", "scores")], ["a.npy", "b.npy"])
    rng = np.random.default_rng(0)
    floats = {TENSORS[0]: [rng.normal(size=12) for _ in range(2)],
              TENSORS[1]: [rng.normal(size=3) for _ in range(2)]}
    quantized = {key: [v * scale for v in values] for key, values in floats.items()}
    return (write_outputs(tmp_path / "f", floats, layout, "float"),
            write_outputs(tmp_path / "q", quantized, layout, "quantized"), floats)


def test_the_folders_hold_each_input_and_output_and_outputs_json(tmp_path):
    float_dir, quant_dir, floats = folders(tmp_path)
    saved = np.load(float_dir / "1" / "attach_scores_out0_1.npy")
    assert saved.dtype == np.float32 and saved.shape == (1, 3)
    assert np.array_equal(saved.ravel(), floats[TENSORS[1]][1].astype(np.float32))
    described = json.loads((quant_dir / "outputs.json").read_text())
    assert described == {
        "run": "quantized", "inputs": 2, "dataset": ["a.npy", "b.npy"],
        "outputs": [{"file": "attach_boxes_out0_0", "layer": "attach_boxes/out0_0",
                     "tensor": TENSORS[0], "source": "boxes", "shape": [1, 4, 3],
                     "kind": "values"},
                    {"file": "attach_scores_out0_1", "layer": "attach_scores/out0_1",
                     "tensor": TENSORS[1], "source": "scores", "shape": [1, 3],
                     "kind": "values"}]}


CLOSE = """
float_dir, quant_dir = map(pathlib.Path, sys.argv[-2:])
assert sys.argv[1:-2] == ["--max-error", "0.5 logits"], sys.argv
worst = 0.0
for entry in json.loads((float_dir / "outputs.json").read_text())["outputs"]:
    for i in range(2):
        f = np.load(float_dir / str(i) / (entry["file"] + ".npy"))
        q = np.load(quant_dir / str(i) / (entry["file"] + ".npy"))
        worst = max(worst, float(np.max(np.abs(f - q))))
print("compared")
print(f"metric={worst}")
sys.exit(0 if worst <= 0.5 else 1)
"""


def test_acceptable_and_not_with_the_metric(tmp_path):
    check = TaskCheck.parse(script(tmp_path, CLOSE) + " --max-error '0.5 logits'")
    float_dir, quant_dir, _ = folders(tmp_path)
    verdict = check.run(float_dir, quant_dir, tmp_path)
    assert verdict.acceptable and verdict.metric == 0.0
    assert verdict.text() == "acceptable (metric=0)" and verdict.tail[-1] == "metric=0.0"
    float_dir, quant_dir, floats = folders(tmp_path / "far", scale=3.0)
    verdict = check.run(float_dir, quant_dir, tmp_path)
    assert not verdict.acceptable and verdict.metric is not None and verdict.metric > 0.5
    assert verdict.text().startswith("NOT acceptable (metric=")
    assert set(verdict.to_json()) == {"acceptable", "metric", "seconds"}


@pytest.mark.parametrize("body, message", [
    ("sys.exit(3)", "exited with status 3 (a check exits 0: acceptable or 1: not acceptable)"),
    ("print('boom', flush=True); os.kill(os.getpid(), signal.SIGKILL)", "killed by signal 9"),
])
def test_anything_but_0_or_1_is_a_broken_check(tmp_path, body, message):
    check = TaskCheck.parse(script(tmp_path, body))
    float_dir, quant_dir, _ = folders(tmp_path)
    with pytest.raises(CheckBroken, match=re.escape(message)) as caught:
        check.run(float_dir, quant_dir, tmp_path)
    assert caught.value.exit_code == 2
    if "boom" in body:
        assert caught.value.tail == ["boom"]


def test_a_python_traceback_is_status_1_so_a_check_must_catch_its_own_errors(tmp_path):
    # why examples/check_scores.py exits 2 on its own errors: Python exits 1 on a traceback
    check = TaskCheck.parse(script(tmp_path, "raise RuntimeError('no such output')"))
    float_dir, quant_dir, _ = folders(tmp_path)
    verdict = check.run(float_dir, quant_dir, tmp_path)
    assert not verdict.acceptable and "RuntimeError: no such output" in verdict.tail[-1]


def test_a_check_that_never_ends_is_broken_at_its_timeout(tmp_path):
    # blocks forever on a pipe nobody writes: any timeout ends it
    check = TaskCheck.parse(script(tmp_path, "r, w = os.pipe(); os.read(r, 1)"), timeout=0.5)
    float_dir, quant_dir, _ = folders(tmp_path)
    with pytest.raises(CheckBroken, match="past its timeout of 0.5 s"):
        check.run(float_dir, quant_dir, tmp_path)


def test_commands_that_cannot_be_run(tmp_path):
    float_dir, quant_dir, _ = folders(tmp_path)
    with pytest.raises(CheckBroken, match="cannot be started"):
        TaskCheck.parse(str(tmp_path / "no-such-check")).run(float_dir, quant_dir, tmp_path)
    with pytest.raises(CheckBroken, match="needs a command"):
        TaskCheck.parse("  ")
    with pytest.raises(CheckBroken, match="split like a shell"):
        TaskCheck.parse("check 'unclosed")
    with pytest.raises(CheckBroken, match="timeout"):
        TaskCheck.parse("check", timeout=0)
    # never a shell: `;` and `$HOME` reach the program as words
    assert TaskCheck.parse("check ; echo $HOME").command == ["check", ";", "echo", "$HOME"]


@pytest.mark.parametrize("stdout, value", [
    ("metric=0.25\n", 0.25), ("a\nmetric=-1e-3\n\n", -0.001), ("metric=0.2\nmore\n", None),
    ("metric=fast\n", None), ("", None), ("metric=inf", float("inf"))])
def test_metric_is_the_last_line(stdout, value):
    assert metric(stdout) == value


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "check_scores.py"


def test_the_example_score_check(tmp_path):
    layout = Layout([OutputEntry("@attach_scores/out0_1:out0", (1, 64), "values", "scores")],
                    ["input_0.npy"])
    logits = np.random.default_rng(5).normal(0.0, 2.0, size=64)
    stairs = np.round(logits / 1.22) * 1.22  # a uint8 step of 1.22 logits
    float_dir = write_outputs(tmp_path / "f", {layout.outputs[0].tensor: [logits]}, layout,
                              "float")
    check = TaskCheck.parse(f"{shlex.quote(sys.executable)} {shlex.quote(str(EXAMPLE))}")
    close = write_outputs(tmp_path / "q1", {layout.outputs[0].tensor: [logits + 1e-3]}, layout,
                          "quantized")
    verdict = check.run(float_dir, close, tmp_path)
    assert verdict.acceptable and verdict.metric is not None and verdict.metric < 1e-3
    coarse = write_outputs(tmp_path / "q2", {layout.outputs[0].tensor: [stairs]}, layout,
                           "quantized")
    verdict = check.run(float_dir, coarse, tmp_path)
    assert not verdict.acceptable and verdict.metric is not None and verdict.metric > 0.05
    assert any("input 0 (input_0.npy)" in line for line in verdict.tail)
    with pytest.raises(CheckBroken, match="status 2") as caught:
        TaskCheck.parse(check.describe() + " --output boxes").run(float_dir, coarse, tmp_path)
    assert "no output named 'boxes' (outputs: scores)" in caught.value.tail[-1]
