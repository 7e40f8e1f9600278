"""`quanted export`: `pegasus export ovxlib` with the inputs ACUITY's guide insists on. After a
hybrid run the model is NAME_POSTFIX.quantize.json (converter layers were inserted), not
NAME.json; exporting before the hybrid run, or after changing the list or rebuilding the file
without rerunning it (export_stale.py has the rule), gives a case without the customized
layers, so that is refused (ExportRefused) unless forced.

    the_plan = plan(doc, output=None, force=False)   # doc: the open file; runs nothing
    result = run(the_plan, Events(line=on_line), Cancel())   # the contract: step.py
    # ExportResult: status, problems found in the log, files; a failed or cancelled
    # run raises StepFailed/StepCancelled carrying it
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.engine.discovery import find_pegasus
from quanted.core.engine.export_stale import stale_reasons
from quanted.core.engine.logscan import LEVEL, strip_ansi
from quanted.core.engine.model_json import ModelError, read_layers
from quanted.core.engine.process import EngineProcess
from quanted.core.engine.step import Cancel, StepRun, Events, StepCancelled, StepFailed
from quanted.core.errors import EditError

# "DFP INT16, ASYM UINT8": two tensors of one layer the exporter cannot join.
DTYPE_PAIR = re.compile(r"\b(?:DFP|ASYM|SYM|PERCHANNEL|FP|BF|FLOAT)\w*\s+[A-Z]*(?:INT|FLOAT)\d+"
                        r"\s*,\s*(?:DFP|ASYM|SYM|PERCHANNEL|FP|BF|FLOAT)\w*\s+[A-Z]*(?:INT|FLOAT)"
                        r"\d+", re.IGNORECASE)
UNSUPPORTED = re.compile(r"unsupport|not support", re.IGNORECASE)
# The real engine's lines (acuitylite 6.57.1; tests/engine/test_export_errors_engine.py):
# a tensor of the model with no entry in the .quantize is exported in float, exit 0:
#   D 09:22:40 Tensor @L_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_44:out0 type: float32
# (a quantized one reads `type: float32(fake asymmetric_affine)`);
# an input it cannot read, then the error:
#   W 09:19:24 Load file /…/tinynet.data failed.
#   E 09:19:24 Exception:<class '_pickle.UnpicklingError'> Failed to interpret file … as a pickle
# and a failure outside its logger ends a Python traceback, with no E line:
#   NotADirectoryError: [Errno 20] Not a directory: '/…/case'
NOT_QUANTIZED = re.compile(r"^Tensor @(?P<layer>.+):(?P<port>\w+) type: float32$")
LOAD_FAILED = re.compile(r"^Load file (?P<path>.+) failed\.$")
EXCEPTION_TAIL = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception)(?::\s.*)?$")
QUOTED = re.compile(r"[\"'(\[]([^\"'()\[\]\s]+)[\"')\]]")
TAIL_LINES = 20


@dataclass
class ExportPlan:
    quantize: Path
    model: Path  # NAME_POSTFIX.quantize.json after a hybrid run, else NAME.json
    output: Path  # the folder the case is written into
    command: list[str]
    warnings: list[str] = field(default_factory=list)  # what --force overrode

    @property
    def cwd(self) -> Path:
        return self.quantize.parent


def default_output(quantize: Path) -> Path:
    stem = quantize.name[: -len(".quantize")] if quantize.name.endswith(".quantize") else \
        quantize.stem
    return quantize.parent / f"{stem}_export"


class ExportRefused(EditError):
    """The export would not hold the customized list (`stale`: the fix is a hybrid run), or
    the output folder is not empty; --force overrides both."""

    def __init__(self, quantize: Path, stale: list[str], folder: str | None) -> None:
        self.stale, self.folder = stale, folder
        fix = (f"; run `quanted hybrid {quantize.name}` (ctrl+r in the editor) first"
               if stale else "")
        super().__init__("refusing to export: " + "; ".join([*stale, *filter(None, [folder])])
                         + fix + " (--force exports anyway)", quantize)


def plan(doc: QuantizeDocument, output: Path | None = None, dtype: str = "quantized",
         pegasus: str | None = None, force: bool = False) -> ExportPlan:
    if doc.path is None:
        raise EditError("the document has no file: pegasus exports a file on disk")
    quantize = doc.path.absolute()
    files = cmd.model_files(quantize)
    hybrid_model = cmd.hybrid_model(quantize)
    model = hybrid_model if hybrid_model.is_file() else files.model
    target = (output or default_output(quantize)).absolute()
    blocked = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocked is not None:  # the engine would fail on it after its 10 s start-up
        raise EditError(f"cannot export into {target}: {blocked} is not a folder", quantize)
    stale = stale_reasons(quantize, doc)
    folder = None
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        folder = f"{target} exists and is not an empty folder"
    if (stale or folder) and not force:
        raise ExportRefused(quantize, stale, folder)
    problems = [*stale, *filter(None, [folder])]
    command = [*find_pegasus(pegasus), "export", "ovxlib",
               "--model", model.name, "--model-data", files.data.name,
               "--model-quantize", quantize.name, "--with-input-meta", files.inputmeta.name,
               "--dtype", dtype, "--output-path", str(target / files.name)]
    return ExportPlan(quantize, model, target, command, problems)


@dataclass(frozen=True)
class ExportProblem:
    # "dtype-mismatch", "unsupported", "not-quantized", "unreadable-input", "error",
    # "exception" (a traceback's last line)
    kind: str
    message: str  # the log line, without colour
    layer: str | None

    def describe(self) -> str:
        return (f"layer {self.layer!r}: " if self.layer else "") + self.message


def scan_export_line(line: str, layers: set[str], quantized: bool = True
                     ) -> ExportProblem | None:
    """A problem the exporter reports on this log line, with the layer it names, if any.
    `quantized`: the export's --dtype is quantized (a float32 tensor is then a problem)."""
    plain = strip_ansi(line).rstrip()
    match = LEVEL.match(plain)
    text = match["text"] if match else plain
    found = NOT_QUANTIZED.match(text) if match else None
    if found:
        if not quantized:
            return None
        return ExportProblem("not-quantized", f"{text}: no entry in the .quantize file, so the "
                             "case runs it in float", found["layer"])
    found = LOAD_FAILED.match(text) if match else None
    if found:
        return ExportProblem("unreadable-input", text, None)
    if match is None and EXCEPTION_TAIL.match(text):
        return ExportProblem("exception", text, _layer_in(text, layers))
    if DTYPE_PAIR.search(text):
        kind = "dtype-mismatch"
    elif UNSUPPORTED.search(text) and (match is None or match["level"] in "WE"):
        kind = "unsupported"
    elif match and match["level"] == "E":
        kind = "error"
    else:
        return None
    return ExportProblem(kind, text, _layer_in(text, layers))


