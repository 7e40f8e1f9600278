"""The full scan on two cores: a forked child checks the back of the tensor table while this
process checks the rest. The full scan is most of a first edit of a big file (15 MB: 56 of
its milliseconds, all of them in one regex match; docs/format.md section 6), and sre holds
the GIL, so a second core helps only through a second process.

What the child computes is a pure function of the bytes: where the walker's fast regex
stops when started at `cut`, a tensor key line. The walker takes that answer only where it
would compute the very same value (walker.Walker._fast_end: same bytes object, same regex,
its own run reaching the cut exactly), so the verdict, the index and every error message are
the sequential scan's (tests/core/test_split_scan.py cuts at every key line). A child that
fails in any way (no fork, killed, a short report) only means this process does that part
itself. The child is always reaped; it never outlives a stopped parent by more than its part
of the scan (its SIGINT, SIGTERM and SIGHUP are the default ones: it just dies).

Only when this process runs one thread (fork_allowed): a child forked beside other threads
inherits their locks held and no one to release them. The editor has threads (Textual's,
its workers), so its scans stay sequential; `add`, `remove` and `check` have none.
"""

from __future__ import annotations

import os
import re
import threading

from quanted.core.format import scanner
from quanted.core.format.fast_regex import fast_body_source, learn_layouts
from quanted.core.format.walker import Scan, first_field_indent, newline_of

# Below this the scan (about 4 ms per MB) is not worth a fork and a reap.
MIN_SIZE = 4 << 20
# Where the table is cut, as a share of the bytes after its header: this process also
# checks the text (1.5 ms at 15 MB) and forks. Measured at 15 MB: see docs/format.md
# section 6.
SHARE = 0.46
_STOPPING = ("SIGINT", "SIGTERM", "SIGHUP")  # the child's are the default ones
_REPORT = 8  # the answer: a signed 8-byte offset
_HEADER = b"quantize_parameters:"


def fork_allowed() -> bool:
    """This process may fork a scanning child: it can fork, and no other thread runs."""
    return hasattr(os, "fork") and threading.active_count() == 1


def full_scan(data: bytes, path: str = "<input>", text_checked: bool = False) -> Scan:
    """scanner.scan(data, path, text_checked), on two cores when the file is big and
    fork_allowed()."""
    helper = start(data)
    try:
        return scanner.scan(data, path, text_checked, helper)
    finally:
        if helper is not None:
            helper.close()


class ChildScan:
    """A forked child computing `re.compile(source).match(data, cut).end()`; fast_end() is its
    answer (or this process's own, when the child has none). close() reaps the child,
    always. The child compiles the regex itself, beside this process compiling it for the
    walk (a millisecond at once, not one after the other)."""

    def __init__(self, data: bytes, source: bytes, cut: int) -> None:
        self.data, self.source, self.cut = data, source, cut
        self._answer: int | None = None
        self.pid = 0
        self._pipe = -1
        self._fork()

    def _fork(self) -> None:
        import signal  # only here: its enums are half a millisecond of every small edit

        stopping = [getattr(signal, name) for name in _STOPPING]
        read_fd, write_fd = os.pipe()
        # Blocked from before the fork until the child has the default handlers: a Ctrl-C in
        # between must never run this program's handlers (and code) in the child.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, stopping)
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            code = 1
            try:
                os.close(read_fd)
                for sig in stopping:
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
            self.pid, self._pipe = pid, read_fd

    def _compute(self) -> int:
        return re.compile(self.source).match(self.data, self.cut).end()  # type: ignore[union-attr]

    def fast_end(self) -> int:
        """re.compile(source).match(data, cut).end(): the child's report, or computed here."""
        if self._answer is None:
            report = b""
            if self._pipe >= 0:
                try:
                    while len(report) < _REPORT:
                        chunk = os.read(self._pipe, _REPORT - len(report))
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
        """The child reaped (killed first unless it has reported); idempotent."""
        if self._pipe >= 0:
            os.close(self._pipe)
            self._pipe = -1
        if self.pid > 0:
            pid, self.pid = self.pid, 0
            if self._answer is None:
                import signal  # imported by _fork already

                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def start(data: bytes) -> ChildScan | None:
    """A child checking the back of the table of `data`, or None: a small file, a table whose
    layout the header does not give, or a fork that is not allowed. The layout is read from
    the `quantize_parameters:` line the way the walker reads it; a wrong reading costs only
    the child's work (the walker then compares regexes and does the part itself)."""
    if len(data) < MIN_SIZE or not fork_allowed():
        return None
    at = 0 if data.startswith(_HEADER) else data.find(b"\n" + _HEADER) + 1
    if at == 0 and not data.startswith(_HEADER):
        return None
    body = data.find(b"\n", at) + 1
    if body <= 0 or data[at + len(_HEADER) : body].strip():  # `quantize_parameters: {}`
        return None
    key_indent, field_indent = first_field_indent(data, body)
    cut = data.find(b"\n" + b" " * key_indent + b"'", body + int((len(data) - body) * SHARE))
    if cut < 0:
        return None
    newline = newline_of(data)
    layouts = learn_layouts(data, body, key_indent, field_indent, newline)
    source = fast_body_source(key_indent, field_indent, newline, layouts)
    return ChildScan(data, source, cut + 1)
