"""Which files the full scan has passed, by their stat: a later open for an edit trusts it.

An entry is the file's real path and (device, inode, size, mtime_ns, ctime_ns). Any write to
the file changes its ctime, which no tool can set back, so a file edited by anything else is
scanned again. The entries live in the user's cache folder; a cache that cannot be read or
written only costs a scan.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def _folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "quanted" / "scanned"


def _entry(path: Path) -> Path:
    return _folder() / hashlib.sha1(str(path.resolve()).encode()).hexdigest()


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def passed(path: Path, st: os.stat_result) -> bool:
    """True when the full scan passed this very version of the file."""
    try:
        return _entry(path).read_text() == _stamp(st)
    except (OSError, ValueError):
        return False


def record(path: Path) -> None:
    """The file as it is now on disk passed the full scan (just verified, or just written
    from a verified file)."""
    try:
        st = path.stat()
        folder = _folder()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "w") as handle:
            handle.write(_stamp(st))
        os.replace(tmp, _entry(path))
    except OSError:
        pass