def _layer_in(text: str, layers: set[str]) -> str | None:
    for word in QUOTED.findall(text):
        candidate = word.lstrip("@").rsplit(":", 1)[0] if ":" in word else word.lstrip("@")
        if candidate in layers:
            return candidate
    for word in re.findall(r"@?[\w/.\-]+(?::\w+)?", text):
        candidate = word.lstrip("@").rsplit(":", 1)[0]
        if candidate in layers:
            return candidate
    return None


def model_tail(definitions: dict[str, object]) -> set[str]:
    """The output layers and the layers that feed only them: the engine exports these as
    float32 after a hybrid run whose converter ends the graph (measured: the sample's softmax
    `output_1` and `attach_output/out0_0`), which is not a missing entry."""
    ops = {name: d.get("op") if isinstance(d, dict) else None for name, d in definitions.items()}
    consumers: dict[str, set[str]] = {}
    for name, d in definitions.items():
        for source in (d.get("inputs") or []) if isinstance(d, dict) else []:
            producer = str(source).lstrip("@").rsplit(":", 1)[0]
            consumers.setdefault(producer, set()).add(name)
    outputs = {name for name, op in ops.items() if op == "output"}
    return outputs | {name for name, used in consumers.items() if used and used <= outputs}


def _dtype(command: list[str]) -> str:
    return command[command.index("--dtype") + 1] if "--dtype" in command[:-1] else "quantized"


@dataclass
class ExportResult:
    status: int
    engine_status: int | None
    output: Path
    problems: list[ExportProblem] = field(default_factory=list)
    cancelled: bool = False
    files: list[str] = field(default_factory=list)  # what the case folder holds, sorted

    def to_json(self) -> dict:
        return {"status": self.status, "engine_status": self.engine_status,
                "output": str(self.output), "cancelled": self.cancelled,
                "problems": [{"kind": p.kind, "layer": p.layer, "message": p.message}
                             for p in self.problems],
                "files": self.files}


def run(the_plan: ExportPlan, events: Events[None] = Events(),
        cancel: Cancel | None = None) -> ExportResult:
    """Export (the contract: engine/step.py): the result, whose status is 1 when the log
    named problems or nothing was written; StepFailed when pegasus exited non-zero,
    StepCancelled when cancelled, each carrying the result."""
    cancel = cancel or Cancel()
    try:
        definitions = read_layers(the_plan.model)
    except ModelError:
        definitions = {}
    layers = set(definitions)
    tail = model_tail(definitions)
    the_plan.output.mkdir(parents=True, exist_ok=True)
    process = EngineProcess(the_plan.command, the_plan.cwd)
    result = ExportResult(status=0, engine_status=None, output=the_plan.output)
    process.start()
    cancel.attach(process)

    quantized = _dtype(the_plan.command).startswith("quantized")
    seen: set[tuple[str, str]] = set()
    tails: list[ExportProblem] = []

    log_tail: deque[str] = deque(maxlen=TAIL_LINES)

    def handle(line: str) -> None:
        log_tail.append(line)
        events.line(line)
        problem = scan_export_line(line, layers, quantized)
        if problem is None or (problem.kind, problem.message) in seen:
            return  # the exporter goes over the graph twice: each tensor line comes twice
        if problem.kind == "not-quantized" and problem.layer in tail:
            return
        seen.add((problem.kind, problem.message))
        (tails if problem.kind == "exception" else result.problems).append(problem)

    try:
        result.engine_status = process.follow(handle)
    finally:
        cancel.detach(process)
    # A traceback repeats what an E line said; its last line counts only when none did.
    if tails and not any(p.kind == "error" for p in result.problems):
        result.problems.append(tails[-1])
    result.cancelled = process.cancelled.is_set()
    result.files = sorted(str(p.relative_to(the_plan.output))
                          for p in the_plan.output.rglob("*") if p.is_file())
    if result.cancelled:
        result.status = 130
        raise StepCancelled("export cancelled", the_plan.quantize, result=result)
    if result.engine_status:
        result.status = result.engine_status if 0 < result.engine_status < 256 else 1
        raise StepFailed(f"pegasus export exited with status {result.engine_status}",
                         result.status, list(log_tail),
                         StepRun("pegasus export", the_plan.command), the_plan.quantize, result)
    if result.problems or not result.files:
        result.status = 1
    return result
