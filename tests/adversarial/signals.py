"""Helpers for the signal tests: run `quanted hybrid` as a real process, wait (on its output,
never on a clock) until the engine is running, and wait for a pid to be gone (pidfd)."""

from __future__ import annotations

import os
import queue
import select
import subprocess
import sys
import threading
from pathlib import Path

TIMEOUT_S = 300  # a safety net for a hung test only; nothing waits on it in a passing run


def start_hybrid(quantize: Path, pegasus: list[str], env: dict[str, str] | None = None,
                 ) -> subprocess.Popen[str]:
    import shlex

    return subprocess.Popen(
        [sys.executable, "-m", "quanted", "hybrid", str(quantize), "--pegasus",
         shlex.join(pegasus)],
        cwd=quantize.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )


def wait_for_engine_line(proc: subprocess.Popen[str]) -> list[str]:
    """Read quanted's stderr (where the engine log goes) until the engine itself has written a
    line. A reader thread drains stderr from then on and keeps it for finish(); TIMEOUT_S is
    only a safety net so that a broken build fails instead of hanging."""
    assert proc.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    kept: list[str] = []

    def drain() -> None:
        try:
            for line in proc.stderr:  # type: ignore[union-attr]
                kept.append(line)
                lines.put(line)
        except (OSError, ValueError):
            pass
        lines.put(None)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    _DRAINED[proc.pid] = (reader, kept)
    seen = []
    while True:
        try:
            line = lines.get(timeout=TIMEOUT_S)
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"no engine line in {TIMEOUT_S} s: {seen}") from None
        if line is None:
            raise AssertionError(f"quanted ended before the engine wrote a line: {seen}")
        seen.append(line)
        if not line.startswith("quanted:"):
            return seen


# pid -> (the thread draining quanted's stderr, what it read): finish() returns it.
_DRAINED: dict[int, tuple[threading.Thread, list[str]]] = {}


def wait_for_fifo(fifo: Path, proc: subprocess.Popen[str]) -> None:
    """Block until a writer (the stand-in engine) has written to `fifo`: no polling, and no
    reliance on what quanted prints. TIMEOUT_S is only a safety net."""
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    reader.join(TIMEOUT_S)
    if reader.is_alive():
        proc.kill()
        fifo.write_text("")  # unblock the reader
        raise AssertionError(f"the stand-in engine never started within {TIMEOUT_S} s")
    assert got == ["ready\n"]


def finish(proc: subprocess.Popen[str]) -> str:
    """Wait for quanted to end (safety net: TIMEOUT_S); its stderr."""
    try:
        proc.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"quanted did not end within {TIMEOUT_S} s") from None
    drained = _DRAINED.pop(proc.pid, None)
    if drained is not None:
        reader, kept = drained
        reader.join(TIMEOUT_S)
        return "".join(kept)
    assert proc.stderr is not None
    return proc.stderr.read()


def engine_pids(quanted_pid: int) -> list[int]:
    """Every process under quanted (the engine, its keeper, their children), via /proc."""
    pids: list[int] = []
    todo = [quanted_pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                children = [int(p) for p in (task / "children").read_text().split()]
            except FileNotFoundError:
                continue
            pids.extend(children)
            todo.extend(children)
    return pids


def wait_gone(pid: int) -> None:
    """Block until process `pid` has ended (pidfd: no polling)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready, _, _ = select.select([fd], [], [], TIMEOUT_S)
        assert ready, f"process {pid} still runs"
    finally:
        os.close(fd)


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return status != "Z"
