"""Each speed trick of `quanted add`/`remove` against the same command without it, quiet and
loaded, in one run; and the edits beside vim's bare open.

    python benchmarks/bench_edit_tricks.py [--checkout DIR] [--dir DIR] [--layers 20000]
                                           [--rounds 9] [--busy 2] [--tricks a,b]
                                           [--no-quiet | --no-loaded]

A trick is switched off in the child interpreter only (the probe below patches it out before
the command runs), so the shipped code has no switch for it; a trick the checkout no longer
has is skipped (`--checkout` an older worktree measures the deleted ones: `git worktree add
--detach /tmp/before 76d4933`, the last commit with all of them). Every round runs each
variant once, in turn (each round starting with another), so a ratio is of times taken under
the same load. "one-scan" is not a trick but its absence measured: a cold edit opened with
the fast index first, as before, then the full scan; "layouts" is the fast regex without the
table's learned layouts (core/format/fast_regex.py). The loaded ratios swing by a tenth from
run to run at 15 rounds (two busy processes and ours share two cores by the scheduler's
luck): --tricks one trick with --rounds 61 gives a ratio that holds. "cold" touches the
file before each edit (a new ctime: no earlier verdict applies, the full scan runs, as for a
file pegasus wrote); "warm" edits the file quanted just saved. "loaded" starts --busy
CPU-bound processes beside the edits (a user running pegasus beside quanted); "quiet" adds
nothing (the machine's own load average is printed).
Medians over the rounds; the ratio is the median of the round-by-round ratios (without /
with: above 1 means the trick saves time). The collector's pause (core/disk/gcpause.py) is
for bulk edits: one layer added shows nothing of it; 200,000 new lines of a block beside an
editor's objects do (113 vs 396 ms, medians).
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

VIM = ["vim", "-u", "NONE", "-es", "+q"]

# Run as `python -c PROBE TRICK COMMAND ARGS...`: the `quanted` command (quanted/launch.py)
# with TRICK patched out; "none" patches nothing. A trick the checkout lacks exits 3.
PROBE = r"""
import sys
trick = sys.argv.pop(1)
def gone():
    sys.exit(3)
import quanted.launch as launch
if hasattr(launch, "read_early"):  # a checkout with the early read: as its command starts
    if trick != "early-read":
        launch.read_early(sys.argv[1:])
elif trick == "early-read":
    gone()
try:
    if trick == "split-scan":
        try:
            from quanted.core.format import split_scan as splitscan
        except ImportError:  # before it moved (76d4933)
            from quanted.core.disk import splitscan
        splitscan.start = lambda data: None
    elif trick == "layouts":  # the fast regex with the general lines only
        from quanted.core.format import fast_regex, split_scan, walker
        if not hasattr(fast_regex, "learn_layouts"):
            gone()
        walker.learn_layouts = split_scan.learn_layouts = lambda *args: ()
    elif trick == "one-scan":  # a cold edit opened with the fast index first, as before
        from quanted.core.document import edit, model
        if "full=False" in open(edit.__file__).read():
            gone()
        real_open = model.QuantizeDocument.open.__func__
        edit.QuantizeDocument.open = classmethod(
            lambda cls, path, **options: real_open(cls, path, full=False))
    elif trick == "pending-write":
        from quanted.core.document import model
        from quanted.core.disk.saving import atomic_write
        if not hasattr(model, "write_while"):
            gone()
        def in_turn(target, data, force, check, expect=None):
            check()
            return atomic_write(target, data, force=force, expect=expect)
        model.write_while = in_turn
    elif trick == "guessed-index":
        from quanted.cli import edit_commands
        if not hasattr(edit_commands, "_edit_once"):
            gone()
        edit_commands._edit = lambda args, edit: edit_commands._edit_once(args, edit, False)
    elif trick == "os-exit":
        from quanted.cli import dispatch
        if "_exit" not in open(dispatch.__file__).read():
            gone()
        dispatch.leave = sys.exit
    elif trick == "gc-pause":
        import contextlib
        from quanted.core.format import block
        block.gc_paused = contextlib.nullcontext
    elif trick == "verdict-cache":
        from quanted.core.disk import verdicts
        verdicts.recall = lambda stamp: None
        verdicts.record = lambda stamp, scan: None
except ImportError:
    gone()
