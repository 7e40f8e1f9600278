"""Helpers for the signal tests: run `quanted hybrid` as a real process, wait (on its output,
never on a clock) until the engine is running, and wait for a pid to be gone (pidfd)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
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
    """Read quanted's stdout until the engine itself has written a line."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if not line.startswith("quanted:"):
            return seen
    raise AssertionError(f"the engine never wrote a line: {seen}")


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
