"""Saving: atomic, keeps mode bits, refuses to clobber a file pegasus rewrote meanwhile."""

from __future__ import annotations

import os
import stat

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import FileChangedError
from tests.core.docs import v2_doc


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "m.quantize"
    p.write_text(v2_doc())
    p.chmod(0o640)
    return p


def test_save_keeps_mode_and_leaves_no_temp_files(path):
    doc = QuantizeDocument.open(path)
    doc.set_layer("c1_8", "float16")
    doc.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    # The lock file stays (removing it would let two writers lock different files).
    assert sorted(p.name for p in path.parent.iterdir()) == [".m.quantize.lock", "m.quantize"]
    assert QuantizeDocument.open(path).customized == {"c1_8": "float16"}
    assert not doc.is_modified


def test_changed_on_disk_is_refused_unless_overwrite(path):
    doc = QuantizeDocument.open(path)
    doc.set_layer("c1_8", "float16")
    rewritten = v2_doc().replace("zero_point: 83", "zero_point: 84", 1)
    path.write_text(rewritten)
    os.utime(path, ns=(1, 1))
    with pytest.raises(FileChangedError):
        doc.save()
    assert path.read_text() == rewritten  # nothing written on the error path
    doc.save(overwrite=True)
    assert "  c1_8: float16\n" in path.read_text()


def test_touched_but_identical_file_is_not_a_change(path):
    doc = QuantizeDocument.open(path)
    doc.set_layer("c1_8", "float16")
    os.utime(path, ns=(2, 2))
    doc.save()
    assert doc.customized == {"c1_8": "float16"}


def test_undo_after_save_and_saving_again(path):
    original = path.read_bytes()
    doc = QuantizeDocument.open(path)
    doc.set_layer("c1_8", "float16")
    doc.save()
    assert doc.undo()
    assert doc.is_modified
    doc.save()
    assert path.read_bytes() == original


def test_failed_write_leaves_the_file_alone(path, monkeypatch):
    doc = QuantizeDocument.open(path)
    doc.set_layer("c1_8", "float16")
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(Exception) as exc:
        doc.save()
    assert "No space left" in str(exc.value)
    assert path.read_bytes() == before
    # The lock file stays (removing it would let two writers lock different files).
    assert sorted(p.name for p in path.parent.iterdir()) == [".m.quantize.lock", "m.quantize"]


@pytest.mark.parametrize("rknn", [False, True])
def test_after_save_the_index_matches_a_fresh_open(tmp_path, rknn):
    from tests.core.docs import legacy_doc

    p = tmp_path / "l.quantize"
    p.write_text(legacy_doc(rknn=rknn))
    doc = QuantizeDocument.open(p)
    doc.set_layer("attach_input/out0_1", "float32")
    doc.save()
    fresh = QuantizeDocument.open(p)
    assert doc.scan.entries == fresh.scan.entries
    key = "@attach_input/out0_1:out0"
    assert doc.tensor_fields(key) == fresh.tensor_fields(key)
    doc.remove_layer("attach_input/out0_1")
    doc.save()
    assert p.read_text() == legacy_doc(rknn=rknn)
