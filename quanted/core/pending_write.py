"""A save's temp file written while the caller still checks that it may replace the file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from quanted.core.files import unlink_temp
from quanted.core.kernel_copy import Unchanged
from quanted.core.saving import Temp, fill_temp, open_temp, replace_temp


class PendingWrite:
    """A save's temp file written in a thread while the caller decides whether it may replace
    the file (the full scan of a first edit): `commit()` renames it over the file, or raises
    what writing it raised; `abandon()` removes it. The caller holds the file's lock.
    The checks and the temp file's creation run here, in the caller's thread; the thread
    only makes system calls (write, fsync), which leave the GIL free: Python code in it
    would wait out a switch interval (5 ms) each time the caller's scan holds the GIL."""

    def __init__(self, target: Path, data: bytes | list[bytes | memoryview], force: bool,
                 unchanged: Unchanged | None = None):
        self._target = target
        self._written: tuple[str, Path] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        try:
            temp = open_temp(target, force)
        except BaseException as exc:  # handed to the caller by commit(), after its check
            self._error = exc
            return
        self._thread = threading.Thread(target=self._run, args=(temp, data, unchanged),
                                        name="quanted-save", daemon=True)
        self._thread.start()

    def _run(self, temp: Temp, data: bytes | list[bytes | memoryview],
             unchanged: Unchanged | None) -> None:
        try:
            fill_temp(temp, data, self._target, unchanged)
            self._written = (temp.path, temp.real)
        except BaseException as exc:  # handed to the caller by commit()
            self._error = exc

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def commit(self) -> None:
        self._join()
        if self._error is not None:
            raise self._error
        assert self._written is not None
        replace_temp(*self._written, self._target)

    def abandon(self) -> None:
        self._join()
        if self._written is not None:
            unlink_temp(self._written[0])
            self._written = None


def write_while(target: Path, data: list[bytes | memoryview], force: bool,
                check: Callable[[], None], unchanged: Unchanged | None = None) -> None:
    """Write `data` over `target` (as saving.atomic_write, under the caller's lock) while
    `check()` runs; the file is replaced only if it returns, and left as it was (no temp file
    beside it) if it raises. The check's error comes before any error of the write."""
    pending = PendingWrite(target, data, force, unchanged)
    try:
        check()
    except BaseException:
        pending.abandon()
        raise
    pending.commit()
