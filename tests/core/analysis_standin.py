"""A STAND-IN for `pegasus inference` with probe outputs (not the engine): deterministic dumps
for the fast tests of analysis's flow (cache, stale, errors, cancel). The real engine is tested
in tests/engine/test_analysis_engine.py.

Each probe `quanted_probe_U` reading `@L:P` gets, for input i, fixed pseudo-random values from
(L, i); the quantized run rounds them to steps of 1/8, or 1/1024 for layers the .quantize file
lists in customized_quantize_layers. The model's own `op: output` layers are dumped too, as the
engine does (`iter_I_<folded id>_<port>_<shape>.npy`), with their input's values.
STANDIN_MODE=fail exits 3 after a log line; =hang waits
(for a cancel). STANDIN_LOG names a file that gets one line per invocation."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import zlib
from pathlib import Path

import numpy as np

SHAPE = (1, 4, 4, 2)
# What acuitylite 6.57.1 prints first on every run (TensorFlow's start-up, recorded): the
# drivers hide these lines and keep them in the log file.
TF_START_UP = (
    "2026-12-07 07:11:58.961005: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:485] "
    "Unable to register cuFFT factory: Attempting to register factory for plugin cuFFT when one "
    "has already been registered",
    "2026-12-07 07:11:59.115816: E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:8454] "
    "Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN when one "
    "has already been registered",
)


def main(args: list[str]) -> int:
    def opt(name: str) -> str | None:
        return args[args.index(name) + 1] if name in args else None

    if os.environ.get("STANDIN_LOG"):
        with open(os.environ["STANDIN_LOG"], "a") as handle:
            handle.write(" ".join(args) + "\n")
    for line in TF_START_UP:
        print(line, file=sys.stderr, flush=True)
    print("\x1b[32mI 00:00:00 Start inference...\x1b[0m", flush=True)
    mode = os.environ.get("STANDIN_MODE", "ok")
    if mode == "fail":
        print("E 00:00:00 stand-in failure", flush=True)
        return 3
    if mode == "hang":
        time.sleep(600)
        return 0
    model = json.loads(Path(str(opt("--model"))).read_text())
    out = Path(str(opt("--output-dir")))
    out.mkdir(parents=True, exist_ok=True)
    quantized = opt("--dtype") == "quantized"
    customized: set[str] = set()
    if quantized:
        text = Path(str(opt("--model-quantize"))).read_text()
        block = text.split("customized_quantize_layers:", 1)[1].split("stable_quantize", 1)[0]
        customized = {line.split(":")[0].strip() for line in block.splitlines() if ":" in line}
    for i in range(int(str(opt("--iterations")))):
        for lid, layer in model["Layers"].items():
            if layer.get("op") != "output":
                continue
            source = layer["inputs"][0][1:].rsplit(":", 1)[0]
            rng = np.random.default_rng(zlib.crc32(source.encode()) + i)
            values = rng.normal(0.0, 2.0, size=SHAPE).astype(np.float32)
            if quantized:
                step = 1024.0 if source in customized else 8.0
                values = (np.round(values * step) / step).astype(np.float32)
            name = lid if lid.startswith("quanted_probe_") else re.sub(r"[^A-Za-z0-9_]", "_", lid)
            path = out / f"iter_{i}_{name}_out0_{'_'.join(map(str, SHAPE))}.npy"
            np.save(path, values)
            print(f"I 00:00:00 Save tensor {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
