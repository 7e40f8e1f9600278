"""Launch-to-first-paint and keystroke latency of the editor, headless (App.run_test).

    python benchmarks/generate.py /tmp/big
    python benchmarks/tui_latency.py /tmp/big/big_uint8.quantize [--repeat 20]

First paint: from before the app module is imported to the first paint of the layers table
showing its top row. Keystroke: from the key press to the end of the first screen refresh after
the key was handled. Budgets (issue 3): 1 s and 50 ms. Works on a copy; the file is not changed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

FIRST_PAINT_BUDGET = 1.0
KEY_BUDGET = 0.050
SETTLE = 0.25  # seconds to wait after a key before reading the refresh times
CHAIN_GAP = 0.1  # refreshes closer than this belong to the same key


def report(name: str, samples: list[float], budget: float) -> None:
    median = statistics.median(samples)
    worst = max(samples)
    print(f"{name:<40} median {median * 1000:8.1f} ms   max {worst * 1000:8.1f} ms   "
          f"median/budget {median / budget:5.2f}   max/budget {worst / budget:5.2f}")


async def measure(path: Path, entropy: Path | None, repeat: int, size: tuple[int, int]) -> None:
    launch = time.perf_counter()
    from textual.screen import Screen

    from quanted.tui.app import QuantedApp
    from quanted.tui.widgets.layer_table import LayerTable

    paints: list[float] = []
    original = Screen._compositor_refresh

    def timed_refresh(self: Screen) -> None:
        original(self)
        paints.append(time.perf_counter())

    Screen._compositor_refresh = timed_refresh  # type: ignore[method-assign]
    app = QuantedApp(path, entropy, display_name=path.name)
    async with app.run_test(size=size) as pilot:
        table = app.screen.query_one(LayerTable)
        while table.first_row_rendered is None:
            await asyncio.sleep(0.002)
        rendered = table.first_row_rendered
        while not paints or paints[-1] < rendered:
            await asyncio.sleep(0.002)
        first_paint = paints[-1] - launch
        top = table.current.layer if table.current else "?"
        print(f"{path.name}: {len(table.model.rows) if table.model else 0} layers; top {top}")
        report("launch -> first paint", [first_paint], FIRST_PAINT_BUDGET)
        await app.workers.wait_for_complete()
        await pilot.pause()

        async def key(name: str) -> tuple[float, float]:
            """Press, let everything settle; return (first refresh, end of the chain of refreshes
            the key caused: refreshes less than CHAIN_GAP apart; a cursor blink comes later)."""
            start = time.perf_counter()
            await pilot.press(name)
            await pilot.pause(SETTLE)
            after = [paint for paint in paints if paint > start]
            if not after:
                return 0.0, 0.0
            last = after[0]
            for paint in after[1:]:
                if paint - last > CHAIN_GAP:
                    break
                last = paint
            return after[0] - start, last - start

        plans: list[tuple[str, list[str], str | None]] = [
            ("space (toggle)", ["space"], None),
            ("down", ["down"], None),
            ("s (cycle sort)", ["s"], None),
            ("/ (open filter)", ["slash"], "escape"),
            ("filter keystroke (20k rows)", ["slash", "1"], "escape"),
            ("ctrl+z (undo)", ["space", "ctrl+z"], None),
        ]
        for name, keys, cleanup in plans:
            first, settled = [], []
            for _ in range(repeat):
                for extra in keys[:-1]:
                    await pilot.press(extra)
                    await pilot.pause()
                a, b = await key(keys[-1])
                first.append(a)
                settled.append(b)
                if cleanup:
                    await pilot.press(cleanup)
                await pilot.pause()
            report(name + ", repainted", first, KEY_BUDGET)
            report(name + ", settled", settled, KEY_BUDGET)
        app.exit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("-e", "--entropy", type=Path)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--size", default="120x40", help="terminal COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / args.file.name
        shutil.copyfile(args.file, copy)
        entropy = args.entropy
        if entropy is None and (args.file.parent / "entropy.txt").is_file():
            entropy = Path(tmp) / "entropy.txt"
            shutil.copyfile(args.file.parent / "entropy.txt", entropy)
        asyncio.run(measure(copy, entropy, args.repeat, (cols, rows)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
