"""The warm engine against cold runs, in one run, on the sample and on sidenet (the second model,
tests/engine/build_sidenet.py): per-command overhead (`pegasus quantize --help`), one tune trial
(the hybrid quantize and the quantized inference, in a scratch copy, as a trial runs them),
analyze (two inferences), verify (float, quantized and plain uint8: three inferences), and the
engine's peak memory.

    QUANTED_PEGASUS=... python benchmarks/bench_engine.py [--repeat N]

Cold: QUANTED_ENGINE=cold, a process per command. Warm: through the one `pegasus serve` of this
process, started before the first warm figure (its start is reported apart: the first `v` of
an editor session pays it, the second does not). Times are wall seconds, the median of
--repeat runs. Memory: a cold command's peak RSS (the kernel's maxrss of a waited-for child);
the server's RSS after its imports; a warm command's peak private memory (what it adds beside
the server's pages it shares), sampled from /proc every 50 ms."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from quanted.core.document.model import QuantizeDocument  # noqa: E402
from quanted.core.engine import analysis, verify, warm  # noqa: E402
from quanted.core.engine.discovery import find_pegasus  # noqa: E402
from quanted.core.engine.process import EngineProcess  # noqa: E402
from tests.engine import warm_steps  # noqa: E402  (the models and their commands)

ITERATIONS = {"tinynet": 4, "sidenet": 3}  # every input of each model's dataset


def engine(pegasus: list[str], args: list[str], cwd: Path) -> EngineProcess:
    process = EngineProcess([*pegasus, *args], cwd)
    process.start()
    lines: list[str] = []
    status = process.follow(lines.append)
    if status != 0:
        raise SystemExit(f"{args[:2]} exited {status}: " + "\n".join(lines[-10:]))
    return process


class Watch:
    """The peak RSS (VmHWM) and the peak private memory (Private_Clean + Private_Dirty) of the
    engine commands run while it watches, sampled every 50 ms. A cold command is the keeper's
    child; a warm one is the server's child, whose RSS counts the server's pages it shares."""

    def __init__(self) -> None:
        self.rss = self.private = 0
        self._stop = threading.Event()
        self._processes: list[EngineProcess] = []
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    @staticmethod
    def _engine_pid(process: EngineProcess) -> int | None:
        if process._warm is not None or process.pid is None:
            return process.pid
        try:  # cold: the keeper's child
            return int(Path(f"/proc/{process.pid}/task/{process.pid}/children")
                       .read_text().split()[0])
        except (OSError, IndexError):
            return None

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            for process in list(self._processes):
                pid = self._engine_pid(process)
                if pid is None:
                    continue
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                except OSError:
                    continue
                hwm = int(status.split("VmHWM:")[1].split()[0]) * 1024
                private = sum(int(line.split()[1]) for line in rollup.splitlines()
                              if line.startswith(("Private_Clean:", "Private_Dirty:"))) * 1024
                self.rss, self.private = max(self.rss, hwm), max(self.private, private)

    def add(self, process: EngineProcess) -> None:
        self._processes.append(process)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def model_folder(name: str, root: Path, pegasus: list[str]) -> Path:
    """NAME_uint8.quantize made by a --rebuild, and its model, in a folder of its own."""
    folder = root / name
    if name == "tinynet":
        warm_steps.copy_sample(folder)
    else:
        warm_steps.build_sidenet(pegasus, folder, cold=True)
    engine(pegasus, warm_steps.rebuild(name, ITERATIONS[name]), folder)
    return folder


def trial(pegasus: list[str], folder: Path, name: str, watch: Watch) -> None:
    """A tune trial's engine work: the hybrid run and the quantized inference, in a copy."""
    with tempfile.TemporaryDirectory(prefix="bench-trial-") as tmp:
        work = Path(tmp) / "m"
        shutil.copytree(folder, work)
        iterations = ITERATIONS[name]
        for args in (warm_steps.hybrid(name, iterations),
                     warm_steps.after_hybrid(name, iterations)[0]):
            process = EngineProcess([*pegasus, *args], work)
            process.start()
            watch.add(process)
            if process.follow(lambda line: None) != 0:
                raise SystemExit(f"the trial's {args[0]} failed")


