"""Bulk edits in the core and in the editor, and `quanted check` of the file they make.

    python benchmarks/bench_bulk.py [--layers 200000] [--bulk 0] [--repeat 3] [--dir DIR]

Issue 14: the editor's `>` bulk add of ~200,000 layers (188,000 in the issue), its undo and
redo, the save and the undo after it, each under 1 s from the action to the settled screen;
issue 12 item 1: `quanted check` of a file with the bulk added within 2x of `check` of the
same file with none customized. `--bulk 0` adds every layer `>` offers at threshold 0.
`--dir` reuses a generated file (DIR/big_uint8.quantize and DIR/entropy.txt, as
benchmarks/generate.py writes them; it is copied, never changed).

Absolute times follow the machine's load, so every time is also printed as a ratio to a
baseline measured in the same run just before it: formatting and joining the bulk's block
lines in one Python expression (`"".join(f"  {layer}: {QTYPE}\\n" ...)`), the least any bulk
add must do. The editor's actions are timed only after its background work (the full scan,
the file-qtype column, the checks) has finished: that work is not the action's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate

from quanted.core.document.model import QuantizeDocument

QTYPE = "dynamic_fixed_point-i16"


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def core(path: Path, bulk: int, repeat: int) -> tuple[dict[str, tuple[float, float]], bytes]:
    doc = QuantizeDocument.open(path)
    layers = [layer for layer in doc.layer_ids if layer not in doc.customized][: bulk or None]
    base = baseline(layers)
    results = {}
    results[f"core: add {len(layers)} layers (one step)"] = (timed(
        lambda: (doc.set_layers(dict.fromkeys(layers, QTYPE)), doc.undo()), repeat), base)
    doc.set_layers(dict.fromkeys(layers, QTYPE))
    results["core: undo"] = (timed(lambda: (doc.undo(), doc.customized, doc.redo()), repeat),
                             base)
    results[f"core: remove {len(layers)} layers"] = (timed(
        lambda: (doc.remove_layers(layers), doc.undo()), repeat), base)
    return results, doc.to_bytes()


def baseline(layers: list[str]) -> float:
    """Best of 3: the bulk's block lines formatted and joined (see the docstring)."""
    return min(timed(lambda: "".join([f"  {layer}: {QTYPE}\n" for layer in layers]), 1)
               for _ in range(3))


async def editor(path: Path, entropy: Path, bulk: int) -> dict[str, tuple[float, float]]:
    """`>` (the rows it adds, the worker, the settled screen), undo, redo, save and undo after
    the save, each from the start of the action to the screen settled, with the baseline
    measured just before it."""
    from quanted.tui.app import QuantedApp

    results = {}
    app = QuantedApp(path, entropy, display_name=path.name)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.main
        # Loaded, then the background scan, the file-qtype column and the checks finished.
        # (The checks start with the file-qtype worker, so both have run once it is filled.)
        while (screen.model is None or not screen.model.file_qtypes
               or not all(w.is_finished for w in app.workers)):
            await asyncio.sleep(0.05)
        await pilot.pause()
        model = screen.model
        # What `>` takes (ids of to_add's rows before layers_to_add existed: an older tree).
        to_add = getattr(model, "layers_to_add", lambda t: [r.layer for r in model.to_add(t)])
        candidates = to_add(0.0)
        count = len(candidates[:bulk] if bulk else candidates)

        async def settle(label: str, start: float, base: float) -> None:
            await app.workers.wait_for_complete()
            await pilot.pause()
            results[f"editor: {label}"] = (time.perf_counter() - start, base)

        base = baseline(candidates[:count])
        start = time.perf_counter()
        layers = to_add(0.0)[:count]
        screen.busy = f"adding {len(layers)} layers…"
        screen.bulk_add(layers, 0.0)
        await settle(f"> bulk add {len(layers)} layers", start, base)
        for key, label in (("ctrl+z", "undo"), ("ctrl+y", "redo"), ("ctrl+s", "save"),
                           ("ctrl+z", f"undo after save ({len(layers)} removed lines)")):
            base = baseline(layers)
            start = time.perf_counter()
            await pilot.press(key)
            await settle(label, start, base)
        app.exit()
    return results


def cli_check(path: Path, repeat: int) -> float:
    return timed(lambda: subprocess.run([sys.executable, "-m", "quanted", "check", str(path)],
                                        check=False, capture_output=True), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=200_000)
    parser.add_argument("--bulk", type=int, default=0, help="layers to add (0: all offered)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="a generated file to use (copied)")
    parser.add_argument("--no-editor", action="store_true")
    parser.add_argument("--no-check", action="store_true", help="skip `quanted check`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.dir is not None:
            path, entropy = Path(tmp) / "big_uint8.quantize", Path(tmp) / "entropy.txt"
            shutil.copy(args.dir / path.name, path)
            shutil.copy(args.dir / entropy.name, entropy)
        else:
            path, entropy = generate(Path(tmp), args.layers)
        print(f"input: {path.stat().st_size / 1e6:.1f} MB; load average "
              f"{os.getloadavg()[0]:.2f}")
        # The editor's copy is made first, as pegasus's output is written seconds before.
        copy = Path(tmp) / "editor"
        copy.mkdir()
        shutil.copy(path, copy / path.name)
        shutil.copy(entropy, copy / entropy.name)
        results, customized = core(path, args.bulk, args.repeat)
        many = Path(tmp) / "customized_uint8.quantize"
        many.write_bytes(customized)
        if not args.no_editor:
            results.update(asyncio.run(editor(copy / path.name, copy / entropy.name, args.bulk)))
        if not args.no_check:
            plain = cli_check(path, args.repeat)
            heavy = cli_check(many, args.repeat)
    print(f"\n{'measurement':<52} {'seconds':>8} {'baseline':>9} {'ratio':>6}  budget 1 s")
    for name, (seconds, base) in results.items():
        print(f"{name:<52} {seconds:>8.3f} {base:>9.3f} {seconds / base:>6.1f}  "
              f"{'ok' if seconds < 1 else 'MISSED'}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.no_check:
        print(f"{'quanted check, 12 customized (whole process)':<52} {plain:>8.3f}")
        print(f"{'quanted check, the bulk customized (whole process)':<52} {heavy:>8.3f}")
        ratio = heavy / plain
        print(f"check ratio (many / few): {ratio:.2f}x  target <= 2x -> "
              f"{'ok' if ratio <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
