"""quanted beside vim on the same files, in one run: add/remove, editor first paint, peak memory.

    python benchmarks/bench_vs_vim.py [--dir DIR] [--repeat 5] [--sizes 2000,20000,200000]
                                      [--base CHECKOUT] [--no-editor] [--no-keys]

Generated files (benchmarks/generate.py; cached in DIR when given): --sizes layer counts give
about 1.5 / 15 / 150 MB. Issue 14's targets: add/remove at most 2x vim's bare open
(`vim -u NONE -es +q FILE`) at 15 and 150 MB; editor launch to first layer row in a real
terminal (tmux, polled with capture-pane) under 0.5 s at 15 MB and 2 s at 150 MB; peak RSS
above the floor (the same command on a 13-layer file: interpreter and imports) at most
1.5x the file size; then the keystroke latencies at 20,000 and 200,000 rows (bench_keys.py,
on the same generated files). "cold" = the first edit of a file
written by someone else (the full scan runs before the write); "warm" = the next edits.
`--base CHECKOUT` measures another checkout (say a detached worktree of main) the same way in
the same run, each with its own verdict cache: before/after ratios. Each checkout runs as an
installed quanted runs (benchmarks/installed.py: not through the editable install's import
hook, byte-compiled, whatever PYTHONDONTWRITEBYTECODE says here). vim runs once in each
round of edits, beside them: a ratio is of times measured under the same load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate, layer_names
from installed import empty_cwd, installed_python
from tmux_screen import first_screen, top_layer

VIM = ["vim", "-u", "NONE", "-es", "+q"]
TIME = shutil.which("time", path="/usr/bin:/bin") or "/usr/bin/time"
EDITS = ("add cold", "add warm", "remove cold", "remove warm", "vim")
MEMORY = ("add", "remove", "check", "layers", "layers --json", "report", "add --top")


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process. The RSS comes from GNU time
    around the command: a child forked from this (large) process would count our pages too."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        subprocess.run([TIME, "-f", "%M", "-o", rss.name, *argv], check=False, env=env,
                       cwd=empty_cwd(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        return seconds, int(rss.read().split()[-1]) * 1024


def median_of(argv: list[str], repeat: int) -> float:
    return statistics.median(run(argv)[0] for _ in range(repeat))


class Variant:
    """One quanted checkout to measure: its own PYTHONPATH and verdict cache."""

    def __init__(self, name: str, checkout: Path | None, cache: Path) -> None:
        self.name = name
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
        self.env["XDG_CACHE_HOME"] = str(cache)
        checkout = checkout or Path(__file__).resolve().parent.parent
        self.quanted = [str(installed_python(checkout, cache / "venv")), "-m", "quanted"]

    def run(self, *args: str) -> tuple[float, int]:
        return run([*self.quanted, *args], self.env)


def measure_edits(variant: Variant, work: Path, layer: str, repeat: int) -> dict[str, float]:
    """Median seconds of each of EDITS (vim's bare open among them, in the same rounds); the
    file is back to its bytes after each round."""
    times: dict[str, list[float]] = {name: [] for name in EDITS}
    for _ in range(repeat):
        touch(work)
        times["add cold"].append(variant.run("add", str(work), layer)[0])
        times["remove warm"].append(variant.run("remove", str(work), layer)[0])
        times["vim"].append(run([*VIM, str(work)])[0])
        times["add warm"].append(variant.run("add", str(work), layer)[0])
        touch(work)
        times["remove cold"].append(variant.run("remove", str(work), layer)[0])
    return {name: statistics.median(found) for name, found in times.items()}


def peaks(variant: Variant, work: Path, layer: str, entropy: Path) -> dict[str, int]:
    """Peak RSS (bytes) of each command of MEMORY on this file."""
    commands = {"add": ["add", str(work), layer], "remove": ["remove", str(work), layer],
                "check": ["check", str(work), "-e", str(entropy)],
                "layers": ["layers", str(work), "-e", str(entropy)],
                "layers --json": ["layers", str(work), "-e", str(entropy), "--json"],
                "report": ["report", str(work), "-e", str(entropy)],
                # Last: it writes the file (the caller puts its bytes back).
                "add --top": ["add", str(work), "-e", str(entropy), "--top", "100"]}
    return {name: variant.run(*argv)[1] for name, argv in commands.items()}


def floors(variant: Variant, root: Path) -> dict[str, int]:
    """Each command's floor: its peak on a 13-layer file (the interpreter and the same
    imports, next to no data)."""
    folder = root / "l13"
    if not (folder / "big_uint8.quantize").is_file():
        generate(folder, 13)
    work = folder / "floor_uint8.quantize"
    shutil.copyfile(folder / "big_uint8.quantize", work)
    return peaks(variant, work, layer_names(13)[6], folder / "entropy.txt")


def touch(path: Path) -> None:
    """Another writer: same bytes, new ctime (quanted's verdict no longer applies)."""
    path.write_bytes(path.read_bytes())


def first_paint(variant: Variant, path: Path, entropy: Path, top: str,
                size: str = "160x45") -> float:
    """Launch the editor in a tmux pane; seconds until the row of layer `top` shows."""
    cols, rows = size.split("x")
    return first_screen(f"exec env XDG_CACHE_HOME={variant.env['XDG_CACHE_HOME']} "
                        f"{' '.join(variant.quanted)} {path} -e {entropy}", top[-12:],
                        (cols, rows), seconds=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="keep the generated files here")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="2000,20000,200000")
    parser.add_argument("--paint-sizes", default="13,20000,200000")
    parser.add_argument("--base", type=Path, metavar="CHECKOUT",
                        help="also measure this checkout of quanted (before/after)")
    parser.add_argument("--no-editor", action="store_true")
    parser.add_argument("--no-keys", action="store_true", help="skip bench_keys.py's part")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="quanted-bench-"))
    caches = Path(tempfile.mkdtemp(prefix="quanted-bench-cache-"))
    variants = [Variant("this", None, caches / "this")]
    if args.base is not None:
        variants.insert(0, Variant("base", args.base.resolve(), caches / "base"))
    floor = {v.name: floors(v, root) for v in variants}
    for name, found in floor.items():
        print(f"{name}: floors (each command on a 13-layer file), MB peak RSS: "
              + ", ".join(f"{k} {v / 1e6:.1f}" for k, v in found.items()))
    rows = []
    for layers in sorted({int(n) for n in (args.sizes + "," + args.paint_sizes).split(",")}):
        folder = root / f"l{layers}"
        original, entropy = folder / "big_uint8.quantize", folder / "entropy.txt"
        if not original.is_file():
            generate(folder, layers)
        work = folder / "work_uint8.quantize"
        shutil.copyfile(original, work)
        size = work.stat().st_size
        layer = layer_names(layers)[layers // 2]
        result: dict[str, object] = {"layers": layers, "MB": size / 1e6}
        if str(layers) in args.sizes.split(","):
            for variant in variants:
                result[variant.name] = measure_edits(variant, work, layer, args.repeat)
                assert work.read_bytes() == original.read_bytes(), "add+remove must be exact"
                result[f"mem {variant.name}"] = {
                    name: (peak - floor[variant.name][name]) / size
                    for name, peak in peaks(variant, work, layer, entropy).items()}
                shutil.copyfile(original, work)
        if not args.no_editor and str(layers) in args.paint_sizes.split(","):
            top = top_layer(entropy)
            result["first paint"] = statistics.median(
                first_paint(variants[-1], work, entropy, top)
                for _ in range(max(1, args.repeat // 2)))
            result["vim first screen"] = median_of([*VIM, str(work)], args.repeat)
        rows.append(result)
        print(f"  measured {layers} layers ({size / 1e6:.2f} MB)", flush=True)
    print()
    for result in rows:
        report(result, [v.name for v in variants])
    if not args.no_keys:
        print("\nkeystrokes (bench_keys.py, this checkout):", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).with_name("bench_keys.py")),
                        "--layers", "20000,200000", "--dir", str(root)], check=True)
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(caches, ignore_errors=True)


def report(result: dict[str, object], names: list[str]) -> None:
    print(f"{result['layers']:>7} layers, {result['MB']:8.2f} MB")
    if names[0] in result:
        # vim's median in each checkout's rounds; the ratios are against their mean, so that
        # before/after compare the same denominator.
        vims = {name: float(result[name]["vim"]) for name in names}  # type: ignore[index]
        vim = statistics.mean(vims.values())
        print(f"    vim -u NONE -es +q     {vim:6.3f} s (" + ", ".join(
            f"in {name}'s rounds {seconds:6.3f} s" for name, seconds in vims.items()) + ")")
        for edit in EDITS[:-1]:
            cells = []
            for name in names:
                seconds = result[name][edit]  # type: ignore[index]
                cells.append(f"{name} {seconds:6.3f} s {seconds / vim:5.2f}x")
            print(f"    {edit:<22} " + "   ".join(cells) + "   (x vim; target <= 2x at 15/150 MB)")
        for name in names:
            mems = result[f"mem {name}"]
            print(f"    {name}: peak RSS above floor / file size: "
                  + ", ".join(f"{k} {v:.2f}x" for k, v in mems.items())  # type: ignore[attr-defined]
                  + "  (target <= 1.5x)")
    if "first paint" in result:
        print(f"    {'editor first paint':<22} {float(result['first paint']):7.3f} s   "  # type: ignore[arg-type]
              f"vim {float(result['vim first screen']):.3f} s")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
