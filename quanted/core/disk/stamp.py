"""One version of a file on disk, as its stat names it: the one reading of "the same version"
behind the read of a document (core/disk/files.py), the verdict cache (core/disk/verdicts.py)
and the changed-on-disk check (core/document/model.py).

A stamp only ever describes bytes someone read or wrote: the stat taken just before a read
when it equals the one just after it, or a save's own temp file's. Not the whole stat:
reading a file moves its atime. ctime is in it because no writer can set it back (a same-size
change that puts the old mtime back still moves it).
"""

from __future__ import annotations

import os


class DiskStamp(tuple[int, int, int, int, int]):
    """(device, inode, size, mtime_ns, ctime_ns)."""

    __slots__ = ()

    def __new__(cls, dev: int, inode: int, size: int, mtime_ns: int,
                ctime_ns: int) -> DiskStamp:
        return tuple.__new__(cls, (dev, inode, size, mtime_ns, ctime_ns))

    @property
    def dev(self) -> int:
        return self[0]

    @property
    def inode(self) -> int:
        return self[1]

    @property
    def size(self) -> int:
        return self[2]

    @property
    def mtime_ns(self) -> int:
        return self[3]

    @property
    def ctime_ns(self) -> int:
        return self[4]

    @classmethod
    def of_stat(cls, st: os.stat_result) -> DiskStamp:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> DiskStamp:
        """The stamp of the file at `path` now (OSError when it cannot be stat'ed)."""
        return cls.of_stat(os.stat(path))

    def __repr__(self) -> str:
        return (f"DiskStamp(dev={self[0]}, inode={self[1]}, size={self[2]}, "
                f"mtime_ns={self[3]}, ctime_ns={self[4]})")


# Below this size a changed-on-disk check compares the bytes when the stamp moved: a file
# rewritten identically (pegasus may) is not a change.
SMALL_FILE = 4 * 1024 * 1024
