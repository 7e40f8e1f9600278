"""Which files the full scan has passed, by their stat: a later open for an edit trusts it.

An entry is named by the file's device and inode and holds (device, inode, size, mtime_ns,
ctime_ns). Any write to the file changes its ctime, which no tool can set back, so a file
edited by anything else (or replaced by a rename) is scanned again. The entries live in the
user's cache folder; a cache that cannot be read or written only costs a scan.
"""

from __future__ import annotations

import os
from pathlib import Path


def _folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "quanted" / "scanned"


def _entry(st: os.stat_result) -> Path:
    return _folder() / f"{st.st_dev}-{st.st_ino}"


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def passed(path: Path, st: os.stat_result) -> bool:
    """True when the full scan passed this very version of the file."""
    try:
        return _entry(st).read_text() == _stamp(st)
    except (OSError, ValueError):
        return False


def record(path: Path) -> None:
    """The file as it is now on disk passed the full scan (just verified, or just written
    from a verified file)."""
    try:
        st = path.stat()
        entry = _entry(st)
        entry.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed: a reader never sees half an entry (no tempfile module:
        # its imports cost more than the rest of this file).
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        tmp.write_text(_stamp(st))
        os.rename(tmp, entry)  # atomic on POSIX; the cache never needs os.replace's Windows case
    except OSError:
        pass
