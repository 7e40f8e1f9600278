"""quanted's open/add/remove against full YAML parses of the same 15 MB file, as ratios.

    python benchmarks/bench_core.py [--layers 20000] [--repeat 5] [--no-ruamel]

Everything runs in one process tree on one input, one command at a time, so the
ratios hold even when absolute times are noisy. Targets (issue 2): add or remove as a
whole process under 0.3 s, and at least 30x faster than PyYAML's C parse alone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generate import generate  # noqa: E402

from quanted.core.document.model import QuantizeDocument  # noqa: E402


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "quanted", *args], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-ruamel", action="store_true", help="skip the ~50 s ruamel.yaml load")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path, _ = generate(Path(tmp), args.layers)
        size_mb = path.stat().st_size / 1e6
        doc = QuantizeDocument.open(path)
        layer = doc.layer_ids[len(doc.layer_ids) // 2]
        print(f"input: {size_mb:.1f} MB, {len(doc.tensor_keys)} tensors, {len(doc.layer_ids)} layers")

        results: dict[str, float] = {}
        results["quanted open (in process)"] = timed(lambda: QuantizeDocument.open(path), args.repeat)
        results["quanted open+index (in process)"] = timed(
            lambda: QuantizeDocument.open(path).layer_ids, args.repeat
        )

        def add_remove() -> None:
            run_cli("add", str(path), layer)
            run_cli("remove", str(path), layer)

        original = path.read_bytes()
        add_times, remove_times = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            run_cli("add", str(path), layer)
            add_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            run_cli("remove", str(path), layer)
            remove_times.append(time.perf_counter() - start)
        assert path.read_bytes() == original, "add+remove must give back the original bytes"
        results["quanted add (whole process)"] = statistics.median(add_times)
        results["quanted remove (whole process)"] = statistics.median(remove_times)
        results["python -c pass (interpreter start)"] = timed(
            lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.repeat
        )

        import yaml

        data = path.read_bytes()
        results["PyYAML CSafeLoader parse"] = timed(lambda: yaml.load(data, Loader=yaml.CSafeLoader), 1)
        if not args.no_ruamel:
            from ruamel.yaml import YAML

            results["ruamel.yaml round-trip load"] = timed(lambda: YAML(typ="rt").load(data), 1)

    pyyaml = results["PyYAML CSafeLoader parse"]
    ruamel = results.get("ruamel.yaml round-trip load")
    header = f"\n{'measurement':<40} {'seconds':>9} {'PyYAML / this':>14}"
    print(header + (f" {'ruamel / this':>14}" if ruamel else ""))
    for name, seconds in results.items():
        row = f"{name:<40} {seconds:>9.3f} {pyyaml / seconds:>13.1f}x"
        print(row + (f" {ruamel / seconds:>13.1f}x" if ruamel else ""))
    if args.layers != 20_000:
        print("(the targets below are set for the default 20,000-layer / 15 MB input)")
    for name in ("quanted add (whole process)", "quanted remove (whole process)"):
        seconds = results[name]
        verdict = "ok" if seconds < 0.3 and pyyaml / seconds >= 30 else "MISSED"
        print(f"target {name}: < 0.3 s and >= 30x PyYAML -> {verdict}")


if __name__ == "__main__":
    main()
