"""The back part of the tensor table checked by a forked child while this process indexes the
file, makes the edit and checks the front: the full scan is most of a first edit of a 15 MB
file, and the machine has a second core.

Forked as soon as the bytes are read (the child guesses the table's layout from the
`quantize_parameters:` line the way the walker reads it), the child computes what the walk
needs from its part, a pure function of the bytes: where the walker's fast regex stops when
started at `cut` (a tensor key line). It reports it through a pipe; the walker uses it only
where it would compute the very same value itself (walker.Walker._fast_end: same bytes, same
pattern), so the verdict and its message are the sequential scan's. A child that fails in
any way (no fork, killed, a short report, a wrong guess) only means this process computes it
itself. The child is always reaped, and never outlives a stopped parent by more than its part
of the scan (its SIGINT/SIGTERM/SIGHUP are the default: it just dies).
"""

from __future__ import annotations

import os
import re
import signal
import threading

from quanted.core.format.walker import fast_body_re, first_field_indent, newline_of

# Below this a file is scanned faster than a process is forked and reaped.
MIN_SIZE = 4 << 20
# Where the table is cut: this process also indexes the file (2 ms at 15 MB since the index
# guesses the table's end; 12 ms before, when 0.33 was right), makes the edit (3-4 ms) and
# runs the save's writer thread, the child only scans (the table: 46 ms). Measured at 15 MB,
# load 1.6: this process waited for the child 19.5 ms at 0.33, 10.5 at 0.42, none at 0.5,
# the whole edit the same (the writer's fsync ends it); at load 3.4 0.33 was 30 ms slower.
_SHARE = 0.42
_STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
_REPORT = 8  # a signed 8-byte offset
_HEADER = b"quantize_parameters:"


class ChildScan:
    """A forked child scanning `data` from `cut`; `fast_end()` is its answer (computed here
    when it has none). `close()` reaps it, always."""

    def __init__(self, data: bytes, pattern: re.Pattern[bytes], cut: int) -> None:
        self.data, self.pattern, self.cut = data, pattern, cut
        self._answer: int | None = None
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
                os.write(write_fd, self._compute().to_bytes(_REPORT, "little", signed=True))
                code = 0
            finally:
                os._exit(code)  # never back into the parent's code, its buffers or atexit
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(write_fd)
        if pid < 0:
            os.close(read_fd)
        else:
            self._pid, self._read_fd = pid, read_fd

    def _compute(self) -> int:
        return self.pattern.match(self.data, self.cut).end()  # type: ignore[union-attr]

    def fast_end(self) -> int:
        """pattern.match(data, cut).end()."""
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
                self._answer = int.from_bytes(report, "little", signed=True)
            self.close()
            if self._answer is None:
                self._answer = self._compute()
        return self._answer

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


def start(data: bytes) -> ChildScan | None:
    """A child scanning the back of the table of `data`, or None when it would not pay (a
    small file), cannot be guessed, or is not safe: fork() with other threads running may
    leave the child a lock that no one will ever release."""
    if len(data) < MIN_SIZE or not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    at = 0 if data.startswith(_HEADER) else data.find(b"\n" + _HEADER) + 1
    body = data.find(b"\n", at) + 1
    if (at == 0 and not data.startswith(_HEADER)) or body <= 0:
        return None
    if data[at + len(_HEADER) : body].strip():  # `quantize_parameters: {}`: no table
        return None
    ki, fi = first_field_indent(data, body)
    newline = newline_of(data)
    cut = data.find(b"\n" + b" " * ki + b"'", body + int((len(data) - body) * _SHARE)) + 1
    if cut <= 0:
        return None
    return ChildScan(data, fast_body_re(ki, fi, newline), cut)
