"""The early read of the file a command will read: its bytes are used only when the file is
still as the early read found it; anything else is an ordinary read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quanted.core.disk import prefetch
from quanted.core.disk.files import read_bytes
from quanted.core.disk.stamp import DiskStamp
from tests.conftest import REPO
from tests.core.docs import v2_doc


@pytest.fixture(autouse=True)
def no_early_reads_left():
    yield
    prefetch._early.clear()


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc())
    return path


def test_the_early_read_is_taken_once_when_the_file_is_as_it_was(model):
    prefetch.start(str(model))
    early = prefetch.take(str(model))
    assert early is not None and early[0] == model.read_bytes()
    assert early[1] == DiskStamp.of(model)  # the stamp that names those bytes
    assert prefetch.take(str(model)) is None  # once: a later read reads the file again


def test_read_bytes_takes_it_under_another_spelling_of_the_path(model, monkeypatch):
    monkeypatch.chdir(model.parent)
    prefetch.start("./" + model.name)  # as typed; the command reads Path(it)
    prefetch._early[model.name][0].join()
    opened: list[object] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    assert read_bytes(Path(model.name)) == model.read_bytes()
    assert opened == []  # taken: the file was not opened again
    assert read_bytes(Path(model.name)) == model.read_bytes()
    assert opened == [Path(model.name)]  # once only


def test_a_file_changed_after_the_early_read_is_read_again(model):
    prefetch.start(str(model))
    prefetch._early[str(model)][0].join()
    model.write_text(v2_doc(layers=("a",)))  # another size: its stamp moved
    assert prefetch.take(str(model)) is None
    assert read_bytes(model) == v2_doc(layers=("a",)).encode()


def test_a_file_replaced_after_the_early_read_is_read_again(model, tmp_path):
    prefetch.start(str(model))
    prefetch._early[str(model)][0].join()
    other = tmp_path / "other"
    other.write_bytes(model.read_bytes().replace(b"c1_8", b"c9_8"))  # same size
    os.replace(other, model)  # another inode
    assert prefetch.take(str(model)) is None
    assert b"c9_8" in read_bytes(model)


def test_a_fifo_is_not_read_early(tmp_path):
    fifo = tmp_path / "pipe.quantize"
    os.mkfifo(fifo)
    prefetch.start(str(fifo))  # must not hang on the FIFO, nor hold bytes for it
    assert prefetch.take(str(fifo)) is None


def test_a_missing_file_has_no_early_read(tmp_path):
    prefetch.start(str(tmp_path / "nope.quantize"))
    assert prefetch.take(str(tmp_path / "nope.quantize")) is None


def test_the_command_reads_early_and_edits_as_ever(model, tmp_path):
    """`python -m quanted add` goes through the launcher: the early read is made and taken
    (one open of the file for reading it, the launcher's), and the edit is the same."""
    code = ("import os, sys\nfrom quanted.core.disk import prefetch\nreal = prefetch.take\n"
            "def take(path):\n    found = real(path)\n"
            "    print('early' if found is not None else 'late', file=sys.stderr)\n"
            "    return found\nprefetch.take = take\n"
            "sys.argv = ['quanted', 'add', sys.argv[1], 'c2_6']\n"
            "from quanted.launch import run\nrun()\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code, str(model)], cwd=REPO, env=env,
                          text=True, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "added c2_6: dynamic_fixed_point-i16\n"
    assert done.stderr.splitlines()[0] == "early"
    assert "  c2_6: dynamic_fixed_point-i16" in model.read_text()
