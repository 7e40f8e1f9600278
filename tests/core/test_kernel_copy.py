"""A big file's save copies the bytes around the block from the file (copy_file_range) only
while the file is as it was read, and was already settled when the read began (its ctime
SETTLED_NS old: a change within one clock tick of the read leaves the stamp as it was);
otherwise every byte comes from memory, as before."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from quanted.core import document, kernel_copy
from quanted.core.document import QuantizeDocument
from quanted.core.saving import write_temp
from quanted.core.stamp import SMALL_FILE, DiskStamp
from tests.core.docs import v2_doc

pytestmark = pytest.mark.skipif(not hasattr(os, "copy_file_range"), reason="no copy_file_range")


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.quantize"
    path.write_text(v2_doc(layers=[f"l{i}" for i in range(12_000)],
                           customized="customized_quantize_layers:\n  l1: float16\n"))
    assert path.stat().st_size > SMALL_FILE
    return path


@pytest.fixture
def settled(monkeypatch):
    """Documents read from now on began their read long after the file's last change (a
    clock SETTLED_NS ahead, for the document only)."""
    ahead = SimpleNamespace(time_ns=lambda: time.time_ns() + 2 * kernel_copy.SETTLED_NS)
    monkeypatch.setattr(document, "time", ahead)


def _spied(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    answers: list[bool] = []
    real = kernel_copy.copied

    def spy(*args: object) -> bool:
        answers.append(real(*args))  # type: ignore[arg-type]
        return answers[-1]

    monkeypatch.setattr("quanted.core.saving.copied", spy)
    return answers


@pytest.mark.parametrize("verified", [True, False])
def test_a_big_save_copies_around_the_block_and_writes_the_same_bytes(big, monkeypatch,
                                                                       settled, verified):
    answers = _spied(monkeypatch)
    doc = QuantizeDocument.open(big, full=verified)
    doc.set_layers(dict.fromkeys([f"l{i}" for i in range(0, 12_000, 3)], "float16"))
    expected = doc.to_bytes()
    doc.save()
    assert answers == [True]
    assert big.read_bytes() == expected
    # The file this save wrote may change within the tick its stamp cannot see: the next
    # save writes from memory (no copy tried).
    doc.set_layer("l2", "bfloat16")
    expected = doc.to_bytes()
    doc.save()
    assert answers == [True]
    assert big.read_bytes() == expected == QuantizeDocument.open(big).to_bytes()


def test_a_file_written_just_before_it_was_read_is_written_from_memory(big, monkeypatch):
    answers = _spied(monkeypatch)
    doc = QuantizeDocument.open(big)  # the fixture wrote it a moment ago
    doc.set_layer("l5", "float16")
    expected = doc.to_bytes()
    doc.save()
    assert answers == [False]
    assert big.read_bytes() == expected


def test_a_file_changed_since_it_was_read_is_written_from_memory(big, monkeypatch, settled):
    answers = _spied(monkeypatch)
    doc = QuantizeDocument.open(big)
    doc.set_layer("l5", "float16")
    expected = doc.to_bytes()
    stamp = doc.stamp
    assert stamp is not None
    # Another program rewrote it in place, same size, another mtime: the copy would take its
    # bytes, not the ones this document holds.
    with open(big, "r+b") as handle:
        handle.write(b"#")
    os.utime(big, ns=(stamp.mtime_ns + 10**9, stamp.mtime_ns + 10**9))
    doc.save(overwrite=True)
    assert answers == [False]
    assert big.read_bytes() == expected


def test_a_write_during_the_copy_leaves_the_copy_unused(big, monkeypatch):
    doc = QuantizeDocument.open(big)
    doc.set_layer("l5", "float16")
    chunks = doc._chunks()
    real = kernel_copy._copy

    def meddling(source: int, out: int, at: int, to: int, count: int) -> None:
        real(source, out, at, to, count)
        if at == 0:  # after the first part: another program writes to the file
            stamp = DiskStamp.of(big)
            os.utime(big, ns=(stamp.mtime_ns + 10**9, stamp.mtime_ns + 10**9))

    monkeypatch.setattr(kernel_copy, "_copy", meddling)
    assert doc.stamp is not None and doc.path is not None
    same = kernel_copy.Unchanged(doc.path, doc.stamp, *doc._block_span,
                                 doc.stamp.ctime_ns + 2 * kernel_copy.SETTLED_NS)
    fd = os.open(big.parent / "out", os.O_RDWR | os.O_CREAT)
    try:
        assert not kernel_copy.copied(fd, chunks, same)
        assert os.fstat(fd).st_size == 0  # left empty for the caller to write
    finally:
        os.close(fd)
    tmp, _ = write_temp(big, chunks, False, same)
    assert Path(tmp).read_bytes() == b"".join(chunks)
    os.unlink(tmp)
