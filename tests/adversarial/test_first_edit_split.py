"""A first edit writes the new file while the full scan runs (the back of the table in a forked
child): a file the scan rejects, wherever the bad line is, is never replaced, no temp file
stays beside it, and the error is the one the sequential scan gives."""

from __future__ import annotations

import os
import re

import pytest

from quanted.cli import main
from quanted.core.disk import files, splitscan
from quanted.core.format import scanner
from quanted.core.errors import ReadError
from tests.core.docs import v2_doc

LAYERS = tuple(f"n{i}" for i in range(40))


@pytest.fixture(autouse=True)
def _split_every_table(monkeypatch, tmp_path):
    """Every table is cut (it is only done for big ones), and each cut is kept to look at."""
    monkeypatch.setattr(splitscan, "MIN_SIZE", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no verdict is recalled
    started: list[splitscan.ChildScan] = []
    real_start = splitscan.start

    def start(data):
        helper = real_start(data)
        assert helper is not None
        started.append(helper)
        return helper

    monkeypatch.setattr(splitscan, "start", start)
    return started


def _with_line(line: str, after_tensor: int) -> str:
    text = v2_doc(layers=LAYERS)
    keys = [m.start() for m in re.finditer(r"\n  '", text)]
    at = keys[after_tensor] + 1
    return text[:at] + line + text[at:]


@pytest.mark.parametrize("line, after_tensor", [
    ("    odd: [1, 2\n", 75),  # late in the table: the child's part
    ("    odd: [1, 2\n", 3),  # early: this process's part
    ("  '@gone:out0':\n", 78),  # a tensor without fields, late
    ("   misaligned: 1\n", 60),
])
@pytest.mark.parametrize("command", ["add", "remove"])
def test_a_rejected_file_is_left_as_it_was(tmp_path, capsys, _split_every_table, line,
                                           after_tensor, command):
    path = tmp_path / "m.quantize"
    text = _with_line(line, after_tensor).replace(
        "customized_quantize_layers: {}", "customized_quantize_layers:\n  n7: float16")
    path.write_text(text)
    with pytest.raises(ReadError) as sequential:
        scanner.scan(text.encode(), str(path))
    before = path.read_bytes()
    layer = "n5" if command == "add" else "n7"
    assert main([command, str(path), layer]) == 2
    assert capsys.readouterr().err == f"quanted: error: {sequential.value}\n"
    assert path.read_bytes() == before
    assert files.stale_temps(path) == []
    (helper,) = _split_every_table
    assert (helper.cut < text.encode().index(line.encode())) == (after_tensor > 40)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_an_accepted_file_gets_the_sequential_edit(tmp_path, monkeypatch, _split_every_table):
    path, plain = tmp_path / "m.quantize", tmp_path / "plain.quantize"
    path.write_text(v2_doc(layers=LAYERS))
    plain.write_text(v2_doc(layers=LAYERS))
    assert main(["add", str(path), "n5", "n30"]) == 0
    assert main(["remove", str(path), "n5"]) == 0  # warm: the verdict is recalled, no scan
    assert len(_split_every_table) == 1
    monkeypatch.setattr(splitscan, "start", lambda data: None)
    assert main(["add", str(plain), "n5", "n30"]) == 0
    assert main(["remove", str(plain), "n5"]) == 0
    assert path.read_bytes() == plain.read_bytes()
    assert files.stale_temps(path) == []


def test_a_write_that_fails_after_the_scan_passed_reports_the_write(tmp_path, monkeypatch,
                                                                      capsys):
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc(layers=LAYERS))
    before = path.read_bytes()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert main(["add", str(path), "n5"]) == 2
    assert capsys.readouterr().err == (
        f"quanted: error: {path}: cannot save: No space left on device\n")
    assert path.read_bytes() == before
    assert files.stale_temps(path) == []


def test_a_ctrl_c_during_the_scan_leaves_the_file_and_no_child(tmp_path, monkeypatch, capsys,
                                                                _split_every_table):
    """KeyboardInterrupt where the scan waits for the child (as a Ctrl-C there raises it)."""
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc(layers=LAYERS))
    before = path.read_bytes()

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(splitscan.ChildScan, "fast_end", interrupted)
    assert main(["add", str(path), "n5"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert files.stale_temps(path) == []
    assert len(_split_every_table) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
