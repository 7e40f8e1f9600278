"""Where a cold `quanted add` spends its time, phase by phase, beside vim's bare open.

    python benchmarks/profile_cold_edit.py [--dir DIR] [--layers 20000] [--repeat 7]

Each round copies the generated file (a new inode: the verdict cache misses, as for a file
written by someone else) and runs `quanted add` in a fresh interpreter that stamps wall and
CPU time at each phase: imports, the argument parser, the read, the fork of the child that
checks the front of the table, this process's part of the full scan, the edit, the temp file
written, the wait for the child's answer, the rename. Medians over the rounds; the same
rounds time `vim -u NONE -es +q FILE` for the ratio.
"""

from __future__ import annotations

import argparse
import json
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

REPO = Path(__file__).resolve().parent.parent

# Run in the child interpreter: wraps the phases' functions, runs the command, prints stamps.
PROBE = r"""
import json, sys, time
T0, C0 = time.perf_counter(), time.process_time()
marks = []
def mark(what):
    marks.append((what, time.perf_counter() - T0, time.process_time() - C0))
from quanted.cli import dispatch
mark("imports: quanted.cli")
from quanted.cli import edit_commands
mark("imports: edit_commands")
from quanted.core.document import model as document
from quanted.core.disk import saving
from quanted.core.format import scanner, split_scan
def stamped(owner, name, label):
    real = getattr(owner, name)
    def wrapper(*args, **kwargs):
        mark("> " + label)
        try:
            return real(*args, **kwargs)
        finally:
            mark("< " + label)
    setattr(owner, name, wrapper)
stamped(document, "read_stamped", "read")
stamped(split_scan, "start", "the child forked (the front's check)")
stamped(scanner, "scan", "full scan (this process's part)")
stamped(saving, "write_temp", "temp file written")
stamped(split_scan.ChildCheck, "holds", "the child's answer waited for")
stamped(saving, "replace_temp", "the answer, check as read, rename")
status = dispatch.main(sys.argv[1:])
mark("done")
print(json.dumps(marks), file=sys.stderr)
sys.exit(status)
"""


def one_round(python: Path, work: Path, layer: str,
              env: dict[str, str]) -> tuple[float, list[tuple[str, float, float]]]:
    """Seconds of the whole process, and its stamps."""
    data = work.read_bytes()
    work.unlink()
    work.write_bytes(data)  # another writer: the verdict cache misses
    start = time.perf_counter()
    done = subprocess.run([str(python), "-c", PROBE, "add", str(work), layer], env=env,
                          cwd=empty_cwd(), capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, [tuple(m) for m in json.loads(done.stderr.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--layers", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="quanted-profile-"))
    folder = root / f"l{args.layers}"
    if not (folder / "big_uint8.quantize").is_file():
        generate(folder, args.layers)
    work = folder / "profile_uint8.quantize"
    shutil.copyfile(folder / "big_uint8.quantize", work)
    layer = layer_names(args.layers)[args.layers // 2]
    cache = Path(tempfile.mkdtemp(prefix="quanted-profile-cache-"))
    python = installed_python(REPO, cache / "venv")  # as installed: no editable import hook
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPATH", None)
    rounds, vims, totals = [], [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run(["vim", "-u", "NONE", "-es", "+q", str(work)], check=False)
        vims.append(time.perf_counter() - start)
        seconds, marks = one_round(python, work, layer, env)
        totals.append(seconds)
        rounds.append(marks)
        # and back: the next round adds the same layer to the same bytes
        shutil.copyfile(folder / "big_uint8.quantize", work)
    vim = statistics.median(vims)
    print(f"{work.stat().st_size / 1e6:.1f} MB, load {os.getloadavg()[0]:.2f}: vim "
          f"{vim * 1e3:.1f} ms; the whole process (interpreter start and exit included) "
          f"{statistics.median(totals) * 1e3:.1f} ms = {statistics.median(totals) / vim:.2f}x")
    print(f"{'at (wall ms)':>12} {'CPU ms':>7}  phase (medians; times from the first import)")
    for i, (name, _, _) in enumerate(rounds[0]):
        wall = statistics.median(r[i][1] for r in rounds) * 1e3
        cpu = statistics.median(r[i][2] for r in rounds) * 1e3
        print(f"{wall:12.1f} {cpu:7.1f}  {name}")
    shutil.rmtree(cache, ignore_errors=True)
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
