"""The editor's EditSession without an app: readiness, the dirty flag, undo's focus, the save
outcomes, and the reloads (keeping the unsaved edits on a file another writer changed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import FIFTH, KHADAS, TOP

from quanted.core.disk.files import FileLockedError, ReadOnlyError
from quanted.core.document.model import QuantizeDocument
from quanted.tui.session import EditSession, SaveResult

I16 = "dynamic_fixed_point-i16"


def _line(layer: str) -> bytes:
    return f"    {layer}: {I16}\n".encode()


def _opened(quantize: Path) -> EditSession:
    session = EditSession(quantize, None, KHADAS)
    loaded, skipped = session.read()
    assert skipped is None
    session.install(loaded)
    return session


def _without_fifth(original: bytes) -> bytes:
    """The file with FIFTH's tensors gone from quantize_parameters (its out0, weight, bias)."""
    kept, dropping = [], False
    for line in original.splitlines(keepends=True):
        if not line.startswith(b"     "):
            dropping = line.startswith(f"    '@{FIFTH}:".encode())
        if not dropping:
            kept.append(line)
    return b"".join(kept)


def test_no_edit_runs_until_the_rows_are_built_nor_while_something_runs(quantize):
    changes: list[str] = []
    session = EditSession(quantize, None, KHADAS, on_change=lambda: changes.append(session.busy))
    assert not session.loaded and not session.is_modified
    assert session.not_ready() == "Still loading…"
    loaded, _ = session.read()
    assert session.not_ready() == "Still loading…"  # read, not installed: no rows shown yet
    session.install(loaded)
    assert session.loaded and session.not_ready() is None
    assert session.doc is loaded.doc and session.model is loaded.model
    assert session.report is not None and session.report.path == quantize.parent / "entropy.txt"
    session.busy = "saving…"
    assert session.not_ready() == "Wait: saving…"
    session.busy = ""
    assert changes == ["", "saving…", ""]  # the status line hears each change


def test_the_dirty_flag_and_undo_redo_say_where_the_cursor_goes(quantize):
    session = _opened(quantize)
    assert session.doc is not None and FIFTH not in session.doc.customized
    session.doc.set_layer(FIFTH, I16)
    assert session.is_modified
    assert session.undo() == (True, FIFTH)
    assert not session.is_modified
    assert session.undo() == (False, None)  # nothing left to undo
    assert session.undo(redo=True) == (True, FIFTH)
    assert session.is_modified


def test_a_save_writes_the_edits_and_clears_the_dirty_flag(quantize):
    session = _opened(quantize)
    assert session.doc is not None
    session.doc.set_layer(FIFTH, I16)
    assert session.save().result == SaveResult.WRITTEN
    assert not session.is_modified and _line(FIFTH) in quantize.read_bytes()


def test_a_read_only_file_is_refused_with_why_and_written_when_forced(quantize, original):
    session = _opened(quantize)
    assert session.doc is not None
    session.doc.set_layer(FIFTH, I16)
    quantize.chmod(0o444)
    outcome = session.save()
    assert outcome.result == SaveResult.REFUSED
    assert isinstance(outcome.error, (ReadOnlyError, FileLockedError))
    assert quantize.read_bytes() == original and session.is_modified
    assert session.save(force=True).result == SaveResult.WRITTEN
    assert _line(FIFTH) in quantize.read_bytes()


def test_a_file_changed_on_disk_keeps_the_edits_replayed_on_it_then_saves(quantize, original):
    session = _opened(quantize)
    doc = session.doc
    assert doc is not None
    doc.remove_layer(TOP)
    doc.set_layer(FIFTH, I16)
    # Another writer changes a value in quantize_parameters meanwhile.
    touched = original.replace(b"        -   129\n", b"        -   130\n", 1)
    assert touched != original
    quantize.write_bytes(touched)
    assert session.save().result == SaveResult.CHANGED_ON_DISK
    assert quantize.read_bytes() == touched and session.is_modified  # nothing written
    loaded, skipped = session.read_keeping_edits()
    assert skipped == []
    session.install(loaded)
    assert session.doc is loaded.doc and session.is_modified
    assert session.save().result == SaveResult.WRITTEN
    expected = QuantizeDocument(touched)
    expected.remove_layer(TOP)
    expected.set_layer(FIFTH, I16)
    assert quantize.read_bytes() == expected.to_bytes()
    assert session.undo() == (True, FIFTH)  # the replay is one undo step: both go
    assert TOP in session.doc.customized and FIFTH not in session.doc.customized


def test_an_edit_whose_layer_is_gone_on_disk_is_named_the_others_stay_unsaved(quantize,
                                                                              original):
    session = _opened(quantize)
    assert session.doc is not None
    session.doc.remove_layer(TOP)
    session.doc.set_layer(FIFTH, I16)
    touched = _without_fifth(original)
    quantize.write_bytes(touched)
    loaded, skipped = session.read(again=True, keep_edits=True)  # the load worker's way
    assert skipped == [f"{FIFTH}: not re-applied, the layer is no longer in "
                       "quantize_parameters"]
    session.install(loaded)
    assert session.doc is not None and session.is_modified
    assert TOP not in session.doc.customized and FIFTH not in session.doc.customized
    assert quantize.read_bytes() == touched


def test_a_reload_reads_the_file_again_and_drops_the_edits(quantize, original):
    session = _opened(quantize)
    assert session.doc is not None
    report = session.report
    session.doc.set_layer(FIFTH, I16)
    loaded, skipped = session.read(again=True)
    assert skipped is None and loaded.report is report  # the report is not read again
    session.install(loaded)
    assert not session.is_modified and session.doc is not None
    assert FIFTH not in session.doc.customized
    loaded, _ = session.read(again=True, entropy=True)
    assert loaded.report is not report and loaded.report is not None


def test_keeping_edits_needs_an_open_file(quantize):
    with pytest.raises(ValueError, match="no document"):
        EditSession(quantize, None, KHADAS).read_keeping_edits()
