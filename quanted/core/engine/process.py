"""One engine process: its log line by line as it comes, and a cancel that stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from quanted.core.engine.discovery import EngineNotFound


class EngineProcess:
    """pegasus in its own process group (it starts TensorFlow workers), stdout+stderr merged."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.command = command
        self.cwd = cwd
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.cancelled = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        try:
            self._proc = subprocess.Popen(
                self.command,
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
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            yield raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def follow(self, on_line: Callable[[str], None]) -> int:
        """Hand every log line to `on_line` until the engine ends; return its status.
        ctrl+c in the CLI lands here (the engine has its own session): it stops the engine."""
        try:
            for line in self.lines():
                on_line(line)
        except KeyboardInterrupt:
            self.cancel()
        finally:
            status = self.wait()
        return status

    def wait(self) -> int:
        assert self._proc is not None
        return self._proc.wait()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def cancel(self, grace: float = 5.0) -> None:
        """SIGTERM to the whole group, SIGKILL after `grace` seconds. Safe from any thread."""
        self.cancelled.set()
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
