"""The back part of the tensor table checked by a forked child while this process checks the
front: the full scan is most of a first edit of a 15 MB file, and the machine has a second core.

The child computes the two things the walk needs from its part, both pure functions of the
bytes: where the walker's fast regex stops when started at `cut` (a tensor key line), and the
first fieldless tensor at or after `cut`. It reports the two offsets through a pipe; the
walker uses them exactly where it would compute them itself (walker.Walker._fast_end,
walker._check_tensors_have_fields), so the verdict and its message are the sequential scan's.
A child that fails in any way (no fork, killed, a short report) only means this process
computes them itself. The child is always reaped, and never outlives a stopped parent by more
than its part of the regex (its SIGINT/SIGTERM/SIGHUP are the default: it just dies).
"""

from __future__ import annotations

import os
import re
import signal
import threading

from quanted.core.walker import QUANTIZE_PARAMETERS, Scan, fast_body_re, fieldless_re

# Below this a table is scanned faster than a process is forked and reaped.
MIN_TABLE = 4 << 20
# Where the table is cut: this process also runs the save's writer thread, the child only scans.
_SHARE = 0.45
_STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
_REPORT = 16  # two signed 8-byte offsets


class ChildScan:
    """A forked child scanning the table from `cut`; `fast_end()` and `first_fieldless()` are
    its answers (computed here when it has none). `close()` reaps it, always."""

    def __init__(self, data: bytes, pattern: re.Pattern[bytes], fieldless: re.Pattern[bytes],
                 cut: int, search_end: int) -> None:
        self.data, self.pattern, self.fieldless = data, pattern, fieldless
        self.cut, self.search_end = cut, search_end
        self._answer: tuple[int, int] | None = None
        self._pid = 0
        self._read_fd = -1
        self._fork()

    def _fork(self) -> None:
        read_fd, write_fd = os.pipe()
        # Blocked from before the fork until the child has its default handlers: a Ctrl-C in
        # between must never run this program's handlers (and code) in the child.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            code = 1
            try:
                os.close(read_fd)
                for sig in _STOPPING:
                    signal.signal(sig, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                end, first = self._compute()
                os.write(write_fd, end.to_bytes(8, "little", signed=True)
                         + first.to_bytes(8, "little", signed=True))
                code = 0
            finally:
                os._exit(code)  # never back into the parent's code, its buffers or atexit
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(write_fd)
        if pid < 0:
            os.close(read_fd)
        else:
            self._pid, self._read_fd = pid, read_fd

    def _compute(self) -> tuple[int, int]:
        end = self.pattern.match(self.data, self.cut).end()  # type: ignore[union-attr]
        found = self.fieldless.search(self.data, self.cut, self.search_end)
        return end, -1 if found is None else found.start()

    def _answers(self) -> tuple[int, int]:
        if self._answer is None:
            report = b""
            if self._read_fd >= 0:
                try:
                    while len(report) < _REPORT:
                        chunk = os.read(self._read_fd, _REPORT - len(report))
                        if not chunk:
                            break
                        report += chunk
                except OSError:
                    report = b""
            if len(report) == _REPORT:
                self._answer = (int.from_bytes(report[:8], "little", signed=True),
                                int.from_bytes(report[8:], "little", signed=True))
            self.close()
            if self._answer is None:
                self._answer = self._compute()
        return self._answer

    def fast_end(self) -> int:
        """pattern.match(data, cut).end()."""
        return self._answers()[0]

    def first_fieldless(self) -> int:
        """fieldless.search(data, cut, search_end).start(), or -1."""
        return self._answers()[1]

    def close(self) -> None:
        """Reap the child (killed first unless it has reported); idempotent."""
        if self._read_fd >= 0:
            os.close(self._read_fd)
            self._read_fd = -1
        if self._pid > 0:
            pid, self._pid = self._pid, 0
            if self._answer is None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def start(index: Scan) -> ChildScan | None:
    """A helper for the full scan of the bytes `index` (the fast index) was read from, or None
    when it would not pay (a small table) or is not safe: fork() with other threads running
    may leave the child a lock that no one will ever release."""
    params = index.entries.get(QUANTIZE_PARAMETERS)
    if (params is None or params.end - params.body_start < MIN_TABLE
            or not hasattr(os, "fork") or threading.active_count() > 1):
        return None
    data, ki = index.data, index.key_indent
    at = params.body_start + int((params.end - params.body_start) * _SHARE)
    cut = data.find(b"\n" + b" " * ki + b"'", at, params.end) + 1
    if cut <= 0:
        return None
    return ChildScan(data, fast_body_re(ki, index.field_indent, index.newline),
                       fieldless_re(ki), cut, params.end + 1)
