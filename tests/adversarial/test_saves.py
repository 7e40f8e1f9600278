"""Issue 11 items 5 and 10: saves write the file the user has (through links, keeping owner,
group, mode and hard links, or refusing), clean up after killed saves, print nothing when they
fail, and see same-size changes that kept the old mtime."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys

import pytest

from quanted.cli import main
from quanted.core.disk import files, saving
from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import FileChangedError
from tests.conftest import SAMPLE

LAYER = "Flatten_output_0_3"
NEW = "layer2/layer2.1/Add_output_0_12"


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "m_uint8.quantize"
    path.write_bytes((SAMPLE / "tinynet_uint8.quantize").read_bytes())
    return path


def test_a_symlinked_file_is_edited_through_its_link(sample, tmp_path):
    link = tmp_path / "link_uint8.quantize"
    link.symlink_to(sample)
    assert main(["add", str(link), NEW]) == 0
    assert link.is_symlink() and os.readlink(link) == str(sample)
    assert NEW in QuantizeDocument.open(sample).customized


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_owner_and_group_are_kept(sample):
    os.chown(sample, 4321, 8765)
    sample.chmod(0o640)
    assert main(["add", str(sample), NEW]) == 0
    st = sample.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4321, 8765, 0o640)


def test_an_owner_that_cannot_be_kept_is_refused(sample, monkeypatch, capsys):
    monkeypatch.setattr(saving, "_owner_of", lambda fd: (-7, -7))  # "someone else's file"

    def refuse(fd, uid, gid):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    before = sample.read_bytes()
    assert main(["add", str(sample), NEW]) == 1
    assert "quanted cannot keep its owner (nothing written)" in capsys.readouterr().err
    assert sample.read_bytes() == before
    assert files.stale_temps(sample) == []


def test_a_hard_linked_file_is_refused_not_split(sample, tmp_path, capsys):
    other = tmp_path / "other_name.quantize"
    os.link(sample, other)
    assert main(["add", str(sample), NEW]) == 1
    assert "has 2 hard links" in capsys.readouterr().err
    assert os.path.samefile(sample, other)
    assert NEW not in QuantizeDocument.open(other).customized


def test_a_read_only_file_needs_force_and_keeps_its_mode(sample, capsys):
    sample.chmod(0o444)
    before = sample.read_bytes()
    assert main(["add", str(sample), NEW]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "is read-only (mode 0444)" in err and "--force" in err
    assert sample.read_bytes() == before
    assert main(["add", str(sample), NEW, "--force"]) == 0
    assert stat.S_IMODE(sample.stat().st_mode) == 0o444
    assert NEW in QuantizeDocument.open(sample).customized


KILLED_SAVE = """
import os, sys
def die(*args):
    os.kill(os.getpid(), 9)  # killed between writing the temp file and the rename
os.replace = die
from quanted.cli import main
main(["add", sys.argv[1], sys.argv[2]])
"""


def test_a_killed_save_leaves_a_temp_file_the_next_open_removes(sample):
    before = sample.read_bytes()
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(sample), NEW], check=False)
    assert proc.returncode == -9
    assert len(files.stale_temps(sample)) == 1
    assert sample.read_bytes() == before  # never a mixed file
    QuantizeDocument.open(sample)
    assert files.stale_temps(sample) == []


def test_a_full_disk_prints_no_success(sample, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    assert main(["add", str(sample), NEW]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "No space left on device" in err
    assert files.stale_temps(sample) == []


def test_a_same_size_change_that_keeps_the_mtime_is_seen(sample):
    doc = QuantizeDocument.open(sample)
    doc.set_layer(NEW, "float16")
    st = sample.stat()
    data = sample.read_bytes()
    changed = data.replace(b"Flatten_output_0_3: dynamic_fixed_point-i16",
                           b"Flatten_output_0_3: dynamic_fixed_point-i8 ")
    assert len(changed) == len(data)
    with open(sample, "r+b") as handle:  # in place: same inode, same size
        handle.write(changed)
    os.utime(sample, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(FileChangedError):
        doc.save()
    assert sample.read_bytes() == changed


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_a_file_that_is_not_regular_is_exit_2_at_once(tmp_path, kind, capsys):
    if kind == "fifo":
        path = tmp_path / "pipe.quantize"
        os.mkfifo(path)  # nobody writes it: reading would hang forever
        what = "a FIFO (named pipe)"
    elif kind == "device":
        path = "/dev/zero"
        what = "a device"
    else:
        path = tmp_path
        what = "a directory"
    for command in (["layers"], ["check"], ["add"], ["remove"]):
        args = [*command, str(path)] + (["x"] if command[0] in ("add", "remove") else [])
        assert main(args) == 2
        assert f"is {what}, not a .quantize file" in capsys.readouterr().err
    assert main([str(path)]) == 2  # the editor refuses before it starts
    if kind == "fifo":
        assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.quantize"]  # no lock file
