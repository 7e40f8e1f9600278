"""The full scan on two cores: a forked child checks the front of the tensor table while this
process walks the rest of the file. The full scan is most of a first edit of a big file (15 MB:
40-50 ms, nearly all in one regex match; docs/format.md section 6), and sre holds the GIL,
so a second core helps only through a second process.

The child answers one question about the bytes: does the fast regex, run from the table's
first tensor key line, reach `cut` (a later tensor key line) exactly? Meanwhile this process
walks on from the cut as if it did (walker.Walker._fast_end). When it did, that walk is the
sequential one, line for line (same index, same refusals, same verdict); when it did not,
confirm() runs the sequential scan, whose error or index is the answer. Until the child's
answer is read the scan is not verified (Scan.unconfirmed): an edit may make its change and
write its temp file meanwhile, but renames only once confirm() has passed
(core/document/model.py save, core/document/edit.py); every other caller confirms at once
(full_scan). A child that fails in any way (no fork, killed, a short report) only means this
process checks the front itself. The child is always reaped; it never outlives a stopped
parent by more than its part of the scan (its SIGINT, SIGTERM and SIGHUP are the defaults).

Only when this process runs one thread (fork_allowed): a child forked beside other threads
inherits their locks held and no one to release them. The editor has threads (Textual's,
its workers), so its scans stay sequential; `add`, `remove` and `check` have none.
"""

from __future__ import annotations

import os
import re
import threading

from quanted.core.errors import ReadError
from quanted.core.format import scanner
from quanted.core.format.fast_regex import fast_body_source, learn_layouts
from quanted.core.format.walker import Scan, first_field_indent, newline_of

# Below this the scan (about 3 ms per MB) is not worth a fork and a reap.
MIN_SIZE = 4 << 20
# Where the table is cut: the child checks this share of the bytes after the header, this
# process the rest, then (an edit) makes its change and writes its temp file. Measured at
# 15 MB: docs/format.md section 6.
SHARE = 0.66
_STOPPING = ("SIGINT", "SIGTERM", "SIGHUP")  # the child's are the default ones
_HEADER = b"quantize_parameters:"


class FrontDisagrees(Exception):
    """The front of the table is not what the walk took it for: the index a document was built
    on may not be the file's. Raised by QuantizeDocument.verify; edit_file redoes the edit
    with the sequential scan. Never leaves the core."""


def fork_allowed() -> bool:
    """This process may fork a scanning child: it can fork, and no other thread runs."""
    return hasattr(os, "fork") and threading.active_count() == 1


def full_scan(data: bytes, path: str = "<input>", text_checked: bool = False) -> Scan:
    """scanner.scan(data, path, text_checked), on two cores when the file is big and
    fork_allowed(): verified, or ReadError."""
    return confirm(scan_with_front_aside(data, path, text_checked), path)


def scan_with_front_aside(data: bytes, path: str = "<input>",
                          text_checked: bool = False) -> Scan:
    """The full scan with the front of a big table checked by a child: verified, or (the child's
    answer unread) with Scan.unconfirmed set. ReadError as the sequential scan raises it."""
    front = start(data)
    try:
        scan = scanner.scan(data, path, text_checked, front)
    except ReadError:
        if front is None:
            raise
        try:
            holds = front.holds()
        finally:
            front.close()
        if holds:  # the walk was the sequential one up to its error
            raise
        # The front holds an earlier bad line (or valid lines the walk took otherwise): the
        # sequential scan's error, the first bad line's.
        return scanner.scan(data, path, text_checked)
    except BaseException:
        if front is not None:
            front.close()
        raise
    if front is not None and scan.unconfirmed is None:
        front.close()  # the walk checked the front itself: the child is not needed
    return scan


def confirm(scan: Scan, path: str = "<input>") -> Scan:
    """`scan` itself, verified, once its front check holds; otherwise the sequential scan of
    its bytes (another Scan: its index, or its ReadError)."""
    front = scan.unconfirmed
    if front is None:
        return scan
    scan.unconfirmed = None
    try:
        holds = front.holds()
    finally:
        front.close()
    if holds:
        scan.verified = True
        return scan
    return scanner.scan(scan.data, path, text_checked=True)  # (the walk's scan checked it)


def abandon(scan: Scan) -> None:
    """The child of an unconfirmed scan killed and reaped (a stopped edit): nothing confirmed."""
    front, scan.unconfirmed = scan.unconfirmed, None
    if front is not None:
        front.close()


class ChildCheck:
    """A forked child computing whether `re.compile(source).match(data, start, cut).end() ==
    cut`; holds() is its answer (or this process's own, when the child has none). close()
    reaps the child, always. The child compiles the regex itself, beside this process
    compiling it for the walk (a millisecond at once, not one after the other)."""

    def __init__(self, data: bytes, source: bytes, start: int, cut: int) -> None:
        self.data, self.source, self.start, self.cut = data, source, start, cut
        self._answer: bool | None = None
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
                os.write(write_fd, b"1" if self._compute() else b"0")
                code = 0
            finally:
                os._exit(code)  # never back into the parent's code, its buffers or atexit
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(write_fd)
        if pid < 0:
            os.close(read_fd)
        else:
            self.pid, self._pipe = pid, read_fd

    def _compute(self) -> bool:
        found = re.compile(self.source).match(self.data, self.start, self.cut)
        return found is not None and found.end() == self.cut

    def holds(self) -> bool:
        """The fast regex from start reaches cut exactly: the child's report, or computed here."""
        if self._answer is None:
            report = b""
            if self._pipe >= 0:
                try:
                    report = os.read(self._pipe, 1)
                except OSError:
                    report = b""
            if report in (b"0", b"1"):
                self._answer = report == b"1"
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


def start(data: bytes) -> ChildCheck | None:
    """A child checking the front of the table of `data`, or None: a small file, a table whose
    layout the header does not give or that does not start with a key line, or a fork that
    is not allowed. The layout is read from the `quantize_parameters:` line the way the
    walker reads it; a wrong reading costs only the child's work (the walker compares
    regexes and starting points, and takes nothing as checked that it would not check)."""
    if len(data) < MIN_SIZE or not fork_allowed():
        return None
    at = 0 if data.startswith(_HEADER) else data.find(b"\n" + _HEADER) + 1
    if at == 0 and not data.startswith(_HEADER):
        return None
    body = data.find(b"\n", at) + 1
    if body <= 0 or data[at + len(_HEADER) : body].strip():  # `quantize_parameters: {}`
        return None
    key_indent, field_indent = first_field_indent(data, body)
    key_line = b" " * key_indent + b"'"
    if not data.startswith(key_line, body):
        return None
    cut = data.find(b"\n" + key_line, body + int((len(data) - body) * SHARE))
    if cut < 0:
        return None
    newline = newline_of(data)
    layouts = learn_layouts(data, body, key_indent, field_indent, newline)
    source = fast_body_source(key_indent, field_indent, newline, layouts)
    return ChildCheck(data, source, body, cut + 1)
