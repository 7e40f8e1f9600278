"""The exact empty-block header a file had (`customized_quantize_layers: {}  # none yet`, a
bare `customized_quantize_layers:`, `{ }`), kept in `.quanted/` while the block has entries,
so removing the last layer gives back the original bytes even in a later process. The
engine's own form (`customized_quantize_layers: {}`) needs no record."""

from __future__ import annotations

import os
from pathlib import Path

from quanted.core.format import block
from quanted.core.errors import ReadError
from quanted.core.state.inprogress import STATE_DIR

_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _name(path: Path) -> str:
    return f"empty-header.{path.name}"


def remember(path: Path, header: str) -> None:
    """Record `header` when quanted would not write it back by itself (best effort: an
    unwritable folder only costs the exact empty form)."""
    if block.default_empty(block.with_entries(header)) == header:
        return
    from quanted.core.state.history import open_dir

    try:
        with open_dir(path.parent, (STATE_DIR,), create=True) as fd:
            out = os.open(_name(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW,
                          0o666, dir_fd=fd)
            try:
                os.write(out, header.encode("utf-8"))
            finally:
                os.close(out)
    except (OSError, ReadError):
        pass


def recall(path: Path) -> str | None:
    """The recorded empty header of `path`, if one is there and still reads as a header."""
    if not (path.parent / STATE_DIR).is_dir():
        return None
    # Imported here: most files have no state folder, and every edit opens its file.
    from quanted.core.state.history import open_dir

    try:
        with open_dir(path.parent, (STATE_DIR,), create=False) as fd:
            if fd is None:
                return None
            handle = os.open(_name(path), os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW, dir_fd=fd)
            try:
                text = os.read(handle, 4096).decode("utf-8")
            finally:
                os.close(handle)
    except (OSError, ReadError, UnicodeDecodeError):
        return None
    if "\n" in text or "\r" in text or block.HEADER_RE.fullmatch(text) is None:
        return None
    return text
