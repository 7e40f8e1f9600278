"""What the first-paint benchmarks share: launch a command in a fresh tmux pane and time it to
a text on the screen (polled with capture-pane), and the row the editor shows first."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

SIZE = ("160", "45")  # columns, rows
LAUNCHES = itertools.count()
T = TypeVar("T")


def first_screen(command: str, probe: str, size: tuple[str, str] = SIZE,
                 seconds: float = 120) -> float:
    """Seconds from launching `command` in a fresh tmux pane of `size` (columns, rows) until
    `probe` shows on it; NaN after `seconds`."""
    return when_shown(command, probe, lambda elapsed, pid: elapsed, size, seconds, math.nan)


def when_shown(command: str, probe: str, seen: Callable[[float, str], T],
               size: tuple[str, str] = SIZE, seconds: float = 120,
               missed: T | None = None) -> T | None:
    """`seen(seconds since the launch, the pane's process id)`, called the moment `probe`
    shows on a fresh tmux pane running `command`; `missed` after `seconds`. A server of our
    own for each launch (-L): other tmux users on the machine are not touched, and a server
    still exiting cannot refuse the next launch."""
    socket = f"qpaint{os.getpid()}-{next(LAUNCHES)}"
    tmux = ["tmux", "-L", socket]
    start = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-s", "bench", "-x", size[0], "-y", size[1],
                    command], check=True)
    try:
        pid = subprocess.run([*tmux, "display-message", "-p", "-t", "bench", "#{pane_pid}"],
                             check=True, capture_output=True, text=True).stdout.strip()
        while time.perf_counter() - start < seconds:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "bench"], check=False,
                                    capture_output=True, text=True).stdout
            if probe in screen:
                return seen(time.perf_counter() - start, pid)
            time.sleep(0.005)
        return missed
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
        Path(f"/tmp/tmux-{os.getuid()}/{socket}").unlink(missing_ok=True)


def top_layer(entropy: Path) -> str:
    """The row the editor shows first: the layer of the report's highest value."""
    best, layer = -1.0, ""
    with entropy.open() as handle:
        for line in handle:
            key, _, value = line.rpartition(",")
            if float(value) > best:
                best, layer = float(value), key.strip().removeprefix("@").rpartition(":")[0]
    return layer
