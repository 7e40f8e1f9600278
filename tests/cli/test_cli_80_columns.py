"""`quanted layers` and `quanted analyze` on an 80-column terminal fit it:
ids shortened as the editor shortens them, columns left out and said so; piped, full ids and
every column. The analysis is made up and cached as `quanted analyze` caches one
(tests/core/cached_analysis.py), so `analyze` runs no engine."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.document.short_ids import cells
from tests.conftest import PUBLIC
from tests.core import cached_analysis

QUANTED = Path(sys.executable).parent / "quanted"
NAME = "khadas_mobilenet_tf.quantize"


def khadas_model_files(folder: Path) -> None:
    """The model files an analysis plan wants beside the khadas copy (as tests/tui's)."""
    model = {"Layers": {"input_1": {"op": "input", "outputs": ["out0"]}}}
    (folder / "khadas_mobilenet_tf.json").write_text(json.dumps(model))
    (folder / "khadas_mobilenet_tf.data").write_bytes(b"\0" * 16)
    (folder / "khadas_mobilenet_tf_inputmeta.yml").write_text("input_meta: {}\n")


@pytest.fixture
def analysed(tmp_path):
    shutil.copy(PUBLIC / NAME, tmp_path / NAME)
    shutil.copy(PUBLIC / "khadas_mobilenet_tf_entropy.txt", tmp_path / "entropy.txt")
    khadas_model_files(tmp_path)
    quantize = tmp_path / NAME
    layers = list(QuantizeDocument.open(quantize).qtypes_by_layer())
    cached_analysis.store(quantize, {layer: round(((i * 37) % 23) / 400 - 0.01, 4)
                                     for i, layer in enumerate(layers)})
    return quantize


def on_terminal(args: list[str], cwd: Path, columns: int = 80) -> str:
    """What the installed quanted writes to a terminal `columns` wide (a pty)."""
    main, side = os.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["QUANTED_PEGASUS"] = "/bin/false"  # the analysis is cached: no engine runs
    process = subprocess.Popen([str(QUANTED), *args], cwd=cwd, stdout=side,
                               stderr=subprocess.DEVNULL, env=env)
    os.close(side)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


def piped(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "QUANTED_PEGASUS": "/bin/false"}
    return subprocess.run([str(QUANTED), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, check=True).stdout


def _check_fits(text: str) -> list[str]:
    lines = text.rstrip("\n").split("\n")
    assert all(cells(line) <= 80 for line in lines), [ln for ln in lines if cells(ln) > 80]
    return lines


def test_layers_fits_80_columns_and_keeps_full_ids_when_piped(analysed):
    lines = _check_fits(on_terminal(["layers", NAME], analysed.parent))
    assert lines[0].split() == ["LAYER", "WEIGHT", "MAX", "COS", "DROP", "CUSTOM"]
    rows = lines[1:-2]
    assert len(rows) == 66 and lines[-2:] == ["⇄ a converter a hybrid run inserted",
                                              "OUT0 left out to fit; piped, the table has them"]
    ids = [row[2:].split("  ")[0] for row in rows]
    assert len(set(ids)) == len(ids) and min(len(i) for i in ids if "…" in i) >= 20
    assert rows[0].startswith("● ") or "…/Conv2d_1_pointwise/Conv2D_82" in rows[0]
    assert "dfp-i16" in rows[0]
    full = piped(["layers", NAME], analysed.parent).splitlines()
    assert full[1].startswith("MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Conv2D_82 ")
    assert "dynamic_fixed_point-i16" in full[1] and "OUT0" in full[0]


def test_analyze_fits_80_columns_and_keeps_full_ids_when_piped(analysed):
    lines = _check_fits(on_terminal(["analyze", NAME], analysed.parent))
    assert lines[0].split() == ["LAYER", "COSINE", "DROP", "ENTROPY", "QTYPE"]
    assert lines[-1] == "SQNR dB left out to fit; --json has every figure"
    rows = [ln for ln in lines[1:] if "/" in ln or "_" in ln][:60]
    assert all(row.split()[-1].startswith("█") or row.split()[-1] in ("-", "dfp-i16")
               for row in rows[:5])
    full = piped(["analyze", NAME], analysed.parent).splitlines()
    assert full[0].split()[:6] == ["LAYER", "COSINE", "DROP", "SQNR", "dB", "ENTROPY"]
    assert any(line.startswith("MobilenetV1/MobilenetV1/Conv2d_10_pointwise/Conv2D_28 ")
               for line in full)


def test_a_wide_terminal_shows_every_column(analysed):
    lines = on_terminal(["layers", NAME], analysed.parent, columns=200).splitlines()
    assert lines[0].split() == ["LAYER", "OUT0", "WEIGHT", "MAX", "COS", "DROP", "CUSTOM"]
    assert "MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Conv2D_82" in lines[1]


PENDING = "MobilenetV1/MobilenetV1/Conv2d_10_pointwise/Conv2D_28"  # a largest drop, u8 in the file


def test_analyze_says_after_the_table_which_worst_layers_are_customized_not_applied(tmp_path):
    shutil.copy(PUBLIC / NAME, tmp_path / NAME)
    quantize = tmp_path / NAME
    quantize.chmod(0o644)
    subprocess.run([str(QUANTED), "add", str(quantize), PENDING], check=True,
                   capture_output=True)
    khadas_model_files(tmp_path)
    layers = list(QuantizeDocument.open(quantize).qtypes_by_layer())
    cached_analysis.store(quantize, {layer: 0.3 if layer == PENDING else 0.001 * (i % 7)
                                     for i, layer in enumerate(layers)})
    env = {**os.environ, "QUANTED_PEGASUS": "/bin/false"}
    done = subprocess.run([str(QUANTED), "analyze", NAME], cwd=tmp_path, capture_output=True,
                          text=True, env=env, check=True)
    last = done.stderr.rstrip().splitlines()[-1]
    assert last.startswith("quanted: note: 1 customized layer(s) are not applied yet")
    assert f"among the 10 largest drops: {PENDING};" in last
    rows = on_terminal(["analyze", NAME], tmp_path).splitlines()
    assert rows[1].startswith("○ …/Conv2d_10_") and "/Conv2D_28 " in rows[1]
