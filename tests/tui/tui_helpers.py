"""Shared by the editor tests: fixture paths and pilot helpers."""

from __future__ import annotations

import time
from pathlib import Path

from textual.screen import ModalScreen

# Far above any worker's real time on a loaded machine; reaching it means a worker hangs,
# and the test must fail naming it instead of hanging the whole suite.
SETTLE_LIMIT = float(__import__("os").environ.get("QUANTED_SETTLE_LIMIT", "300"))

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO / ".." / "shared" / "fixtures" / "public"
KHADAS = "khadas_mobilenet_tf.quantize"
KHADAS_ENTROPY = "khadas_mobilenet_tf_entropy.txt"

# From the fixture: the top layer by max entropy (customized already), and the 5th (not).
TOP = "MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Conv2D_82"
FIFTH = "MobilenetV1/MobilenetV1/Conv2d_3_depthwise/depthwise_73"


async def _workers_done(pilot) -> None:
    """Every worker finished, except a flow waiting for the dialog on screen (the test answers
    it next: waiting for that flow would wait forever)."""
    app = pilot.app
    deadline = time.monotonic() + SETTLE_LIMIT
    while True:
        waiting = [w for w in app.workers if not w.is_finished]
        if waiting and isinstance(app.screen, ModalScreen):
            waiting = [w for w in waiting if w.group != "flow"]
        if not waiting:
            return
        if time.monotonic() > deadline:
            names = ", ".join(f"{w.name or w.group} ({w.state.name})" for w in waiting)
            raise AssertionError(f"workers never finished on {app.screen!r}: {names}")
        await pilot.pause(0.02)


async def settle(pilot) -> None:
    """Wait for every worker (load, qtypes, save, flows) and the repaint after it."""
    for _ in range(3):
        await _workers_done(pilot)
        await pilot.pause(0.15)
    await _workers_done(pilot)
    await pilot.pause()


def block_lines(data: bytes) -> list[bytes]:
    text = data.split(b"customized_quantize_layers:", 1)[1]
    return [line for line in text.splitlines()[1:] if line.startswith(b"    ")]
