"""Another program writing the file while quanted reads, scans or saves it: a verdict and a
document's stamp describe only the bytes that were scanned, a read that changed under it is
read again or refused, and a change landing just before the rename is a conflict, never
overwritten. Each window is hooked here deterministically; tests/adversarial/test_races.py
races a real second process against the commands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quanted.cli.dispatch import main
from quanted.core.document import model as document
from quanted.core.disk import files, verdicts
from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import FileChangedError, ReadError
from quanted.core.disk.stamp import SMALL_FILE, DiskStamp
from tests.core.docs import v2_doc

# A same-size line the full scan rejects (an unclosed quote), for a field line of the table.
GOOD_LINE = b"    rounding: rtne\n"
BAD_LINE = b"    rounding: 'tne\n"
assert len(GOOD_LINE) == len(BAD_LINE)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(params=["small", "big"])
def model(request, tmp_path: Path) -> Path:
    path = tmp_path / "m_uint8.quantize"
    layers = [f"l{i}" for i in range(12_000 if request.param == "big" else 4)]
    path.write_text(v2_doc(layers=layers,
                           customized="customized_quantize_layers:\n  l1: float16\n"))
    assert (path.stat().st_size > SMALL_FILE) == (request.param == "big")
    return path


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big_uint8.quantize"
    path.write_text(v2_doc(layers=[f"l{i}" for i in range(12_000)],
                           customized="customized_quantize_layers:\n  l1: float16\n"))
    return path


# -- what other programs do ------------------------------------------------------------------

def in_place(path: Path) -> None:
    """Same size, one line rewritten where it is (what `dd conv=notrunc` does)."""
    data = path.read_bytes()
    at = data.rindex(GOOD_LINE)
    with open(path, "r+b") as handle:
        handle.seek(at)
        handle.write(BAD_LINE)


def renamed_over(path: Path) -> None:
    """A same-size new file renamed over it (what most editors and tools do)."""
    other = path.with_name("other.tmp")
    data = path.read_bytes()
    at = data.rindex(GOOD_LINE)
    other.write_bytes(data[:at] + BAD_LINE + data[at + len(BAD_LINE):])
    os.replace(other, path)


def mtime_put_back(path: Path) -> None:
    """In place, same size, and the old mtime set back (only the ctime moves)."""
    st = path.stat()
    in_place(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


WRITERS = [in_place, renamed_over, mtime_put_back, truncated]


def _leftovers(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


# -- reading ---------------------------------------------------------------------------------

def test_a_read_whose_stat_moved_is_read_again(model, monkeypatch):
    real = files._read_all
    calls: list[int] = []

    def meddled(fd: int) -> bytes:
        data = real(fd)
        if not calls:
            in_place(model)  # during the first read
        calls.append(fd)
        return data

    monkeypatch.setattr(files, "_read_all", meddled)
    data, stamp = files.read_stamped(model)
    assert len(calls) == 2
    assert data == model.read_bytes() and BAD_LINE in data
    assert stamp == DiskStamp.of(model)


def test_a_file_that_keeps_changing_is_refused_not_edited(model, monkeypatch, capsys):
    real = files._read_all

    def meddled(fd: int) -> bytes:
        data = real(fd)
        st = os.stat(model)
        os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        return data

    monkeypatch.setattr(files, "_read_all", meddled)
    before = model.read_bytes()
    with pytest.raises(ReadError, match="changed while it was read, 3 times"):
        QuantizeDocument.open(model)
    assert main(["add", str(model), "l2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "changed while it was read" in err
    assert model.read_bytes() == before


# -- the verdict and the stamp describe the bytes scanned ------------------------------------

def _change_after_the_read(monkeypatch, path: Path, writer) -> None:
    """`writer` runs once, right after the open's read and before its scan."""
    real = document.read_stamped
    done: list[bool] = []

    def read_then_change(target: Path) -> tuple[bytes, DiskStamp]:
        found = real(target)
        if not done and target == path:
            done.append(True)
            writer(path)
        return found

    monkeypatch.setattr(document, "read_stamped", read_then_change)


@pytest.mark.parametrize("writer", [in_place, mtime_put_back], ids=lambda w: w.__name__)
def test_a_change_during_a_check_is_not_vouched_for(model, monkeypatch, writer, capsys):
    _change_after_the_read(monkeypatch, model, writer)
    QuantizeDocument.open(model)  # `check`: scans the bytes it read, which pass
    monkeypatch.undo()
    # The bytes on disk now are not the ones scanned: no later check or add trusts them.
    assert main(["check", str(model)]) == 2
    assert "unclosed quote" in capsys.readouterr().err
    rejected = model.read_bytes()
    assert main(["add", str(model), "l2"]) == 2
    assert model.read_bytes() == rejected


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.__name__)
def test_a_change_between_the_read_and_the_save_is_a_conflict(model, monkeypatch, writer):
    _change_after_the_read(monkeypatch, model, writer)
    doc = QuantizeDocument.open(model, full=False)
    changed = model.read_bytes()
    doc.set_layer("l2", "float16")
    with pytest.raises(FileChangedError):
        doc.save()
    assert model.read_bytes() == changed
    assert _leftovers(model.parent) == []


