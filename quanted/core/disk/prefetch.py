"""A file read in a thread while the command that will read it is still being imported.

A cold `quanted add` of a 15 MB file spends ~20 ms importing its modules and then ~10 ms
reading the file (a copy out of the page cache into fresh pages), one after the other; the
read is a system call that leaves the GIL free, so it can run beside the imports on the
second core. The launcher (quanted/launch.py) starts it before importing anything else;
files.read_stamped takes the bytes when they are of the file as it is now: its stamp the same
before the early read, after it, and at the real read, so the bytes are those a read at that
moment would give, and that stamp names them. Anything else, or no early read, is an
ordinary read. Imports os, threading and core/disk/stamp.py only: it runs before everything.
"""

from __future__ import annotations

import os
import stat
import threading

from quanted.core.disk.stamp import DiskStamp

_Found = list[tuple[DiskStamp, bytes, DiskStamp]]
_early: dict[str, tuple[threading.Thread, _Found]] = {}


def _read(path: str, found: _Found) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):  # a FIFO or a device: the real read says why
            return
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read()
        found.append((DiskStamp.of_stat(before), data, DiskStamp.of_stat(os.fstat(fd))))
    except OSError:
        return
    finally:
        os.close(fd)


def start(path: str) -> None:
    """Read `path` in a thread, once."""
    path = os.path.normpath(path)
    if path in _early:
        return
    found: _Found = []
    reader = threading.Thread(target=_read, args=(path, found), name="quanted-prefetch",
                              daemon=True)
    reader.start()
    _early[path] = (reader, found)


def take(path: str) -> tuple[bytes, DiskStamp] | None:
    """The early read of `path` and its stamp, if one was started and the file is still as
    it read it (waiting for it to end); None otherwise. Once: a later read reads the file
    again."""
    entry = _early.pop(os.path.normpath(path), None)
    if entry is None:
        return None
    reader, found = entry
    reader.join()
    if not found:
        return None
    before, data, after = found[0]
    try:
        now = DiskStamp.of(path)
    except OSError:
        return None
    return (data, before) if before == after == now else None
