"""A STAND-IN for pegasus, for testing `quanted tune`'s search logic and failure modes only
(the real engine is tested in tests/engine/test_tune_engine.py). Its quantized cosine is a
known function of the raised set:

    cosine(A) = min(1, base + sum(weights[l] for l in A) + sum(w for a, b, w in pairs
                                                               if a in A and b in A))

where A is the set of layers whose output tensors the .quantize file has at i16 (what a
`quantize --hybrid` run applied), and input i gets cosine(A) - i * spread. Configured by the
JSON file named in $TUNE_STAND_IN:

    base, weights {layer: w}, pairs [[a, b, w]], spread, refuse [layer]  ("could not be
    applied": the layer stays u8), suggest [layer] (with --compute-entropy, appended to the
    list written back and not applied, as the engine does), log (a file each engine call
    appends a line to),
    hang_on_quantize N (the N-th quantize call writes its pid into `hang` beside the log and
    blocks until it is killed; a list [N, M] of calls writes `hang-N`, `hang-M`),
    rendezvous N (the first N quantize calls each wait until N have started: proof they ran
    at the same time; gives up with status 9 after 60 s).

Outputs are written as `pegasus inference --postprocess dump_results` does, for the sample
model's output `@attach_output/out0_0:out0` (1x10). An inference with probe outputs (the
analysis `--rank drop` runs) is answered by the analysis stand-in, tests/core/
analysis_standin.py."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import sys
import time
from pathlib import Path

OUTPUT = "attach_output_out0_0_out0_1_10"
FLOAT = [0.05, 0.02, 0.30, 0.04, 0.03, 0.01, 0.24, 0.12, 0.15, 0.04]


def config() -> dict:
    return json.loads(Path(os.environ["TUNE_STAND_IN"]).read_text())


def cosine_of(raised: set[str] | frozenset[str], conf: dict) -> float:
    value = conf.get("base", 0.5)
    value += sum(conf.get("weights", {}).get(layer, 0.0) for layer in raised)
    value += sum(w for a, b, w in conf.get("pairs", []) if a in raised and b in raised)
    return max(-1.0, min(1.0, value))


def per_input(raised: set[str] | frozenset[str], conf: dict, inputs: int) -> list[float]:
    c = cosine_of(raised, conf)
    return [max(-1.0, min(1.0, c - i * conf.get("spread", 0.0))) for i in range(inputs)]


def float_output(i: int) -> list[float]:
    return FLOAT[i:] + FLOAT[:i]


def quantized_output(i: int, c: float) -> list[float]:
    """A vector whose cosine with float_output(i) is exactly c: c*u + sqrt(1-c^2)*w, w a
    unit vector orthogonal to u, scaled by |f|."""
    f = float_output(i)
    norm = math.sqrt(sum(x * x for x in f))
    u = [x / norm for x in f]
    w = [(-1.0 if k % 2 else 1.0) for k in range(len(f))]
    dot = sum(a * b for a, b in zip(w, u))
    w = [a - dot * b for a, b in zip(w, u)]
    wn = math.sqrt(sum(x * x for x in w))
    s = math.sqrt(max(0.0, 1.0 - c * c))
    return [norm * (c * a + s * b / wn) for a, b in zip(u, w)]


def log(conf: dict, text: str) -> None:
    if conf.get("log"):
        with open(conf["log"], "a") as handle:
            handle.write(text + "\n")


def opt(args: list[str], name: str, default: str | None = None) -> str | None:
    return args[args.index(name) + 1] if name in args else default


def raised_in(path: Path) -> set[str]:
    """Layers whose out tensors are i16 in the file's quantize_parameters."""
    raised, current = set(), None
    for line in path.read_text().splitlines():
        key = re.match(r"^  '@(.*):(out\d+)':$", line)
        if key:
            current = key[1]
        elif not line.startswith("    "):
            current = None
        elif current and line.strip() == "qtype: i16":
            raised.add(current)
    return raised


def customized_of(path: Path) -> dict[str, str]:
    found, inside = {}, False
    for line in path.read_text().splitlines():
        if line.startswith("customized_quantize_layers:"):
            inside = True
            continue
        if inside and line.startswith("  ") and ":" in line:
            layer, _, value = line.strip().partition(": ")
            found[layer.strip("'")] = value.split("#")[0].strip()
        elif inside and not line.startswith("  "):
            inside = False
    return found


