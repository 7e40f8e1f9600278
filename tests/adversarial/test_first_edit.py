"""A first edit (the file opened with the fast index, the full scan run before the save
writes): a file the scan rejects, wherever the bad line is, is never replaced, no temp file
stays beside it, and the error is the one the full scan gives on its own."""

from __future__ import annotations

import os
import re

import pytest

from quanted.cli import main
from quanted.core.disk import files
from quanted.core.document.model import QuantizeDocument
from quanted.core.format import scanner
from quanted.core.errors import ReadError
from tests.core.docs import v2_doc

LAYERS = tuple(f"n{i}" for i in range(40))


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no verdict is recalled


def _with_line(line: str, after_tensor: int) -> str:
    text = v2_doc(layers=LAYERS)
    keys = [m.start() for m in re.finditer(r"\n  '", text)]
    at = keys[after_tensor] + 1
    return text[:at] + line + text[at:]


@pytest.mark.parametrize("line, after_tensor", [
    ("    odd: [1, 2\n", 75),  # late in the table
    ("    odd: [1, 2\n", 3),  # early
    ("  '@gone:out0':\n", 78),  # a tensor without fields, late
    ("   misaligned: 1\n", 60),
])
@pytest.mark.parametrize("command", ["add", "remove"])
def test_a_rejected_file_is_left_as_it_was(tmp_path, capsys, line, after_tensor, command):
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


def test_an_accepted_file_gets_the_edit_a_fully_scanned_document_makes(tmp_path):
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc(layers=LAYERS))
    doc = QuantizeDocument(path.read_bytes(), path)  # the full scan first
    doc.set_layers({"n5": "dynamic_fixed_point-i16", "n30": "dynamic_fixed_point-i16"})
    doc.remove_layer("n5")
    assert main(["add", str(path), "n5", "n30"]) == 0
    assert main(["remove", str(path), "n5"]) == 0  # warm: the verdict is recalled, no scan
    assert path.read_bytes() == doc.to_bytes()
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


def test_a_ctrl_c_during_the_scan_leaves_the_file(tmp_path, monkeypatch, capsys):
    """KeyboardInterrupt in the full scan (as a Ctrl-C there raises it)."""
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc(layers=LAYERS))
    before = path.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(scanner, "scan", interrupted)
    assert main(["add", str(path), "n5"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert files.stale_temps(path) == []