def _change_before_the_rename(monkeypatch, writer) -> list[int]:
    """`writer` runs right before the check that comes just before the rename (the check at
    the start of the save passes)."""
    real = QuantizeDocument._still_as_read
    calls: list[int] = []

    def late(self: QuantizeDocument) -> None:
        calls.append(1)
        if len(calls) == 2:
            assert self.path is not None
            writer(self.path)
        real(self)

    monkeypatch.setattr(QuantizeDocument, "_still_as_read", late)
    return calls


@pytest.mark.parametrize("verified", [True, False], ids=["recalled", "first-edit"])
@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.__name__)
def test_a_change_just_before_the_rename_is_a_conflict(model, monkeypatch, writer, verified):
    doc = QuantizeDocument.open(model, full=verified)
    doc.set_layer("l2", "float16")
    calls = _change_before_the_rename(monkeypatch, writer)
    with pytest.raises(FileChangedError):
        doc.save()
    assert len(calls) == 2
    changed = model.read_bytes()
    assert b"  l2: float16" not in changed  # theirs, untouched
    assert _leftovers(model.parent) == []
    assert doc.is_modified  # the edit is kept for a reload or an overwrite
    doc.save(overwrite=True)
    assert b"  l2: float16" in model.read_bytes()


def test_the_cli_reports_a_late_change_as_the_usual_conflict(big, monkeypatch, capsys):
    _change_before_the_rename(monkeypatch, in_place)
    assert main(["add", str(big), "l2"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "changed on disk since it was read" in captured.err
    assert BAD_LINE in big.read_bytes() and b"  l2: dynamic" not in big.read_bytes()


def test_a_file_rewritten_identically_is_not_a_conflict(model, monkeypatch):
    """Touched is not changed, for a small file (its bytes are compared)."""
    doc = QuantizeDocument.open(model)
    doc.set_layer("l2", "float16")
    _change_before_the_rename(monkeypatch, lambda p: p.write_bytes(p.read_bytes()))
    if model.stat().st_size > SMALL_FILE:
        with pytest.raises(FileChangedError):
            doc.save()
    else:
        doc.save()
        assert b"  l2: float16" in model.read_bytes()


def test_the_stamp_after_a_save_is_the_written_files(model):
    doc = QuantizeDocument.open(model, full=False)
    doc.set_layer("l2", "float16")
    doc.save()
    assert doc.stamp == DiskStamp.of(model)
    assert not doc.changed_on_disk()
    mtime_put_back(model)
    assert doc.changed_on_disk()


# -- the verdict cache -------------------------------------------------------------------------

def _entries() -> list[str]:
    folder = verdicts._folder()
    return sorted(n for n in os.listdir(folder) if not n.startswith("."))


def test_a_save_replaces_the_verdict_of_the_version_it_replaced(model):
    doc = QuantizeDocument.open(model)  # recorded
    assert doc.stamp is not None
    assert verdicts.recall(doc.stamp) is not None and len(_entries()) == 1
    doc.set_layer("l2", "float16")
    doc.save()
    assert doc.stamp is not None
    assert verdicts.recall(doc.stamp) is not None
    assert _entries() == [f"{doc.stamp.dev}-{doc.stamp.inode}"]
    assert QuantizeDocument.open(model, full=False).scan.verified  # the next edit trusts it


def test_a_verdict_of_another_version_of_quanted_is_not_used(model, monkeypatch):
    doc = QuantizeDocument.open(model)
    assert doc.stamp is not None
    monkeypatch.setattr(verdicts, "_VERSION", "quanted-verdict 99 9.9")
    assert verdicts.recall(doc.stamp) is None
    assert not QuantizeDocument.open(model, full=False).scan.verified


def test_the_verdict_cache_keeps_its_newest_entries(model, monkeypatch):
    monkeypatch.setattr(verdicts, "MAX_ENTRIES", 5)
    scan = QuantizeDocument.open(model).scan
    stamps = [DiskStamp(1, inode, 10, 20, 30) for inode in range(1000, 1008)]
    for number, stamp in enumerate(stamps):
        verdicts.record(stamp, scan)
        entry = verdicts._entry(stamp)
        os.utime(entry, ns=(number * 10**9, number * 10**9))  # ages in order
    assert len(_entries()) == 5
    assert verdicts.recall(stamps[-1]) is not None
    assert verdicts.recall(stamps[0]) is None
