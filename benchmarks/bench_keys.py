"""What one keystroke costs the editor at 20,000 and 200,000 rows, and what the bulk ops cost.

    python benchmarks/bench_keys.py [--layers 20000,200000] [--dir DIR]

Each key's work as the editor does it (the row model, then repainting a 45-line table in a
headless app), timed for the first press: filter keys typed one by one, backspace, each
sort, the threshold preview, a toggle; then bulk add/undo/remove of every layer (188,000 at
200,000). Budgets (issue 14): 50 ms a key, 1 s a bulk op. The model numbers are the key's
own cost; the repaint is added once per key as the screen would do it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate

from quanted.tui import loading

KEY_BUDGET, BULK_BUDGET = 0.050, 1.0


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


async def repaint_cost(path: Path, entropy: Path) -> float:
    """Best of 5: every line of a 160x45 layers table rendered once."""
    from quanted.tui.app import QuantedApp
    from quanted.tui.widgets.layer_table import LayerTable

    app = QuantedApp(path, entropy, display_name=path.name)
    async with app.run_test(size=(160, 45)) as pilot:
        while app.main.model is None:
            await asyncio.sleep(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.main.query_one(LayerTable)
        best = min(timed(lambda: [table.render_line(y) for y in range(45)]) for _ in range(5))
        app.exit()
    return best


def measure(path: Path, entropy: Path, editor: bool) -> list[tuple[str, float, float]]:
    results: list[tuple[str, float, float]] = []
    start = time.perf_counter()
    loaded = loading.load(path, entropy)
    results.append(("open + rows (loading worker)", time.perf_counter() - start, float("nan")))
    model, doc = loaded.model, loaded.doc
    results.append(("background: full scan + orders + qtypes",
                    timed(lambda: loading.checked_qtypes(doc, model)), float("nan")))
    repaint = asyncio.run(repaint_cost(path, entropy)) if editor else 0.0
    results.append(("repaint 45 table lines", repaint, KEY_BUDGET))
    for text in ("1", "12", "123"):
        results.append((f"filter key -> {text!r}", timed(lambda t=text: model.set_filter(t)),
                        KEY_BUDGET))
    results.append(("filter key -> '12.' (a regex)", timed(lambda: model.set_filter("12.")),
                    KEY_BUDGET))
    for text in ("12", "1", ""):
        results.append((f"backspace -> {text!r}", timed(lambda t=text: model.set_filter(t)),
                        KEY_BUDGET))
    for _ in range(3):
        results.append((f"s: sort -> {model.next_sort()}", timed(lambda: model.set_sort(model.sort)),
                        KEY_BUDGET))
    for value in ("0.5", "0.85"):
        results.append((f"threshold preview {value}",
                        timed(lambda v=float(value): (model.count_to_add(v),
                                                      model.count_at_or_above(v))), KEY_BUDGET))
    layer = model.row_at(0).layer
    model.refresh_customized(doc.customized)
    results.append(("space: toggle one layer", timed(lambda: (
        doc.set_layer(layer, "float16"), model.refresh_customized(doc.customized),
        model.index_of(layer))), KEY_BUDGET))
    doc.undo()
    layers = model.layers_to_add(0.0)
    results.append((f"bulk add {len(layers)} layers (+ rows)", timed(lambda: (
        doc.set_layers(dict.fromkeys(layers, "dynamic_fixed_point-i16")),
        model.refresh_customized(doc.customized))), BULK_BUDGET))
    results.append(("undo it (+ rows)", timed(lambda: (
        doc.undo(), model.refresh_customized(doc.customized))), BULK_BUDGET))
    doc.redo()
    results.append((f"bulk remove {len(layers)} layers", timed(lambda: (
        doc.remove_layers(layers), model.refresh_customized(doc.customized))), BULK_BUDGET))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="20000,200000")
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--no-editor", action="store_true", help="skip the repaint (no app)")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="quanted-keys-"))
    for count in (int(n) for n in args.layers.split(",")):
        folder = root / f"l{count}"
        path, entropy = folder / "big_uint8.quantize", folder / "entropy.txt"
        if not path.is_file():
            generate(folder, count)
        results = measure(path, entropy, not args.no_editor)
        repaint = results[2][1]
        print(f"\n{count} rows ({path.stat().st_size / 1e6:.0f} MB)")
        for name, seconds, budget in results:
            shown = seconds + (repaint if budget == KEY_BUDGET and name != results[2][0] else 0)
            verdict = "" if math.isnan(budget) else ("ok" if shown < budget else "MISSED")
            print(f"  {name:<42} {seconds * 1000:9.1f} ms"
                  + (f"  +repaint {shown * 1000:7.1f} ms  {verdict}" if budget == KEY_BUDGET
                     else f"  {verdict}"))


if __name__ == "__main__":
    main()
