"""Shared by the editor tests: fixture paths and pilot helpers."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO / ".." / "shared" / "fixtures" / "public"
KHADAS = "khadas_mobilenet_tf.quantize"
KHADAS_ENTROPY = "khadas_mobilenet_tf_entropy.txt"

# From the fixture: the top layer by max entropy (customized already), and the 5th (not).
TOP = "MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Conv2D_82"
FIFTH = "MobilenetV1/MobilenetV1/Conv2d_3_depthwise/depthwise_73"


async def settle(pilot) -> None:
    """Wait for every worker (load, qtypes, save) and the repaint after it."""
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause(0.15)
    await app.workers.wait_for_complete()
    await pilot.pause()


def block_lines(data: bytes) -> list[bytes]:
    text = data.split(b"customized_quantize_layers:", 1)[1]
    return [line for line in text.splitlines()[1:] if line.startswith(b"    ")]
