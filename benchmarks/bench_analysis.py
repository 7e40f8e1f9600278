"""`quanted analyze`: engine runs against quanted's own work (hashing the inputs, writing the
probed models, reading the dumps, mapping, figures, the cache).

    python benchmarks/bench_analysis.py [--layers 200] [--inputs 4] [--no-engine]

1. The bundled sample with the real engine (QUANTED_PEGASUS or pegasus on PATH), from an empty
   cache: both runs, then the time quanted spent outside them, as a share of the total.
2. A synthetic model of --layers layers x --inputs inputs (shapes of a small CNN, 2k-16k values
   per output) through the same analysis.run(), with a stand-in "engine" that only hard-links
   pre-made dumps into place, so nearly everything measured is quanted's own work.
Targets (issue 8): own work under 5% of the total on the sample, and under 0.5 s for 200 layers
x 4 inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis, probes
from quanted.core.engine.discovery import EngineNotFound, find_pegasus

REPO = Path(__file__).resolve().parents[1]
SHAPES = [(1, 32, 32, 16), (1, 16, 16, 32), (1, 8, 8, 64), (1, 4, 4, 128)]
LINKER = """import os, sys
args = sys.argv[1:]
source = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "quantized" if args[args.index("--dtype") + 1] == "quantized" else "float")
out = args[args.index("--output-dir") + 1]
os.makedirs(out, exist_ok=True)
for name in os.listdir(source):
    os.link(os.path.join(source, name), os.path.join(out, name))
    print("I 00:00:00 Save tensor " + os.path.join(out, name))
"""


def report(label: str, result: analysis.Analysis, wall: float) -> tuple[float, float]:
    engine = sum(float(r["seconds"]) for r in result.runs)
    own = wall - engine
    print(f"{label}: {len(result.layers)} layer outputs x {result.iterations} inputs, "
          f"total {wall:.2f} s = engine runs {engine:.2f} s + quanted {own:.3f} s "
          f"({100 * own / wall:.1f}% of the total)")
    return engine, own


def plan(quantize: Path, pegasus: str) -> analysis.AnalysisPlan:
    return analysis.plan(QuantizeDocument.open(quantize), pegasus=pegasus)


def sample(pegasus: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for path in (REPO / "sample_data").iterdir():
            if path.is_file():
                shutil.copy2(path, folder / path.name)
        started = time.perf_counter()
        result = analysis.run(plan(folder / "tinynet_uint8.quantize", pegasus))
        report("sample (real engine, empty cache)", result, time.perf_counter() - started)
        started = time.perf_counter()
        analysis.run(plan(folder / "tinynet_uint8.quantize", pegasus))
        print(f"sample again (cached, no engine run): {time.perf_counter() - started:.3f} s")


def synthetic(folder: Path, layers: int, inputs: int) -> Path:
    """A chain conv -> relu -> conv -> relu ... with its .quantize file, inputs and the dumps
    the stand-in links into place."""
    model: dict = {"Layers": {"input_0": {"op": "input", "inputs": [], "outputs": ["out0"]}}}
    previous = "input_0"
    quantize = ["version: 2", "quantize_parameters:"]
    for uid in range(1, layers):
        lid = f"block{uid // 2}/op_{uid}"
        op = "relu" if uid % 2 == 0 else "convolution"
        model["Layers"][lid] = {"op": op, "inputs": [f"@{previous}:out0"], "outputs": ["out0"]}
        quantize += [f"  '@{lid}:out0':", "    qtype: u8", "    quantizer: asymmetric_affine",
                     "    max_value: 6.0", "    min_value: 0.0", "    scale: 0.0235",
                     "    zero_point: 0"]
        previous = lid
    quantize += ["customized_quantize_layers: {}", ""]
    (folder / "net.json").write_text(json.dumps(model))
    (folder / "net.data").write_bytes(os.urandom(1 << 20))
    (folder / "net_inputmeta.yml").write_text(
        "input_meta:\n  databases:\n  - path: dataset.txt\n    type: TEXT\n")
    names = [f"in_{i}.npy" for i in range(inputs)]
    (folder / "dataset.txt").write_text("".join(n + "\n" for n in names))
    for name in names:
        np.save(folder / name, np.zeros((1, 3, 32, 32), dtype=np.float32))
    (folder / "net_uint8.quantize").write_text("\n".join(quantize))
    engine = folder.parent / "linker"
    rng = np.random.default_rng(0)
    listed = probes.add_probes(json.loads((folder / "net.json").read_text()))
    for label in ("float", "quantized"):
        (engine / label).mkdir(parents=True)
    for probe in listed:
        shape = SHAPES[probe.uid % len(SHAPES)]
        for i in range(inputs):
            values = rng.normal(0.0, 2.0, size=shape).astype(np.float32)
            name = f"iter_{i}_{probe.id}_out0_{'_'.join(map(str, shape))}.npy"
            np.save(engine / "float" / name, values)
            np.save(engine / "quantized" / name, np.round(values * 40) / 40)
    (engine / "pegasus.py").write_text(LINKER)
    return engine / "pegasus.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=200)
    parser.add_argument("--inputs", type=int, default=4)
    parser.add_argument("--no-engine", action="store_true", help="skip the real-engine sample")
    args = parser.parse_args()
    if not args.no_engine:
        try:
            sample(" ".join(find_pegasus()))
        except EngineNotFound as exc:
            print(f"sample: skipped ({exc.message})")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        folder.mkdir()
        linker = synthetic(folder, args.layers, args.inputs)
        owns = []
        for _ in range(3):  # the median of three fresh analyses (no cache), the machine is shared
            started = time.perf_counter()
            result = analysis.run(plan(folder / "net_uint8.quantize",
                                       f"{sys.executable} {linker}"), use_cache=False)
            owns.append(report(f"synthetic ({args.layers} layers, stand-in engine that links "
                               "files)", result, time.perf_counter() - started)[1])
        own = statistics.median(owns)
        print(f"synthetic: quanted's own work, median {own:.3f} s (target < 0.5 s: "
              f"{'met' if own < 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
