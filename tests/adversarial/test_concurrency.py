"""Issue 11 item 1: concurrent writers of one file. Real processes, no timing guesses: every
writer either lands its edit or fails loudly; none is lost."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from quanted.cli import main
from quanted.core.disk import files
from quanted.core.document.model import QuantizeDocument
from quanted.core.disk.files import FileLockedError
from tests.conftest import SAMPLE

PAIRS = 50
QUANTIZE = SAMPLE / "tinynet_uint8.quantize"


def _layers() -> list[str]:
    doc = QuantizeDocument.open(QUANTIZE)
    return [layer for layer in doc.layer_ids if layer not in doc.customized]


def _add(path, layer) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "quanted", "add", str(path), layer],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_fifty_concurrent_add_pairs_lose_no_edit(tmp_path):
    free = _layers()
    assert len(free) >= 2
    lost, refused, landed = [], 0, 0
    for i in range(PAIRS):
        path = tmp_path / f"pair{i}_uint8.quantize"
        path.write_bytes(QUANTIZE.read_bytes())
        first, second = free[i % len(free)], free[(i + 1) % len(free)]
        procs = [(_add(path, first), first), (_add(path, second), second)]
        customized = None
        for proc, layer in procs:
            out, err = proc.communicate()
            assert proc.returncode in (0, 1), err
            if proc.returncode == 1:
                assert "is being changed by another quanted (pid " in err, err
                refused += 1
                continue
            customized = QuantizeDocument.open(path).customized
            landed += 1
            assert f"added {layer}" in out
        customized = QuantizeDocument.open(path).customized
        for proc, layer in procs:
            if proc.returncode == 0 and layer not in customized:
                lost.append((i, layer))
    assert lost == []
    assert landed + refused == 2 * PAIRS
    assert landed >= PAIRS  # at worst one of each pair waited too long and said so


HOLDER = """
import sys
from pathlib import Path
from quanted.core.disk.files import locked
with locked(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def held(tmp_path):
    """The sample copy, with its lock held by another process until the test ends."""
    path = tmp_path / "m_uint8.quantize"
    path.write_bytes(QUANTIZE.read_bytes())
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    yield path, proc.pid
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait()


def test_a_second_writer_fails_loudly_naming_the_holder(held, monkeypatch, capsys):
    path, pid = held
    monkeypatch.setattr(files, "LOCK_WAIT_S", 0.0)
    before = path.read_bytes()
    assert main(["add", str(path), _layers()[0]]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == (f"quanted: error: {path}: is being changed by another quanted "
                           f"(pid {pid}); try again when it is done")
    assert path.read_bytes() == before


def test_an_editor_save_meets_the_same_lock(held, monkeypatch):
    path, pid = held
    monkeypatch.setattr(files, "LOCK_WAIT_S", 0.0)
    doc = QuantizeDocument.open(path)
    doc.set_layer(_layers()[0], "float16")
    with pytest.raises(FileLockedError, match=f"pid {pid}"):
        doc.save()
    assert doc.is_modified  # nothing lost: the edit is still there to save later


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "m_uint8.quantize"
    path.write_bytes(QUANTIZE.read_bytes())
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    assert files.is_locked_elsewhere(path)
    proc.kill()
    proc.wait()
    assert not files.is_locked_elsewhere(path)
    assert main(["add", str(path), _layers()[0]]) == 0


def test_the_lock_file_is_never_followed_through_a_link(tmp_path, capsys):
    path = tmp_path / "m_uint8.quantize"
    path.write_bytes(QUANTIZE.read_bytes())
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.symlink(victim, files.lock_path(path))
    assert main(["add", str(path), _layers()[0]]) == 1
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "keep"