def _next_call(conf: dict) -> int:
    """1 for the first quantize call, 2 for the second, ...: atomic, as trials run at once."""
    if not conf.get("log"):
        return 1
    folder = Path(conf["log"]).with_name("quantize-calls")
    folder.mkdir(exist_ok=True)
    count = 1
    while True:
        try:
            os.close(os.open(folder / str(count), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return count
        except FileExistsError:
            count += 1


def quantize(args: list[str], conf: dict) -> int:
    path = Path(opt(args, "--model-quantize") or "")
    wanted = customized_of(path)
    log(conf, "quantize " + " ".join(sorted(wanted)))
    count = _next_call(conf)
    hang = conf.get("hang_on_quantize")
    if count == hang or (isinstance(hang, list) and count in hang):
        # the pid, then the name: a reader that sees the name finds the pid in it
        ready = Path(conf["log"]).with_name(f".hang-{count}")
        ready.write_text(str(os.getpid()))
        os.replace(ready, ready.with_name("hang" if count == hang else f"hang-{count}"))
        while True:
            time.sleep(1)
    if count <= conf.get("rendezvous", 0):
        folder = Path(conf["log"]).with_name("rendezvous")
        folder.mkdir(exist_ok=True)
        (folder / str(os.getpid())).write_text("")
        deadline = time.monotonic() + 60
        while len(list(folder.iterdir())) < conf["rendezvous"]:
            if time.monotonic() > deadline:
                print("E 10:00:00 stand-in: the other trial never started", flush=True)
                return 9
            time.sleep(0.02)
    print("I 10:00:00 stand-in quantize --hybrid", flush=True)
    applied = {layer for layer in wanted if layer not in conf.get("refuse", [])}
    for layer in wanted:
        if layer not in applied:
            print(f"W 10:00:01 Hybrid qtype '{wanted[layer]}' could not be applied for layer "
                  f"'{layer}'", flush=True)
    lines, current = [], None
    for line in path.read_text().splitlines(keepends=True):
        key = re.match(r"^  '@(.*):(out\d+)':$", line.rstrip("\n"))
        if key:
            current = key[1]
        elif not line.startswith("    "):
            current = None
        # As the engine (measured, docs/format.md section 10): the listed layers are raised to
        # i16, and a layer an earlier run raised stays raised, listed or not.
        if current in applied:
            line = line.replace("qtype: u8", "qtype: i16")
            line = line.replace("quantizer: asymmetric_affine", "quantizer: dynamic_fixed_point")
        lines.append(line)
    text = "".join(lines)
    extra = [layer for layer in conf.get("suggest", []) if layer not in wanted]
    if "--compute-entropy" in args and extra:
        at = text.index("customized_quantize_layers:")
        end = text.index("\n", at) + 1
        header = text[at:end]
        body = "".join(f"  {layer}: dynamic_fixed_point-i16\n" for layer in extra)
        if header.rstrip().endswith("{}"):
            text = text[:at] + "customized_quantize_layers:\n" + body + text[end:]
        else:
            close = end
            while text.startswith("  ", close):
                close = text.index("\n", close) + 1
            text = text[:close] + body + text[close:]
    path.write_text(text)
    model = Path(opt(args, "--model") or "")
    path.with_name(path.name + ".json").write_text(model.read_text())
    return 0


def inference(args: list[str], conf: dict) -> int:
    out = Path(opt(args, "--output-dir") or ".")
    iterations = int(opt(args, "--iterations", "1") or 1)
    quantized = opt(args, "--dtype") == "quantized"
    raised = raised_in(Path(opt(args, "--model-quantize") or "")) if quantized else set()
    log(conf, ("inference quantized " + " ".join(sorted(raised))) if quantized
        else "inference float")
    cosines = per_input(raised, conf, iterations)
    for i in range(iterations):
        values = quantized_output(i, cosines[i]) if quantized else float_output(i)
        (out / f"iter_{i}_{OUTPUT}.tensor").write_text("".join(f"{x!r}\n" for x in values))
    print("I 10:00:04 stand-in inference done", flush=True)
    return 0


def _analysis_stand_in():
    spec = importlib.util.spec_from_file_location(
        "analysis_standin", Path(__file__).parents[1] / "core" / "analysis_standin.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    args = sys.argv[1:]
    conf = config()
    if args and args[0] == "quantize":
        return quantize(args, conf)
    if args and args[0] == "inference" and "--postprocess-file" in args:
        log(conf, f"inference probes {opt(args, '--dtype')}")
        return _analysis_stand_in().main(args)
    if args and args[0] == "inference":
        return inference(args, conf)
    print(f"E 10:00:00 stand-in: unsupported command {args[:1]}", flush=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
