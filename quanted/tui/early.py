"""The first screen's rows, read by a child process while the editor imports Textual, or
for a small file at once, before the first frame.

Launch to first paint is CPU bound and, in one process, serial: importing Textual (a fifth of
a second) and then, in the loading thread, reading the entropy report, the fast open and the
preview (a tenth at 15 MB; the GIL keeps a thread from overlapping them). A fork started
before the import does that reading on the other core; the loading thread only unpickles the
120 rows it sends (loading.load). The rows are those tui/preview.py makes in the editor's own
process, from the same bytes; the editor still reads both files itself for the full rows.

No fork for small files (read when the screen mounts: quicker than a fork and a pickle, and
the first frame has the rows), nor for huge ones (the child's read would be done twice before
the full rows: the first paint meets its 2 s there anyway), nor where there is no fork.
Imports no Textual and no numpy.
"""

from __future__ import annotations

import gc
import os
import signal
from dataclasses import dataclass
from pathlib import Path

# Imported here, not in the child: a fork copies no other thread, so an import lock another
# thread held would never be let go (only a test's process has threads when it forks). The
# editor imports them before its first paint anyway.
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import read_for
from quanted.core.disk.files import read_bytes
from quanted.tui.preview import preview
from quanted.tui.row_view import RowView

FORK_FROM = 1 << 20  # .quantize bytes: below, the loading thread reads it as quickly
FORK_BELOW = 64 << 20


@dataclass
class FirstRows:
    model: RowView  # preview()'s rows
    saved: dict[str, str]  # the customized block as saved (the rows' layers)


@dataclass
class _Child:
    pid: int
    pipe: int  # read end: the pickled FirstRows, or nothing when the child failed


_started: dict[tuple[Path, Path | None], _Child] = {}
_shown: dict[tuple[Path, Path | None], FirstRows] = {}  # read by ready(), for take() to give


def first_rows(path: Path, entropy: Path | None) -> FirstRows | None:
    """What the child sends: the preview of `path` with its report (None without one).
    Built as the document's constructor builds it, without open()'s side effects (stale
    temporary files removed, the verdict cache): the editor's own open does those."""
    report, _ = read_for(path, entropy)
    if report is None:
        return None
    doc = QuantizeDocument(read_bytes(path), path, full=False)
    rows = preview(doc, report)
    saved = doc.saved_customized  # of its rows only: a big block would not fit the pipe at once
    return FirstRows(rows, {row.layer: saved[row.layer] for row in rows.rows
                            if row.layer in saved})


def start(path: Path, entropy: Path | None) -> None:
    """Fork the child that reads the first rows of `path`, when it pays (see the module)."""
    if not hasattr(os, "fork") or (path, entropy) in _started:
        return
    try:
        size = path.stat().st_size
    except OSError:
        return  # the editor's own open says what is wrong
    if not FORK_FROM <= size < FORK_BELOW:
        return
    import pickle  # before the fork (see the imports above); only when a child will send

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never prints (the terminal is the editor's)
        status = 1
        try:
            os.close(read_end)
            gc.disable()  # it exits after: a collection would only cost time
            rows = first_rows(path, entropy)
            if rows is not None:
                with os.fdopen(write_end, "wb") as pipe:
                    pickle.dump(rows, pipe, pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)  # no atexit handlers, no flush of the parent's buffers
    os.close(write_end)
    _started[(path, entropy)] = _Child(pid, read_end)


def ready(path: Path, entropy: Path | None) -> FirstRows | None:
    """The first rows when they can be had at once, else None: the child's when they are in
    (never waiting for them), a small file's read here (milliseconds). The screen asks before
    its first frame, which then shows them rather than the placeholder and a second frame."""
    child = _started.get((path, entropy))
    if child is None:
        rows = _small(path, entropy)
    else:
        import select

        readable, _, _ = select.select([child.pipe], [], [], 0)
        if not readable:
            return None
        rows = take(path, entropy)  # all sent once any is: one write of a few kilobytes
    if rows is not None:
        _shown[(path, entropy)] = rows
    return rows


def _small(path: Path, entropy: Path | None) -> FirstRows | None:
    """first_rows of a file below FORK_FROM, or None (a bigger one, or any failure: the
    loading thread reads it again and says what is wrong)."""
    try:
        return first_rows(path, entropy) if path.stat().st_size < FORK_FROM else None
    except Exception:  # noqa: BLE001 - on the screen's mount: an error here would end the app
        return None


def take(path: Path, entropy: Path | None) -> FirstRows | None:
    """The child's rows for `path` (waiting for them), or None when no child was started
    for it or it failed (the loading thread then reads them itself and says what failed).
    Rows ready() gave are given again: the loading thread waits until they are painted."""
    shown = _shown.pop((path, entropy), None)
    if shown is not None:
        return shown
    child = _started.pop((path, entropy), None)
    if child is None:
        return None
    import pickle  # imported already by start()

    try:
        with os.fdopen(child.pipe, "rb") as pipe:
            data = pipe.read()
    finally:
        os.waitpid(child.pid, 0)
    try:
        rows = pickle.loads(data) if data else None
    except Exception:  # noqa: BLE001 - cut short (the child was killed): read them here
        return None
    return rows if isinstance(rows, FirstRows) else None


def discard() -> None:
    """Reap the children whose rows nobody took (the editor closed first, or a test's app)."""
    _shown.clear()
    while _started:
        _, child = _started.popitem()
        os.close(child.pipe)
        os.kill(child.pid, signal.SIGKILL)  # not reaped yet: the pid is still the child's
        os.waitpid(child.pid, 0)
