"""The engine's log as it comes, and a stopwatch in the status row of an engine screen.

A worker thread appends lines to `EngineLog.buffer` (a lock, a list: nothing of the widget is
touched from the thread); every FLUSH_SECONDS the widget drains it and writes the batch as ONE
`Text.from_ansi` (the engine's colours), so 10,000 lines cost a few writes, not 10,000
layouts. The log keeps the last MAX_LINES lines.
"""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import ProgressBar, RichLog, Static

MAX_LINES = 20_000
FLUSH_SECONDS = 0.1

# The stopwatch's clock; a snapshot test freezes it.
clock = time.monotonic


class LineBuffer:
    """Lines from any thread, taken in one piece by the UI thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: list[str] = []

    def append(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)

    def drain(self) -> list[str]:
        with self._lock:
            lines, self._lines = self._lines, []
        return lines


class EngineLog(RichLog):
    """`buffer.append` is the worker's `on_line`; `written` counts the engine lines shown."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=MAX_LINES, wrap=False, markup=False, highlight=False,
                         auto_scroll=True)
        self.buffer = LineBuffer()
        self.written = 0

    def on_mount(self) -> None:
        self.set_interval(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        lines = self.buffer.drain()
        if not lines:
            return
        self.written += len(lines)
        self.write(Text.from_ansi("\n".join(lines[-MAX_LINES:])))

    def note(self, text: str) -> None:
        """A line of quanted's own, after what the engine wrote so far."""
        self.flush()
        self.write(Text(text, style="bold"))

    def plain(self) -> list[str]:
        """The lines shown, without colours (for tests and copying)."""
        return [strip.text.rstrip() for strip in self.lines]


class Stopwatch(Static):
    """`12.3 s` while running; frozen at the end."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._started: float | None = None
        self._stopped: float | None = None
        self._timer: Timer | None = None

    @property
    def seconds(self) -> float:
        if self._started is None:
            return 0.0
        end = self._stopped if self._stopped is not None else clock()
        return end - self._started

    def start(self) -> None:
        self._started, self._stopped = clock(), None
        if self._timer is None:
            self._timer = self.set_interval(0.2, self._tick)
        self._tick()

    def stop(self) -> None:
        if self._started is not None and self._stopped is None:
            self._stopped = clock()
        self._tick()

    def _tick(self) -> None:
        self.update("" if self._started is None else f"{self.seconds:.1f} s")


def status_row(step: str, text: str = "", bar: str | None = None) -> ComposeResult:
    """The line under an engine screen's title: what the step does now (the Static `#step`,
    starting at `text`), a progress bar (`#bar`) when the step counts its runs, the stopwatch."""
    with Horizontal(classes="engine-status"):
        yield Static(text, id=step, markup=False)
        if bar is not None:
            yield ProgressBar(total=None, show_eta=False, id=bar)
        yield Stopwatch(id="elapsed")
