"""The editor beside vim in one run: first paint in a real terminal, keystrokes, bulk add.

    python benchmarks/bench_paint.py [--dir DIR] [--repeat 3] [--paint 13,20000,200000]
                                     [--keys 20000,200000] [--base main]

First paint: launch to the first layer row on the screen of a tmux pane (polled with
capture-pane), and the CPU time the editor had used by then (its process + the children it
reaped: tui/early.py's), beside vim's first screen of the same file in the same pane size
(launch to the file's first line shown). --paint layer counts give about 10 KB / 15 MB /
150 MB (benchmarks/generate.py). Issue 14's targets: under 0.5 s
at 15 MB and 2 s at 150 MB. Keystrokes and bulk add (benchmarks/bench_keys.py's measure, at
--keys rows): 50 ms a key, 1 s a bulk operation. Every number is printed with its ratio to
vim or to its budget, measured in this run: on a loaded machine compare the ratios (and the
CPU seconds), not the seconds.

The package is byte-compiled first: an installed quanted has its .pyc files, and without
them (PYTHONDONTWRITEBYTECODE) every launch compiles 100 modules (0.25 s).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_keys import BULK_BUDGET, KEY_BUDGET, measure
from generate import generate
from tmux_screen import SIZE, top_layer, when_shown

import quanted


def launch(command: str, probe: str) -> tuple[float, float, float]:
    """(seconds from launching `command` in a fresh tmux pane until `probe` shows on it, CPU
    seconds the launched process had used by then, and its reaped children): tmux_screen's
    first_screen, with the CPU seconds read from /proc as the probe shows. The CPU seconds
    hardly depend on the load of a shared machine, which can double the wall time; the
    process's own are the path to its first screen (the GIL serialises its threads), a
    child's ran beside it."""
    nan = (math.nan, math.nan, math.nan)
    return when_shown(command, probe, lambda elapsed, pid: (elapsed, *cpu_seconds(pid)),
                      missed=nan) or nan


