"""How the real exporter (acuitylite 6.57.1) fails, and that `quanted export` names it.

- A tensor of the model with no entry in the .quantize file: the engine exports it as float32,
  logs only `D … Tensor @L:out0 type: float32` and exits 0. quanted exits 1 naming the layer.
  (After a rebuild following a hybrid run, every converter layer is in this state.)
- A NAME.data it cannot read: `W … Load file … failed.`, `E … Exception:<class
  '_pickle.UnpicklingError'> Failed to interpret file …`, a traceback, exit 1.
The successful export after a hybrid run (no false alarm on the float32 softmax at the end of
the graph) is in test_workflow_engine.py."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from quanted.cli import main

pytestmark = pytest.mark.engine

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
INPUTS = ["tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt",
          "tinynet_uint8.quantize", "entropy.txt",
          *sorted(p.name for p in SAMPLE_DATA.glob("input_*.npy"))]
QUANTIZE = "tinynet_uint8.quantize"
DROPPED = "layer3/layer3.0/conv2/Conv_output_0_7"


def sample_copy(tmp_path: Path) -> Path:
    for name in INPUTS:
        (tmp_path / name).write_bytes((SAMPLE_DATA / name).read_bytes())
    return tmp_path / QUANTIZE


def export(capsys, path: Path, pegasus: list[str]) -> tuple[int, dict, str]:
    status = main(["export", str(path), "--force", "--json", "--pegasus", shlex.join(pegasus)])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def test_a_tensor_missing_from_the_quantize_file_is_named(tmp_path, pegasus, capsys):
    path = sample_copy(tmp_path)
    text = path.read_text()
    entry = re.compile(rf"  '@{re.escape(DROPPED)}:out0':\n(?:    .*\n)+")
    assert entry.search(text)
    path.write_text(entry.sub("", text, count=1))
    status, result, err = export(capsys, path, pegasus)
    assert result["engine_status"] == 0  # the engine itself sees nothing wrong
    assert status == 1
    assert result["problems"] == [{
        "kind": "not-quantized", "layer": DROPPED,
        "message": f"Tensor @{DROPPED}:out0 type: float32: no entry in the .quantize file, so "
                   "the case runs it in float"}]
    assert f"quanted: export: layer '{DROPPED}': Tensor @{DROPPED}:out0 type: float32" in err
    assert "main.c" in result["files"]


def test_an_unreadable_model_data_is_named(tmp_path, pegasus, capsys):
    path = sample_copy(tmp_path)
    data = tmp_path / "tinynet.data"
    data.write_bytes(data.read_bytes()[:1000])
    status, result, _ = export(capsys, path, pegasus)
    assert status == result["engine_status"] == 1
    kinds = [(p["kind"], p["message"]) for p in result["problems"]]
    assert kinds[0] == ("unreadable-input", f"Load file {data} failed.")
    assert kinds[1][0] == "error"
    assert kinds[1][1].startswith("Exception:<class '_pickle.UnpicklingError'> Failed to "
                                  f"interpret file <_io.BufferedReader name='{data}'> as a pickle")
    assert len(kinds) == 2  # the traceback's last line repeats the E line: not counted again