from quanted.cli.dispatch import run
run()
"""

TRICKS = ("early-read", "split-scan", "layouts", "one-scan", "pending-write", "guessed-index",
          "os-exit", "gc-pause", "verdict-cache")
CASES = ("cold", "warm")


def touch(path: Path) -> None:
    """Another writer: a new ctime, the same bytes (quanted's verdict no longer applies)."""
    os.utime(path)


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=empty_cwd(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"{argv}: exit {done.returncode}: {done.stderr.decode()}")
    return -1.0 if done.returncode == 3 else seconds


def rounds(python: Path, env: dict[str, str], work: dict[str, Path], layer: str,
           count: int, tricks: tuple[str, ...] = TRICKS) -> dict[tuple[str, str, str], list[float]]:
    """(variant, case, add|remove|vim) -> seconds of each round (-1: the trick is gone)."""
    found: dict[tuple[str, str, str], list[float]] = {}
    variants = ["none", *tricks]
    for round_ in range(-1, count):  # round -1 warms the page cache and the verdicts up
        # Each round starts with another variant: none is always first (or last) in a round.
        for variant in variants[round_ % len(variants):] + variants[:round_ % len(variants)]:
            path = work[variant]
            for case in CASES:
                for command in ("add", "remove"):
                    if case == "cold":
                        touch(path)
                    argv = [str(python), "-c", PROBE, variant, command, str(path), layer]
                    seconds = timed(argv, env)
                    if round_ >= 0:
                        found.setdefault((variant, case, command), []).append(seconds)
        seconds = timed([*VIM, str(work["none"])], env)
        if round_ >= 0:
            found.setdefault(("vim", "", "vim"), []).append(seconds)
    return found


def report(label: str, found: dict[tuple[str, str, str], list[float]],
           tricks: tuple[str, ...] = TRICKS) -> None:
    print(f"\n{label}: medians in ms, with the trick / without it, ratio without/with "
          "(> 1: the trick saves time)")
    for trick in tricks:
        cells = []
        for case in CASES:
            for command in ("add", "remove"):
                without = found[(trick, case, command)]
                with_ = found[("none", case, command)]
                if min(without) < 0:
                    cells.append(f"{case} {command}: gone")
                    continue
                ratio = statistics.median(w / b for w, b in zip(without, with_))
                cells.append(f"{case} {command} {statistics.median(with_) * 1e3:5.0f}/"
                             f"{statistics.median(without) * 1e3:5.0f} {ratio:4.2f}x")
        print(f"  {trick:<14} " + "   ".join(cells))
    vim = statistics.median(found[("vim", "", "vim")])
    cells = [f"{case} {command} {statistics.median(found[('none', case, command)]) / vim:4.2f}x"
             for case in CASES for command in ("add", "remove")]
    print(f"  vim -u NONE -es +q {vim * 1e3:5.0f} ms; quanted / vim: " + "   ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--dir", type=Path, help="keep the generated file here")
    parser.add_argument("--layers", type=int, default=20_000, help="20,000: about 15 MB")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--busy", type=int, default=2, help="CPU-bound processes when loaded")
    parser.add_argument("--tricks", default=",".join(TRICKS),
                        help="the tricks to measure, comma-separated (more rounds in the time; "
                        "'' for none: quanted beside vim alone)")
    parser.add_argument("--no-quiet", action="store_true", help="only the loaded rounds")
    parser.add_argument("--no-loaded", action="store_true", help="only the quiet rounds")
    args = parser.parse_args()
    tricks = tuple(args.tricks.split(",")) if args.tricks else ()
    if set(tricks) - set(TRICKS):
        parser.error(f"--tricks: choose among {', '.join(TRICKS)}")
    root = args.dir or Path(tempfile.mkdtemp(prefix="quanted-tricks-"))
    cache = Path(tempfile.mkdtemp(prefix="quanted-tricks-cache-"))
    folder = root / f"l{args.layers}"
    original = folder / "big_uint8.quantize"
    if not original.is_file():
        generate(folder, args.layers)
    layer = layer_names(args.layers)[args.layers // 2]
    work = {}
    for variant in ("none", *TRICKS):  # one file each: a verdict of one is no other's
        work[variant] = folder / f"work-{variant}.quantize"
        shutil.copyfile(original, work[variant])
    python = installed_python(args.checkout, cache / "venv")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",
                                                           "PYTHONPATH")}
    env["XDG_CACHE_HOME"] = str(cache)
    print(f"{args.checkout}: {original.stat().st_size / 1e6:.1f} MB, {args.rounds} rounds")
    load = os.getloadavg()[0]
    if not args.no_quiet:
        quiet = rounds(python, env, work, layer, args.rounds, tricks)
        report(f"quiet (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)", quiet,
               tricks)
    if not args.no_loaded:
        busy = [subprocess.Popen([sys.executable, "-c", "while 1: pass"])
                for _ in range(args.busy)]
        try:
            loaded = rounds(python, env, work, layer, args.rounds, tricks)
        finally:
            for process in busy:
                process.kill()
                process.wait()
        report(f"loaded ({args.busy} busy processes beside it; load average "
               f"{os.getloadavg()[0]:.1f} at the end)", loaded, tricks)
    for variant in work:
        assert work[variant].read_bytes() == original.read_bytes(), "add+remove must be exact"
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