def cpu_seconds(pid: str) -> tuple[float, float]:
    """User and system time of `pid`, and of the children it has reaped (`exec` in the
    pane's command: the pane's process is the program)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return math.nan, math.nan
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick



def paint(folder: Path, repeat: int,
          before: Path | None) -> dict[str, tuple[float, float, float]]:
    """(wall, CPU, children's CPU) seconds to the first screen, medians of `repeat` launches
    each: "editor", "before" (the `before` checkout; only with it) and "vim"."""
    path, entropy = folder / "big_uint8.quantize", folder / "entropy.txt"
    probe = top_layer(entropy)[-12:]
    editor = f"exec {sys.executable} -m quanted {path} -e {entropy}"
    first_line = path.read_text(errors="replace").partition("\n")[0].strip()[:20]
    commands = {"editor": (editor, probe), "vim": (f"exec vim -u NONE -N -n {path}", first_line)}
    if before is not None:
        commands["before"] = (f"cd {before} && {editor}", probe)  # -m: the cwd's quanted first
    # Taken in turns: the load of a shared machine changes within a run, and one program's
    # launches all in one stretch of it would make its ratio to another's a measure of that.
    taken: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, (command, shown) in commands.items():
            taken[name].append(launch(command, shown))
    return {name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                   statistics.median(r[2] for r in runs)) for name, runs in taken.items()}


async def editor_bulk(folder: Path) -> list[tuple[str, float]]:
    """`>` at threshold 0 in a headless editor, after the background scan: the rows it adds
    (to_add), the edit, and the screen's refresh of rows, customized pane and status line
    (MainScreen._edited, what the BulkAdded message runs); then ctrl+z the same way."""
    from quanted.tui import loading
    from quanted.tui.app import QuantedApp

    app = QuantedApp(folder / "big_uint8.quantize", folder / "entropy.txt")
    results = []
    async with app.run_test(size=(160, 45)) as pilot:
        while app.main.model is None or not app.main.model.file_qtypes:
            await asyncio.sleep(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        main, model, doc = app.main, app.main.model, app.main.doc
        assert doc is not None
        start = time.perf_counter()
        layers = model.layers_to_add(0.0)
        loading.set_layers(doc, layers, "dynamic_fixed_point-i16")  # as MainScreen.bulk_add
        main._edited()
        results.append((f"editor: > adds {len(layers)} layers", time.perf_counter() - start))
        start = time.perf_counter()
        doc.undo()
        main._edited()
        results.append(("editor: ctrl+z of it", time.perf_counter() - start))
        app.exit()
    return results


def load() -> str:
    """The 1-minute load average: the seconds mean little on a shared machine without it."""
    return f"{os.getloadavg()[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="keep the generated files here")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--paint", default="13,20000,200000")
    parser.add_argument("--keys", default="20000,200000")
    parser.add_argument("--before", type=Path, help="another checkout's top folder (holding "
                        "quanted/, e.g. from `git archive main quanted`): its first paint too")
    parser.add_argument("--base", metavar="REF", help="a git revision (e.g. main) of this "
                        "repository: its quanted/ as --before")
    args = parser.parse_args()
    if args.base:
        args.before = Path(tempfile.mkdtemp(prefix="quanted-base-"))
        repo = Path(__file__).resolve().parents[1]
        archive = subprocess.run(["git", "archive", args.base, "quanted"], check=True,
                                 capture_output=True, cwd=repo).stdout
        subprocess.run(["tar", "-x", "-C", str(args.before)], input=archive, check=True)
    root = args.dir or Path(tempfile.mkdtemp(prefix="quanted-paint-"))
    for source in (Path(quanted.__file__).parent, args.before and args.before / "quanted"):
        if source:
            compileall.compile_dir(source, quiet=1)
    counts = {int(n) for n in f"{args.paint},{args.keys}".split(",") if n}
    for count in sorted(counts):
        if not (root / f"l{count}" / "big_uint8.quantize").is_file():
            generate(root / f"l{count}", count)
    print(f"first paint in tmux ({SIZE[0]}x{SIZE[1]}), median of {args.repeat}; "
          f"targets: < 0.5 s at 15 MB, < 2 s at 150 MB; load average {load()}")
    for count in sorted(int(n) for n in args.paint.split(",") if n):
        found = paint(root / f"l{count}", args.repeat, args.before)
        (editor, cpu, child), vim = found["editor"], found["vim"][0]
        size = (root / f"l{count}" / "big_uint8.quantize").stat().st_size
        was = ""
        if "before" in found:
            before, before_cpu, before_child = found["before"]
            was = (f"   before {before:6.3f} s ({before / vim:5.1f}x, cpu {before_cpu:4.2f}"
                   f"+{before_child:4.2f} s)   editor/before {editor / before:4.2f} "
                   f"(cpu {cpu / before_cpu:4.2f})")
        print(f"  {count:>7} layers {size / 1e6:8.2f} MB   editor {editor:6.3f} s "
              f"(cpu {cpu:4.2f}+{child:4.2f} s)   vim {vim:6.3f} s   ratio {editor / vim:5.1f}x"
              f"{was}", flush=True)
    for count in sorted(int(n) for n in args.keys.split(",") if n):
        folder = root / f"l{count}"
        results = measure(folder / "big_uint8.quantize", folder / "entropy.txt", True)
        results += [(name, seconds, BULK_BUDGET)
                    for name, seconds in asyncio.run(editor_bulk(folder))]
        repaint = results[2][1]
        print(f"\n{count} rows: keys (model + one 45-line repaint) and bulk operations")
        for name, seconds, budget in results:
            if math.isnan(budget):
                print(f"  {name:<42} {seconds * 1000:9.1f} ms")
                continue
            shown = seconds + (repaint if budget == KEY_BUDGET and name != results[2][0] else 0)
            verdict = "ok" if shown < budget else "MISSED"
            print(f"  {name:<42} {shown * 1000:9.1f} ms   /budget {shown / budget:5.2f}  "
                  f"{verdict}")
    print(f"\n(budgets: {KEY_BUDGET * 1000:.0f} ms a key, {BULK_BUDGET:.0f} s a bulk operation; "
          f"load average now {load()})")


if __name__ == "__main__":
    main()
