"""Which versions of files the full scan has passed, by their stamp: a later open trusts it,
and its index.

An entry is named by the file's device and inode and holds a version key (this format and
quanted's version: another quanted's verdicts are not read), the stamp (core/disk/stamp.py) of the
very bytes the scan passed, never a stat taken later, then the scan's index (the top-level
entries' offsets, the indents, the newline): a few hundred bytes that spare the next open
every pass over the file. Any write to the file changes its ctime, which no tool can set
back, so a file edited by anything else (or replaced by a rename) is scanned again. A save
forgets the version it replaced, and the folder keeps the MAX_ENTRIES newest entries. The
entries live in the user's cache folder; a cache that cannot be read or written only costs a
scan. Its lines are tab-separated, not JSON: importing json is a millisecond of every first
add; a file quanted reads has no tab.
"""

from __future__ import annotations

import os
from pathlib import Path

from quanted import __version__
from quanted.core.disk.stamp import DiskStamp
from quanted.core.format.walker import Scan, TopLevel

# Bumped whenever what the scan passes, or this file's layout, changes.
_FORMAT = 2
_VERSION = f"quanted-verdict {_FORMAT} {__version__}"
MAX_ENTRIES = 64


def _folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "quanted" / "scanned"


def _entry(stamp: DiskStamp) -> Path:
    return _folder() / f"{stamp.dev}-{stamp.inode}"


def _head(stamp: DiskStamp) -> str:
    return f"{_VERSION}\t{' '.join(map(str, stamp))}"


def recall(stamp: DiskStamp) -> Scan | None:
    """The full scan's index of the version of a file `stamp` names, when the scan passed it
    (its `data` still empty: the caller checks it fits the bytes it read)."""
    try:
        head, _, body = _entry(stamp).read_text().partition("\n")
        if head != _head(stamp):
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


def record(stamp: DiskStamp, scan: Scan) -> None:
    """The full scan passed the bytes `stamp` names, and `scan` is their index."""
    if not scan.verified or scan.refusals:
        return  # a file the engine refuses is scanned again: the refusal is found again
    try:
        entry = _entry(stamp)
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
        tmp.write_text(f"{_head(stamp)}\n{body}")
        os.rename(tmp, entry)  # atomic on POSIX; the cache never needs os.replace's Windows case
        _prune(entry.parent)
    except OSError:
        pass


def forget(stamp: DiskStamp) -> None:
    """The version `stamp` names is gone (a save replaced it): its entry goes too."""
    try:
        os.unlink(_entry(stamp))
    except OSError:
        pass


def _prune(folder: Path) -> None:
    """The MAX_ENTRIES newest entries stay (one per file quanted saved or scanned lately)."""
    with os.scandir(folder) as found:
        entries = [e for e in found if not e.name.startswith(".")]
    if len(entries) <= MAX_ENTRIES:
        return
    aged = []
    for entry in entries:
        try:
            aged.append((entry.stat().st_mtime_ns, entry.path))
        except OSError:
            continue
    for _, path in sorted(aged)[: len(aged) - MAX_ENTRIES]:
        try:
            os.unlink(path)
        except OSError:
            pass
