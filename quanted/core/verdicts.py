"""Which files the full scan has passed, by their stat: a later open trusts it, and its index.

An entry is named by the file's device and inode and holds (device, inode, size, mtime_ns,
ctime_ns), then the scan's index (the top-level entries' offsets, the indents, the newline):
a few hundred bytes that spare the next open every pass over the file. Any write to the
file changes its ctime, which no tool can set back, so a file edited by anything else (or
replaced by a rename) is scanned again. The entries live in the user's cache folder; a
cache that cannot be read or written only costs a scan. Its lines are tab-separated, not
JSON: importing json is a millisecond of every first add; a file quanted reads has no tab.
"""

from __future__ import annotations

import os
from pathlib import Path

from quanted.core.walker import Scan, TopLevel


def _folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "quanted" / "scanned"


def _entry(st: os.stat_result) -> Path:
    return _folder() / f"{st.st_dev}-{st.st_ino}"


def stamp(st: os.stat_result) -> str:
    """What names one version of a file. Not the whole stat: reading the file moves its
    atime, and the open compares a stat from before the read with one from after."""
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def same(before: os.stat_result | None, after: os.stat_result | None) -> bool:
    """Both stats name the same version of a file (one from before a read, one from after)."""
    return before is not None and after is not None and stamp(before) == stamp(after)


def stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def recall(st: os.stat_result) -> Scan | None:
    """The full scan's index of this very version of the file, when the scan passed it
    (its `data` still empty: the caller reads the file and checks it fits)."""
    try:
        head, _, body = _entry(st).read_text().partition("\n")
        if head != stamp(st):
            return None
        layout, *lines = body.split("\n")
        key_indent, field_indent, newline, legacy, double_quoted = layout.split("\t")
        entries = {}
        for line in lines:
            key, start, body_start, end, value = line.split("\t")
            entries[key] = TopLevel(key, int(start), int(body_start), int(end), value)
        return Scan(
            data=b"", entries=entries, key_indent=int(key_indent),
            field_indent=int(field_indent), newline=_NEWLINES[newline], legacy=legacy == "1",
            double_quoted_keys=_FLAGS[double_quoted], verified=True,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


_NEWLINES = {"lf": "\n", "crlf": "\r\n"}
_FLAGS = {"1": True, "0": False, "-": None}
_NEWLINE_NAMES = {v: k for k, v in _NEWLINES.items()}
_FLAG_NAMES = {v: k for k, v in _FLAGS.items()}


def fits(scan: Scan, data: bytes) -> bool:
    """A cheap look that a recalled index belongs to these bytes: each top-level key is where
    it says (belt and braces; the stamp already names the version)."""
    if not scan.entries or max(e.end for e in scan.entries.values()) > len(data):
        return False
    return all(
        (e.start <= 3 or data[e.start - 1 : e.start] == b"\n")
        and data[e.start : e.body_start].decode("utf-8", "replace").lstrip("\ufeff")
        .startswith(key)
        for key, e in scan.entries.items()
    )


def record(path: Path, scan: Scan) -> None:
    """The file as it is now on disk passed the full scan, and `scan` is its index."""
    try:
        st = path.stat()
        entry = _entry(st)
        entry.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{scan.key_indent}\t{scan.field_indent}\t{_NEWLINE_NAMES[scan.newline]}"
                 f"\t{_FLAG_NAMES[scan.legacy]}\t{_FLAG_NAMES[scan.double_quoted_keys]}"]
        lines += [f"{e.key}\t{e.start}\t{e.body_start}\t{e.end}\t{e.value}"
                  for e in scan.entries.values()]
        if any(set(line) & {"\n", "\r"} or line.count("\t") != 4 for line in lines):
            return  # a key quanted cannot write down: no verdict (a scan the next time)
        body = "\n".join(lines)
        # Written beside and renamed: a reader never sees half an entry (no tempfile module:
        # its imports cost more than the rest of this file).
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{stamp(st)}\n{body}")
        os.rename(tmp, entry)  # atomic on POSIX; the cache never needs os.replace's Windows case
    except OSError:
        pass
