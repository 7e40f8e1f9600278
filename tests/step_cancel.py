"""Cancelling an engine step midway, as a screen's stop button does: the step runs in a thread,
the cancel comes once a line of its output shows it started, and the StepCancelled it ends
with is returned (core/engine/step.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from quanted.core.engine.step import Cancel, Events, StepCancelled


def cancel_once_started(run: Callable[..., Any], plan: Any, started: Callable[[str], bool],
                        timeout: float) -> StepCancelled:
    """`run(plan, events, cancel)` cancelled after the first line `started` accepts; waits
    up to `timeout` seconds for that line and as long again for the step to end."""
    seen, cancel, ended = threading.Event(), Cancel(), []

    def on_line(line: str) -> None:
        if started(line):
            seen.set()

    def go() -> None:
        try:
            run(plan, Events(line=on_line), cancel)
        except StepCancelled as stopped:
            ended.append(stopped)

    worker = threading.Thread(target=go)
    worker.start()
    try:
        assert seen.wait(timeout), "the step never started"
    finally:
        cancel.cancel()
        worker.join(timeout)
    assert ended, "the step did not end cancelled"
    return ended[0]
