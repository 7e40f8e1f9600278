"""Bulk edits of 18,000 layers on the 15 MB file, and `check` of the file they make.

    python benchmarks/bench_bulk.py [--layers 20000] [--bulk 18000] [--repeat 3]

Issue 12 item 1: add and undo 18,000 layers (in the core and in the editor, press to settled
screen) each under 1 s, and `quanted check` (whole process) of a file with 18,000 customized
layers within 2x of `check` of the same file with none customized. Everything runs in one
process tree on one input, so the ratios hold when absolute times are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate

from quanted.core.document import QuantizeDocument

QTYPE = "dynamic_fixed_point-i16"


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def core(path: Path, bulk: int, repeat: int) -> tuple[dict[str, float], bytes]:
    doc = QuantizeDocument.open(path)
    layers = [layer for layer in doc.layer_ids if layer not in doc.customized][:bulk]
    results = {}
    results[f"core: add {len(layers)} layers (one step)"] = timed(
        lambda: (doc.set_layers(dict.fromkeys(layers, QTYPE)), doc.undo()), repeat)
    doc.set_layers(dict.fromkeys(layers, QTYPE))
    results["core: undo"] = timed(lambda: (doc.undo(), doc.customized, doc.redo()), repeat)
    results[f"core: remove {len(layers)} layers"] = timed(
        lambda: (doc.remove_layers(layers), doc.undo()), repeat)
    return results, doc.to_bytes()


async def editor(path: Path, entropy: Path, bulk: int) -> dict[str, float]:
    """The editor's bulk add (the `>` worker), undo, redo and undo after a save, each from the
    start of the action to the screen settled."""
    from quanted.tui.app import QuantedApp

    results = {}
    app = QuantedApp(path, entropy, display_name=path.name)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main
        while screen.doc is None or screen.model is None:
            await asyncio.sleep(0.01)
        await app.workers.wait_for_complete()
        await pilot.pause()
        layers = [row.layer for row in screen.model.to_add(0.0)][:bulk]

        async def settle(label: str, start: float) -> None:
            await app.workers.wait_for_complete()
            await pilot.pause()
            results[f"editor: {label}"] = time.perf_counter() - start

        start = time.perf_counter()
        screen.bulk_add(layers, 0.0)
        await settle(f"bulk add {len(layers)} layers", start)
        for key, label in (("ctrl+z", "undo"), ("ctrl+y", "redo")):
            start = time.perf_counter()
            await pilot.press(key)
            await settle(label, start)
        start = time.perf_counter()
        await pilot.press("ctrl+s")
        await settle("save", start)
        start = time.perf_counter()
        await pilot.press("ctrl+z")
        await settle("undo after save (18,000 removed lines)", start)
        app.exit()
    return results


def cli_check(path: Path, repeat: int) -> float:
    return timed(lambda: subprocess.run([sys.executable, "-m", "quanted", "check", str(path)],
                                        check=False, capture_output=True), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=20_000)
    parser.add_argument("--bulk", type=int, default=18_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-editor", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, entropy = generate(Path(tmp), args.layers)
        print(f"input: {path.stat().st_size / 1e6:.1f} MB, {args.layers} layers")
        results, customized = core(path, args.bulk, args.repeat)
        many = Path(tmp) / "customized_uint8.quantize"
        many.write_bytes(customized)
        if not args.no_editor:
            copy = Path(tmp) / "editor"
            copy.mkdir()
            shutil.copy(path, copy / path.name)
            shutil.copy(entropy, copy / entropy.name)
            results.update(asyncio.run(editor(copy / path.name, copy / entropy.name, args.bulk)))
        plain = cli_check(path, args.repeat)
        heavy = cli_check(many, args.repeat)
    print(f"\n{'measurement':<52} {'seconds':>8}  budget 1 s")
    for name, seconds in results.items():
        print(f"{name:<52} {seconds:>8.3f}  {'ok' if seconds < 1 else 'MISSED'}")
    print(f"{'quanted check, 12 customized (whole process)':<52} {plain:>8.3f}")
    print(f"{'quanted check, ' + str(args.bulk) + ' customized (whole process)':<52} {heavy:>8.3f}")
    ratio = heavy / plain
    print(f"check ratio (many / few): {ratio:.2f}x  target <= 2x -> {'ok' if ratio <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
