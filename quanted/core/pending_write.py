"""A save's temp file written while the caller still checks that it may replace the file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from quanted.core.files import replace_temp, unlink_temp, write_temp
from quanted.core.kernel_copy import Unchanged


class PendingWrite:
    """A save's temp file written in a thread while the caller decides whether it may replace
    the file (the full scan of a first edit): `commit()` renames it over the file, or raises
    what writing it raised; `abandon()` removes it. The caller holds the file's lock.
    The thread spends its time in system calls (write, fsync), which leave the GIL free."""

    def __init__(self, target: Path, data: bytes | list[bytes | memoryview], force: bool,
                 unchanged: Unchanged | None = None):
        self._target = target
        self._written: tuple[str, Path] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(data, force, unchanged),
                                        name="quanted-save", daemon=True)
        self._thread.start()

    def _run(self, data: bytes | list[bytes | memoryview], force: bool,
             unchanged: Unchanged | None) -> None:
        try:
            self._written = write_temp(self._target, data, force, unchanged)
        except BaseException as exc:  # handed to the caller by commit()
            self._error = exc

    def commit(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._written is not None
        replace_temp(*self._written, self._target)

    def abandon(self) -> None:
        self._thread.join()
        if self._written is not None:
            unlink_temp(self._written[0])
            self._written = None


def write_while(target: Path, data: list[bytes | memoryview], force: bool,
                check: Callable[[], None], unchanged: Unchanged | None = None) -> None:
    """Write `data` over `target` (as files.atomic_write, under the caller's lock) while
    `check()` runs; the file is replaced only if it returns, and left as it was (no temp file
    beside it) if it raises. The check's error comes before any error of the write."""
    pending = PendingWrite(target, data, force, unchanged)
    try:
        check()
    except BaseException:
        pending.abandon()
        raise
    pending.commit()
