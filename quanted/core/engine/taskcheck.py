"""The user's own task check (`--check CMD`), as Polygraphy's `--check` does: a program that
looks at float and quantized outputs and says whether the quantized model is good enough for
the task (detections kept, boxes close), where a cosine cannot.

The protocol:
  - CMD is split like a shell would (shlex), never run through one, and gets two more
    arguments, FLOAT_DIR and QUANT_DIR, in the model's folder as its working directory;
  - each folder holds `<i>/<OUTPUT>.npy` (i: the 0-based input in dataset order; OUTPUT: the
    output layer id with `/` as `_`; float32, in the shape the engine dumped, which is the
    model's output shape) and `outputs.json`:
        {"run": "float"|"quantized"|..., "outputs": [{"file": OUTPUT, "layer": ID,
         "tensor": "@ID:out0", "source": the producing layer's name (the ONNX tensor's),
         "shape": [dims], "kind": "class"|"values"}], "dataset": [line per input],
         "inputs": N};
  - exit status 0 means acceptable, 1 not acceptable; anything else (another status, a
    signal, running past the timeout, not starting) is a broken check: CheckBroken, an error,
    never "not acceptable";
  - an optional last stdout line `metric=<float>` is the check's own figure, shown and
    recorded.

    check = TaskCheck.parse("python3 examples/check_scores.py --max-error 0.05")
    layout = Layout.of(model_json, shapes, kinds, dataset_lines)
    write_outputs(float_dir, float_outputs, layout, "float")     # once per run
    write_outputs(quant_dir, quantized_outputs, layout, "quantized")
    verdict = check.run(float_dir, quant_dir, cwd)               # CheckVerdict or CheckBroken
"""

from __future__ import annotations

import json
import math
import shlex
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quanted.core.engine.model_json import ModelError, read_layers
from quanted.core.errors import QuantedError

DEFAULT_TIMEOUT = 600.0
ACCEPTABLE, NOT_ACCEPTABLE = 0, 1
TAIL_LINES = 10
METRIC = "metric="


class CheckBroken(QuantedError):
    """The check did not say yes or no (exit 2); `tail` holds its last output lines."""

    exit_code = 2

    def __init__(self, message: str, tail: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.tail = list(tail)


@dataclass(frozen=True)
class CheckVerdict:
    acceptable: bool
    metric: float | None
    seconds: float
    tail: list[str] = field(default_factory=list)  # its last output lines, for people

    def to_json(self) -> dict:
        return {"acceptable": self.acceptable, "metric": self.metric,
                "seconds": round(self.seconds, 2)}

    def text(self) -> str:
        verdict = "acceptable" if self.acceptable else "NOT acceptable"
        return verdict + (f" (metric={self.metric:g})" if self.metric is not None else "")


@dataclass(frozen=True)
class OutputEntry:
    tensor: str  # '@attach_scores/out0_1:out0'
    shape: tuple[int, ...]
    kind: str
    source: str  # the producing layer's `name` in the model .json ("scores"), or ""

    @property
    def layer(self) -> str:
        return self.tensor.lstrip("@").rpartition(":")[0]

    @property
    def file(self) -> str:
        return self.layer.replace("/", "_")


@dataclass(frozen=True)
class Layout:
    outputs: list[OutputEntry]
    dataset: list[str]

    @classmethod
    def of(cls, model_json: Path, shapes: dict[str, tuple[int, ...]], kinds: dict[str, str],
           dataset: Sequence[str]) -> Layout:
        try:
            layers = read_layers(model_json)
        except ModelError:
            layers = {}
        entries = []
        for tensor, shape in shapes.items():
            layer = layers.get(tensor.lstrip("@").rpartition(":")[0])
            source = ""
            if isinstance(layer, dict) and layer.get("inputs"):
                producer = layers.get(str(layer["inputs"][0]).lstrip("@").rpartition(":")[0])
                if isinstance(producer, dict):
                    source = str(producer.get("name", ""))
            entries.append(OutputEntry(tensor, tuple(shape), kinds.get(tensor, ""), source))
        return cls(entries, list(dataset))

    def to_json(self, run: str, inputs: int) -> dict:
        return {"run": run, "outputs": [
            {"file": e.file, "layer": e.layer, "tensor": e.tensor, "source": e.source,
             "shape": list(e.shape), "kind": e.kind} for e in self.outputs],
            "dataset": self.dataset, "inputs": inputs}


def write_outputs(folder: Path, outputs: dict[str, list[np.ndarray]], layout: Layout,
                  run: str) -> Path:
    """`folder/<i>/<OUTPUT>.npy` for every output and input, and `folder/outputs.json`."""
    inputs = min((len(v) for v in outputs.values()), default=0)
    for i in range(inputs):
        (folder / str(i)).mkdir(parents=True, exist_ok=True)
        for entry in layout.outputs:
            array = np.asarray(outputs[entry.tensor][i], dtype=np.float32).reshape(entry.shape)
            np.save(folder / str(i) / f"{entry.file}.npy", array)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "outputs.json").write_text(json.dumps(layout.to_json(run, inputs), indent=1) + "\n",
                                         encoding="utf-8")
    return folder


@dataclass(frozen=True)
class TaskCheck:
    command: list[str]
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def parse(cls, text: str, timeout: float = DEFAULT_TIMEOUT) -> TaskCheck:
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise CheckBroken(f"--check {text!r} cannot be split like a shell would: {exc}"
                              ) from None
        if not words:
            raise CheckBroken("--check needs a command")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise CheckBroken(f"the check's timeout must be a positive number, not {timeout}")
        return cls(words, timeout)

    def describe(self) -> str:
        return shlex.join(self.command)

    def run(self, float_dir: Path, quant_dir: Path, cwd: Path) -> CheckVerdict:
        argv = [*self.command, str(float_dir), str(quant_dir)]
        started = time.monotonic()
        try:
            proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, errors="replace", timeout=self.timeout,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise CheckBroken(f"the check ran past its timeout of {self.timeout:g} s: "
                              f"{self.describe()}", _tail(_text(exc.stdout) + _text(exc.stderr))
                              ) from None
        except OSError as exc:
            raise CheckBroken(f"the check cannot be started: {exc.strerror or exc}: "
                              f"{self.describe()}") from None
        seconds = time.monotonic() - started
        tail = _tail(proc.stdout + proc.stderr)
        if proc.returncode < 0:
            raise CheckBroken(f"the check was killed by signal {-proc.returncode}: "
                              f"{self.describe()}", tail)
        if proc.returncode not in (ACCEPTABLE, NOT_ACCEPTABLE):
            raise CheckBroken(f"the check exited with status {proc.returncode} (a check exits "
                              f"0: acceptable or 1: not acceptable): {self.describe()}", tail)
        return CheckVerdict(proc.returncode == ACCEPTABLE, metric(proc.stdout), seconds, tail)


def metric(stdout: str) -> float | None:
    """The float of a last non-empty stdout line `metric=<float>`, else None."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if not lines or not lines[-1].startswith(METRIC):
        return None
    try:
        return float(lines[-1][len(METRIC):])
    except ValueError:
        return None


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _tail(text: str) -> list[str]:
    return text.splitlines()[-TAIL_LINES:]
