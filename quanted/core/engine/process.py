"""One engine process: its log line by line as it comes, and a cancel that stops it all.

pegasus runs in its own process group (it starts TensorFlow workers) and dies with quanted:
on Linux a small keeper process in that group asks the kernel for a parent-death signal and
takes the group down with it; SIGTERM/SIGHUP to quanted are turned into a cancel like ctrl+c."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from quanted.core.state import recovery
from quanted.core.engine import warm
from quanted.core.engine.discovery import EngineNotFound
from quanted.core.engine.keeper import KEEPING, keeper_argv

if TYPE_CHECKING:
    from quanted.core.engine.step import Cancel

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class EngineInterrupted(BaseException):
    """SIGTERM or SIGHUP arrived while the engine ran: stop it, like ctrl+c."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class SignalGuard:
    """While installed (main thread only), SIGTERM/SIGHUP are noted; while `raising`, they
    also raise EngineInterrupted so a blocking read of the engine's log stops."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.raising = False

    def _handle(self, signum: int, frame: object) -> None:
        if self.received is None:
            self.received = signum
        if self.raising:
            self.raising = False
            raise EngineInterrupted(signum)

    @contextmanager
    def installed(self) -> Iterator[SignalGuard]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # the editor's workers: the app itself handles signals
            return
        previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    @contextmanager
    def raising_now(self) -> Iterator[None]:
        if self.received is not None:
            raise EngineInterrupted(self.received)
        self.raising = True
        try:
            yield
        finally:
            self.raising = False


def _check_program(program: str, cwd: Path) -> None:
    """The errors Popen would give, found before the keeper runs (it would only exit 127)."""
    if os.sep in program:
        path = os.path.join(cwd, program)  # a relative path counts from the run's folder
        if not os.path.exists(path):
            raise EngineNotFound(f"cannot run {program!r}: no such program")
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise EngineNotFound(f"cannot run {program!r}: permission denied")
    elif shutil.which(program) is None:
        raise EngineNotFound(f"cannot run {program!r}: no such program")


class EngineProcess:
    """pegasus in its own process group, stdout+stderr merged."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str] | None = None,
                 guard: SignalGuard | None = None) -> None:
        self.command = command
        self.cwd = cwd
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.cancelled = threading.Event()
        self.guard = guard
        self.signal: int | None = None  # SIGTERM/SIGHUP that stopped the run, if one did
        self._proc: subprocess.Popen[bytes] | None = None
        self._warm: warm.WarmRun | None = None

    def start(self) -> None:
        """Check the program, then run it: through the warm engine when its pegasus serves
        (the command is submitted when its lines are first read), else as a process."""
        _check_program(self.command[0], self.cwd)
        parts = warm.split(self.command, self.cwd, self.env)
        if parts is not None:
            self._warm = warm.WarmRun(parts[0], parts[1], self.cwd, self.env)
            return
        self._start_cold()

    def _start_cold(self) -> None:
        try:
            self._proc = subprocess.Popen(
                keeper_argv(self.command),
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise EngineNotFound(f"cannot run {self.command[0]!r}: no such program") from None
        except PermissionError:
            raise EngineNotFound(f"cannot run {self.command[0]!r}: permission denied") from None

    def lines(self) -> Iterator[str]:
        """Decoded log lines, without their newline, as the engine writes them."""
        run = self._warm
        if run is not None:
            why = run.open(self.cancelled)
            if why is None:
                if self.cancelled.is_set():  # a cancel that came while it was submitted
                    run.signal(hard=False)
                for raw in run.lines():
                    yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if run.lost:
                    yield warm.LOST.format(pid=run.server.pid if run.server else "?")
                return
            if self.cancelled.is_set():
                return
            warm.note_cold(why)
            self._warm = None
            self._start_cold()
            if self.cancelled.is_set():
                self._signal(hard=False)
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            yield raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def follow(self, on_line: Callable[[str], None]) -> int:
        """Hand every log line to `on_line` until the engine ends; return its status.
        ctrl+c in the CLI lands here (the engine has its own session), and so do SIGTERM and
        SIGHUP when a SignalGuard is installed: each stops the engine."""
        guard = self.guard or SignalGuard()
        try:
            with guard.raising_now():
                for line in self.lines():
                    on_line(line)
        except KeyboardInterrupt:
            self.cancel()
        except EngineInterrupted as exc:
            self.signal = exc.signum
            self.cancel()
        finally:
            status = self.wait()
        return status

    def wait(self) -> int:
        run = self._warm
        if run is not None:
            if run.child is None and not self.cancelled.is_set():
                for _ in self.lines():  # never followed: run it now
                    pass
                return self.wait()
            if run.child is None:  # cancelled before it was submitted
                return -signal.SIGTERM
            status = run.wait()
            return 1 if status is None else status
        assert self._proc is not None
        return self._proc.wait()

    @property
    def pid(self) -> int | None:
        if self._warm is not None:
            return self._warm.child
        return self._proc.pid if self._proc else None

    def cancel(self, grace: float = 5.0) -> None:
        """SIGTERM to pegasus's group, SIGKILL after `grace` seconds. Safe from any thread."""
        self.cancelled.set()
        run = self._warm
        if run is not None:
            if run.child is None:  # not submitted yet: lines() sees the cancel and stops
                return
            run.signal(hard=False)
            if not run.done.wait(grace):
                run.signal(hard=True)
                run.done.wait(grace)
            return
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        self._signal(hard=False)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            self._signal(hard=True)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:  # a wedged keeper: its own group, the hard way
            self._killpg(proc.pid, signal.SIGKILL)

    def kill_group(self) -> None:
        """Whatever is left of the engine goes (its workers outlive a killed leader)."""
        if self._warm is not None:
            self._warm.signal(hard=True)
            return
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._signal(hard=True)

    def _signal(self, hard: bool) -> None:
        assert self._proc is not None
        if KEEPING:  # the keeper passes it on to pegasus's group and reaps pegasus
            try:
                os.kill(self._proc.pid, signal.SIGUSR2 if hard else signal.SIGTERM)
            except ProcessLookupError:
                pass
        else:
            self._killpg(self._proc.pid, signal.SIGKILL if hard else signal.SIGTERM)

    @staticmethod
    def _killpg(pgid: int, signum: int) -> None:
        try:
            os.killpg(pgid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def follow_marked(process: EngineProcess, quantize: Path, on_line: Callable[[str], None],
                  cancel: Cancel) -> int:
    """Start and follow an engine run that rewrites `quantize` (marked in progress by the
    caller); return its status. The mark goes if the engine cannot even start, and whatever is
    left of its group is killed when the run ends, however it ends."""
    try:
        process.start()
    except BaseException:
        recovery.clear(quantize)
        raise
    cancel.attach(process)
    try:
        return process.follow(on_line)
    finally:
        cancel.detach(process)
        process.kill_group()  # its workers must not outlive it and write on
