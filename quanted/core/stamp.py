"""What a file on disk looked like when it was read or last saved: enough to tell that it
changed since (core/document.py's changed-on-disk check, core/kernel_copy.py's copy)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple


class DiskStamp(NamedTuple):
    """What the file on disk looked like when it was read or last saved."""

    size: int
    mtime_ns: int
    inode: int
    # ctime cannot be set back by a writer: a same-size in-place change that restores the
    # old mtime still moves it.
    ctime_ns: int = 0

    @classmethod
    def of(cls, path: Path) -> DiskStamp:
        return cls.of_stat(path.stat())

    @classmethod
    def of_stat(cls, st: os.stat_result) -> DiskStamp:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


# Below this size a changed-on-disk check compares the bytes even when the stamp agrees.
SMALL_FILE = 4 * 1024 * 1024
