"""The engine-step contract: quantize, hybrid, verify, analysis, export and tune all read so.

    the_plan = STEP.plan(doc, ...)                    # pure: runs no engine, writes nothing
    result = STEP.run(the_plan, events, cancel, ...)  # the step's own typed result

`plan(doc, ...)` takes the open QuantizeDocument (quantize, which makes the file, takes the
model it is made from instead: `quantize.plan(model, options)`), reads the files beside it and
decides everything: the exact commands, the check's problems, what a --dry-run prints. It
raises a QuantedError when the step cannot run (refused, no engine, a bad option), and is
tested without the engine.

`run(the_plan, events, cancel, *, options)` runs it. `events` is one Events: `line` gets each
engine log line as it comes (colours kept), `progress` the step's own progress values
(`Events[analysis.Progress]`, `Events[verify.VerifyProgress]`, `Events[tune.progress.Event]`;
the steps with one engine run report none). `cancel` is one Cancel, made by the driver and
cancelled from any thread (the editor's escape, a tune stopping its analysis); ctrl+c and
SIGTERM/SIGHUP in the CLI cancel the same way. Options a step alone has (hybrid's `force`,
analysis's `use_cache`, tune's `executor`) are keyword-only after these three.

One result shape: `run` returns the step's typed result when the step ran to its end (which
may still carry findings: layers pegasus did not apply, export problems; its `status` is what
the CLI exits with), and otherwise raises
  StepCancelled  cancelled (exit 130, or 128+N after signal N), and
  StepFailed     an engine run failed (exit: its status; `.run` its title and command when
                 known, `.tail` its last log lines).
Both carry `.result`, the step's typed result so far, when it has one to show (hybrid and
quantize: what was put back and where the old file is; export: the problems found); the
drivers show it as they show a finished one. Any other QuantedError means the step did not run.

A driver (cli/*_command.py, tui/screens/*.py) therefore always reads:

    the_plan = verify.plan(doc, ...)
    if dry_run: print(the_plan ...); return
    try:
        result = verify.run(the_plan, Events(line=kept, progress=show), cancel)
    except StepEnded as ended:   # StepFailed or StepCancelled: say it, exit ended.exit_code
        ...
    render(result)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from quanted.core.errors import QuantedError

P = TypeVar("P")
R = TypeVar("R")


def _ignore(value: object) -> None:
    return None


@dataclass(frozen=True)
class Events(Generic[P]):
    """What a run tells its driver while it runs; both default to nothing."""

    line: Callable[[str], None] = _ignore  # each engine log line, colours kept
    progress: Callable[[P], None] = _ignore  # the step's own progress values


class Stoppable(Protocol):
    """What a Cancel stops: process.EngineProcess (which imports this module)."""

    def cancel(self) -> None: ...


class Cancel:
    """The one cancellation token of a run: `cancel()` from any thread stops the engine
    processes attached now (a tune's trials run several at once) and the step starts no
    more; `on_cancel(f)` calls f at the cancel (at once when it has been cancelled already),
    for work that is not an engine process of this one (a tune's trials on a cluster)."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._running: set[Stoppable] = set()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            running, callbacks = list(self._running), list(self._callbacks)
        for callback in callbacks:
            callback()
        for process in running:
            process.cancel()

    def is_set(self) -> bool:
        return self.cancelled.is_set()

    def attach(self, process: Stoppable) -> None:
        """An engine process of the step, started; cancelled at once if the token is."""
        with self._lock:
            self._running.add(process)
        if self.cancelled.is_set():
            process.cancel()

    def detach(self, process: Stoppable) -> None:
        """The process ended."""
        with self._lock:
            self._running.discard(process)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)
        if self.cancelled.is_set():
            callback()


def exit_status(status: int) -> int:
    """The engine's status as quanted's own: 1-255 as they are, a signal N as 128+N."""
    return status if 0 < status < 256 else (128 - status if status < 0 else 1)


class FailedRun(Protocol):
    """What a StepFailed says of the engine run: its title and its command."""

    @property
    def title(self) -> str: ...

    @property
    def command(self) -> list[str]: ...


@dataclass(frozen=True)
class StepRun:
    """A FailedRun for a step whose run is one command."""

    title: str
    command: list[str]


class StepEnded(QuantedError):
    """A run that did not end done: StepFailed or StepCancelled. `result` is the step's typed
    result so far, when it has one to show (else None)."""

    result: Any = None


class StepFailed(StepEnded):
    """An engine run failed: `exit_code` is its status as quanted's, `status` the engine's,
    `run` names it (None when the step cannot), `tail` holds its last log lines."""

    def __init__(self, message: str, status: int, tail: list[str], run: FailedRun | None = None,
                 path: object = None, result: object = None) -> None:
        super().__init__(message, str(path) if path is not None else None)
        self.run, self.status, self.tail, self.result = run, status, tail, result
        self.exit_code = exit_status(status)


class StepCancelled(StepEnded):
    """Cancelled (the token, ctrl+c, SIGTERM/SIGHUP): exit 130, or 128+N after signal N."""

    exit_code = 130

    def __init__(self, message: str, path: object = None, *, result: object = None,
                 signal: int | None = None) -> None:
        super().__init__(message, str(path) if path is not None else None)
        self.result = result
        if signal is not None:
            self.exit_code = 128 + signal


def result_of(ended: StepEnded, kind: type[R]) -> R:
    """The `kind` result an ended run carries, for a driver that shows it like a finished
    one; raises `ended` again when it carries none."""
    if isinstance(ended.result, kind):
        return ended.result
    raise ended
