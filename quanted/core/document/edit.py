"""One edit of a .quantize file on disk, whole: read, change, check, write. The CLI's `add` and
`remove` are each one call of edit_file; the editor keeps its document open and saves it
through the document (model.QuantizeDocument.save), which checks and writes the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from quanted.core.disk.files import check_regular, locked
from quanted.core.document.model import QuantizeDocument
from quanted.core.format import split_scan
from quanted.core.state import inprogress

_T = TypeVar("_T")


def edit_file(path: Path, change: Callable[[QuantizeDocument], _T], *, force: bool = False,
              first: Callable[[], None] | None = None) -> _T:
    """`change(doc)` applied to the file at `path`, written if it changed anything; what it
    returns. Under the file's lock from before the read to the rename: a concurrent edit waits
    for this one, then builds on it, and none is lost. `first()` runs under the lock before
    the read (a pick of layers that reads the file itself and lets it go).

    Refused, nothing written: a file a killed engine run may have left (until the user
    chooses: `quanted recover`); a file the full scan rejects, whether or not `change` changed
    anything (exit 2); whatever `change` raises. `force`: write a read-only file too.

    The file is opened with the full scan, or an earlier run's verdict on this very version
    (core/disk/verdicts.py). A big file's scan has the front of its table checked by a child
    meanwhile (core/format/split_scan.py): `change` runs and the temp file is written before
    that answer is read, and the rename waits for it. Whatever the edit reports comes from a
    confirmed scan: the file's error before any of `change`'s; and when the front is not
    what the walk took it for, the edit is made again on the sequential scan."""
    check_regular(path, "a .quantize file")  # before a lock file is made beside it
    with locked(path):
        if inprogress.may_exist(path):
            from quanted.core.state import recovery  # only when a marker may be there

            recovery.refuse_if_interrupted(path)
        if first is not None:
            first()
        try:
            return _edit(path, change, force, confirm_later=True)
        except split_scan.FrontDisagrees:
            return _edit(path, change, force, confirm_later=False)


def _edit(path: Path, change: Callable[[QuantizeDocument], _T], force: bool,
          confirm_later: bool) -> _T:
    doc = QuantizeDocument.open(path, confirm_later=confirm_later)
    with doc.file_error_first():  # the file's error (or the redo) before change's own
        result = change(doc)
    if doc.is_modified:
        doc.save(force=force)
    else:
        doc.verify()
    return result
