"""quanted beside vim on the same files, in one run: add/remove, editor first paint, peak memory.

    python benchmarks/bench_vs_vim.py [--dir DIR] [--repeat 5] [--sizes 2000,20000,200000]

Generated files (benchmarks/generate.py; cached in DIR when given): --sizes layer counts give
about 1.5 / 15 / 150 MB. Issue 14's targets: add/remove at most 2x vim's bare open
(`vim -u NONE -es +q FILE`) at 15 and 150 MB; editor launch to first layer row in a real
terminal (tmux, polled with capture-pane) under 0.5 s at 15 MB and 2 s at 150 MB; peak RSS
above the interpreter's floor at most 1.5x the file size. "cold" = the first edit of a file
written by someone else (the full scan runs before the write); "warm" = the next edits.
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

QUANTED = [sys.executable, "-m", "quanted"]
TIME = shutil.which("time", path="/usr/bin:/bin") or "/usr/bin/time"


def run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process. The RSS comes from GNU time
    around the command: a child forked from this (large) process would count our pages too."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        subprocess.run([TIME, "-f", "%M", "-o", rss.name, *argv], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        return seconds, int(rss.read().split()[-1]) * 1024


def median_of(argv: list[str], repeat: int) -> float:
    return statistics.median(run(argv)[0] for _ in range(repeat))


def touch(path: Path) -> None:
    """Another writer: same bytes, new ctime (quanted's verdict no longer applies)."""
    path.write_bytes(path.read_bytes())


def first_paint(path: Path, entropy: Path, top_layer: str, size: str = "160x45") -> float:
    """Launch the editor in a tmux pane; seconds until a layer row shows on the screen."""
    cols, rows = size.split("x")
    session = f"qbench{os.getpid()}"
    env_cmd = f"exec {sys.executable} -m quanted {path} -e {entropy}"
    probe = top_layer[-12:]
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", cols, "-y", rows, env_cmd],
                   check=True)
    try:
        while time.perf_counter() - start < 60:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], check=False,
                                    capture_output=True, text=True).stdout
            if probe in screen:
                return time.perf_counter() - start
            time.sleep(0.005)
        return float("nan")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, capture_output=True)


def top_of(entropy: Path) -> str:
    """The layer the editor shows first: highest max entropy in the report."""
    best, layer = -1.0, ""
    with entropy.open() as handle:
        for line in handle:
            key, _, value = line.rpartition(",")
            if float(value) > best:
                best, layer = float(value), key.strip()[1:].rpartition(":")[0]
    return layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="keep the generated files here")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="2000,20000,200000")
    parser.add_argument("--paint-sizes", default="13,20000,200000")
    parser.add_argument("--no-editor", action="store_true")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="quanted-bench-"))
    floor = min(run([*QUANTED, "--version"])[1] for _ in range(3))
    print(f"interpreter floor (quanted --version): {floor / 1e6:.1f} MB peak RSS")
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
            result["vim"] = median_of(["vim", "-u", "NONE", "-es", "+q", str(work)], args.repeat)
            cold = []
            for _ in range(args.repeat):
                touch(work)
                cold.append(run([*QUANTED, "add", str(work), layer])[0])
                run([*QUANTED, "remove", str(work), layer])
            result["add cold"] = statistics.median(cold)
            add_warm, remove_warm = [], []
            for _ in range(args.repeat):
                add_warm.append(run([*QUANTED, "add", str(work), layer])[0])
                remove_warm.append(run([*QUANTED, "remove", str(work), layer])[0])
            result["add warm"] = statistics.median(add_warm)
            result["remove warm"] = statistics.median(remove_warm)
            assert work.read_bytes() == original.read_bytes(), "add+remove must be exact"
            for command in (["add", str(work), layer], ["remove", str(work), layer],
                            ["check", str(work)], ["layers", str(work), "-e", str(entropy)]):
                rss = run([*QUANTED, *command])[1]
                result[f"mem {command[0]}"] = (rss - floor) / size
        if not args.no_editor and str(layers) in args.paint_sizes.split(","):
            top = top_of(entropy)
            result["first paint"] = statistics.median(
                first_paint(work, entropy, top) for _ in range(max(1, args.repeat // 2)))
            result["vim first screen"] = median_of(["vim", "-u", "NONE", "-es", "+q", str(work)],
                                                   args.repeat)
        rows.append(result)
        print(f"  measured {layers} layers ({size / 1e6:.2f} MB)", flush=True)
    print()
    for result in rows:
        print(f"{result['layers']:>7} layers, {result['MB']:8.2f} MB")
        vim = result.get("vim")
        for name in ("add cold", "add warm", "remove warm"):
            if name in result:
                seconds = float(result[name])  # type: ignore[arg-type]
                print(f"    {name:<22} {seconds:7.3f} s   vim {vim:.3f} s   ratio "
                      f"{seconds / float(vim):5.2f}x  (target <= 2x at 15/150 MB)")
        if "first paint" in result:
            print(f"    {'editor first paint':<22} {float(result['first paint']):7.3f} s   "  # type: ignore[arg-type]
                  f"vim {float(result['vim first screen']):.3f} s")  # type: ignore[arg-type]
        mems = [f"{k[4:]} {float(v):.2f}x" for k, v in result.items() if k.startswith("mem ")]  # type: ignore[arg-type]
        if mems:
            print(f"    peak RSS above floor / file size: {', '.join(mems)}  (target <= 1.5x)")
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