def analyze(pegasus: list[str], folder: Path, name: str, watch: Watch) -> None:
    doc = QuantizeDocument.open(folder / f"{name}_uint8.quantize")
    analysis.run(analysis.plan(doc, pegasus=" ".join(pegasus)), use_cache=False)


def verify_all(pegasus: list[str], folder: Path, name: str, watch: Watch | None = None,
               ) -> None:
    doc = QuantizeDocument.open(folder / f"{name}_uint8.quantize")
    verify.run(verify.plan(doc, " ".join(pegasus), ITERATIONS[name]))


def overhead(pegasus: list[str], folder: Path, name: str, watch: Watch) -> None:
    engine(pegasus, ["quantize", "--help"], folder)


def timed(step: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.monotonic()
        step()
        times.append(time.monotonic() - start)
    return statistics.median(times)


def set_mode(cold: bool) -> None:
    if cold:
        os.environ[warm.MODE_VAR] = "cold"
    else:
        os.environ.pop(warm.MODE_VAR, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    pegasus = find_pegasus()
    if warm.split([*pegasus, "quantize"], REPO) is None:
        raise SystemExit(f"{pegasus} does not serve: run scripts/setup-acuitylite")
    root = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    try:
        set_mode(cold=True)
        folders = {name: model_folder(name, root, pegasus) for name in ITERATIONS}
        print(f"engine: {' '.join(pegasus)}; {os.cpu_count()} cores; median of {args.repeat}; "
              "cold and warm runs alternate")
        steps: dict[str, Callable[[list[str], Path, str, Watch], None]] = {
            "per-command overhead": overhead, "one tune trial": trial, "analyze": analyze,
            "verify": verify_all}

        set_mode(cold=False)
        warm.shutdown()
        first_verify = timed(lambda: verify_all(pegasus, folders["tinynet"], "tinynet"), 1)
        second_verify = timed(lambda: verify_all(pegasus, folders["tinynet"], "tinynet"), 1)
        server = warm.server_for(pegasus, {**os.environ, "PYTHONUNBUFFERED": "1"})
        assert server is not None and server.pid is not None
        server_rss = int(Path(f"/proc/{server.pid}/status").read_text()
                         .split("VmRSS:")[1].split()[0]) * 1024

        cold: dict[tuple[str, str], float] = {}
        hot: dict[tuple[str, str], float] = {}
        memory: dict[tuple[str, bool], Watch] = {}
        for name, folder in folders.items():
            for is_cold in (True, False):
                memory[name, is_cold] = Watch()
            for label, step in steps.items():
                for is_cold, table in ((True, cold), (False, hot)):
                    set_mode(is_cold)
                    table[label, name] = timed(
                        partial(step, pegasus, folder, name, memory[name, is_cold]),
                        args.repeat)
            for is_cold in (True, False):
                memory[name, is_cold].stop()

        print(f"{'':22} {'model':8} {'cold s':>8} {'warm s':>8} {'warm/cold':>9}")
        for (label, name), seconds in cold.items():
            ratio = hot[label, name] / seconds
            print(f"{label:22} {name:8} {seconds:8.2f} {hot[label, name]:8.2f} {ratio:9.2f}")
        print(f"verify as the editor's v on tinynet: first (starts the server) "
              f"{first_verify:.2f} s, second {second_verify:.2f} s, "
              f"second/first {second_verify / first_verify:.2f}")
        mib = 1 << 20
        print(f"memory: the server's RSS after its imports {server_rss / mib:.0f} MiB")
        for name in folders:
            print(f"memory of a trial's commands, {name}: cold peak RSS "
                  f"{memory[name, True].rss / mib:.0f} MiB; warm peak RSS "
                  f"{memory[name, False].rss / mib:.0f} MiB, of it private "
                  f"{memory[name, False].private / mib:.0f} MiB")
    finally:
        warm.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
