"""A STAND-IN for `pegasus inference --postprocess dump_results`, for the verify tests' figures,
failures and cancels only (the real engine is in tests/engine/test_verify_engine.py). It writes
the dumps acuitylite 6.57.1 writes, with FLOAT, HYBRID or PLAIN as the output (rotated by the
iteration), by the model and --dtype it is given. STAND_IN_FAIL=LABEL makes that run fail with
status 5; STAND_IN_HANG=LABEL makes it hang until it is killed."""

from __future__ import annotations

import sys

OUT = "@attach_output/out0_0:out0"
FLOAT = [0.05, 0.02, 0.01, 0.6, 0.04, 0.03, 0.005, 0.2, 0.03, 0.015]
HYBRID = [0.05, 0.02, 0.01, 0.55, 0.06, 0.03, 0.005, 0.22, 0.04, 0.015]
PLAIN = [0.05, 0.02, 0.01, 0.3, 0.04, 0.03, 0.1, 0.4, 0.03, 0.015]

STAND_IN = f"""#!{sys.executable}
import os, pathlib, sys
args = sys.argv[1:]
opt = lambda name, default=None: args[args.index(name) + 1] if name in args else default
out = pathlib.Path(opt("--output-dir", "."))
with open("calls.log", "a") as log:
    log.write(" ".join(args) + "\\n")
print("\\x1b[32mI 10:00:00 Start inference...\\x1b[0m", flush=True)
quantized = opt("--dtype") == "quantized"
hybrid = quantized and opt("--model").endswith(".quantize.json")
label = "float" if not quantized else ("hybrid" if hybrid else "plain")
if os.environ.get("STAND_IN_HANG") == label:
    import time; time.sleep(60)
if os.environ.get("STAND_IN_FAIL") == label:
    for i in range(30):
        print(f"D 10:00:01 line {{i}}", flush=True)
    print("E 10:00:02 Inference failed: out of memory", flush=True)
    sys.exit(5)
values = {{"float": {FLOAT!r}, "hybrid": {HYBRID!r}, "plain": {PLAIN!r}}}[label]
for i in range(int(opt("--iterations", "1"))):
    v = values[i:] + values[:i]
    dump = out / f"iter_{{i}}_attach_output_out0_0_out0_1_10.tensor"
    dump.write_text("".join(f"{{x}}\\n" for x in v))
    (out / f"iter_{{i}}_input_37_out0_1_3_32_32.tensor").write_text("0.5\\n" * 3072)
    if quantized:
        (out / f"iter_{{i}}_input_37_out0_1_3_32_32.qnt.tensor").write_text("128\\n" * 3072)
    print(f"I 10:00:03 Save tensor {{dump}}", flush=True)
print("I 10:00:04 End inference...", flush=True)
"""
