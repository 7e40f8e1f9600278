"""A first edit (the file opened with the full scan, the front of a big table checked by a forked
child while the edit is made and its temp file written): a file the scan rejects, wherever the
bad line is and whichever process checks it, is never replaced, no temp file stays beside it,
and the error is the one the sequential scan gives on its own, before any of the edit's; a
front the walk took wrongly means the edit is made again, as the sequential scan reads it."""

from __future__ import annotations

import os

import pytest

from quanted.cli import main
from quanted.core.disk import files
from quanted.core.document.model import QuantizeDocument
from quanted.core.format import scanner, split_scan
from quanted.core.errors import ReadError
from tests.core.docs import line_after_tensor, v2_doc
from tests.core.test_split_scan import _children

LAYERS = tuple(f"n{i}" for i in range(40))


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no verdict is recalled


@pytest.fixture(params=["sequential", "split"])
def cuts(request, monkeypatch):
    """Each scan's cut (a helper's offset) when split: every table is cut and forking allowed
    (the rule pinned: threads other tests left must not decide); sequential: none is."""
    if request.param == "sequential":
        monkeypatch.setattr(split_scan, "start", lambda data: None)
        return None
    return _split_every_table(monkeypatch)


def _split_every_table(monkeypatch) -> list[int]:
    monkeypatch.setattr(split_scan, "MIN_SIZE", 0)
    monkeypatch.setattr(split_scan, "fork_allowed", lambda: True)
    made: list[int] = []
    real_start = split_scan.start

    def start(data):
        helper = real_start(data)
        assert helper is not None
        made.append(helper.cut)
        return helper

    monkeypatch.setattr(split_scan, "start", start)
    return made


def _with_line(line: str, after_tensor: int) -> str:
    return line_after_tensor(v2_doc(layers=LAYERS), line, after_tensor)


@pytest.mark.parametrize("line, after_tensor", [
    ("    odd: [1, 2\n", 75),  # late in the table
    ("    odd: [1, 2\n", 3),  # early
    ("  '@gone:out0':\n", 78),  # a tensor without fields, late
    ("   misaligned: 1\n", 60),
])
@pytest.mark.parametrize("command", ["add", "remove"])
def test_a_rejected_file_is_left_as_it_was(tmp_path, capsys, line, after_tensor, command,
                                           cuts):
    children_before = _children()
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
    if cuts is not None:  # the bad line on either side of the cut
        (cut,) = cuts
        assert (cut < text.encode().index(line.encode())) == (after_tensor > 40)
    assert _children() <= children_before


def test_an_accepted_file_gets_the_edit_a_fully_scanned_document_makes(tmp_path, cuts):
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc(layers=LAYERS))
    doc = QuantizeDocument(path.read_bytes(), path)  # the full scan first
    doc.set_layers({"n5": "dynamic_fixed_point-i16", "n30": "dynamic_fixed_point-i16"})
    doc.remove_layer("n5")
    assert main(["add", str(path), "n5", "n30"]) == 0
    assert main(["remove", str(path), "n5"]) == 0  # warm: the verdict is recalled, no scan
    assert path.read_bytes() == doc.to_bytes()
    assert cuts is None or len(cuts) == 2  # the document above and the add; not the remove
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


def test_a_ctrl_c_while_the_child_scans_leaves_the_file_and_no_child(tmp_path, monkeypatch,
                                                                      capsys):
    """KeyboardInterrupt where the rename waits for the child (as a Ctrl-C there raises it)."""
    cuts = _split_every_table(monkeypatch)
    children_before = _children()
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc(layers=LAYERS))
    before = path.read_bytes()

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(split_scan.ChildCheck, "holds", interrupted)
    assert main(["add", str(path), "n5"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert files.stale_temps(path) == []
    assert len(cuts) == 1
    assert _children() <= children_before


def test_an_odd_line_in_the_front_means_the_edit_is_made_again(tmp_path, monkeypatch):
    """A comment among the front's tensors: valid, but not what the fast regex takes, so the
    child's check fails and the edit is redone on the sequential scan, with its result."""
    text = _with_line("  # a note among the tensors\n", 3)
    path, plain = tmp_path / "m.quantize", tmp_path / "plain.quantize"
    path.write_text(text)
    doc = QuantizeDocument(text.encode(), plain)  # the sequential scan's edit
    doc.set_layer("n5", "dynamic_fixed_point-i16")
    cuts = _split_every_table(monkeypatch)
    opened = []
    real_open = QuantizeDocument.open.__func__

    def open_(cls, path, **options):
        opened.append(options.get("confirm_later", False))
        return real_open(cls, path, **options)

    monkeypatch.setattr(QuantizeDocument, "open", classmethod(open_))
    assert main(["add", str(path), "n5"]) == 0
    assert path.read_bytes() == doc.to_bytes()
    # the edit's scan and its redo's (whose check fails again: then the sequential scan)
    assert opened == [True, False] and len(cuts) == 2
    assert files.stale_temps(path) == []


@pytest.mark.parametrize("layer", ["n5", "nosuch"])
def test_the_file_error_comes_before_the_edit_error(tmp_path, capsys, monkeypatch, layer):
    """A bad line in the child's part and a layer that is not there: the file's error, as
    the sequential scan (run before anything else) gives it."""
    _split_every_table(monkeypatch)
    text = _with_line("    odd: [1, 2\n", 3)
    path = tmp_path / "m.quantize"
    path.write_text(text)
    with pytest.raises(ReadError) as sequential:
        scanner.scan(text.encode(), str(path))
    assert main(["add", str(path), layer]) == 2
    assert capsys.readouterr().err == f"quanted: error: {sequential.value}\n"
    assert path.read_text() == text and files.stale_temps(path) == []
