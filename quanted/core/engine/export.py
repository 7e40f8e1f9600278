"""`quanted export`: `pegasus export ovxlib` with the inputs ACUITY's guide insists on. After a
hybrid run the model is NAME_POSTFIX.quantize.json (converter layers were inserted), not
NAME.json; exporting before the hybrid run, or after editing the list without rerunning it,
gives a case without the customized layers, so that is refused unless forced.

    the_plan = plan(Path("m_uint8.quantize"), output=None, force=False)   # runs nothing
    result = run(the_plan, on_line)    # ExportResult: status, problems found in the log, files
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.engine.discovery import find_pegasus
from quanted.core.engine.logscan import LEVEL, strip_ansi
from quanted.core.engine.model_json import ModelError, read_layers
from quanted.core.engine.process import EngineProcess
from quanted.core.engine.verify import not_applied
from quanted.core.errors import EditError

# "DFP INT16, ASYM UINT8": two tensors of one layer the exporter cannot join.
DTYPE_PAIR = re.compile(r"\b(?:DFP|ASYM|SYM|PERCHANNEL|FP|BF|FLOAT)\w*\s+[A-Z]*(?:INT|FLOAT)\d+"
                        r"\s*,\s*(?:DFP|ASYM|SYM|PERCHANNEL|FP|BF|FLOAT)\w*\s+[A-Z]*(?:INT|FLOAT)"
                        r"\d+", re.IGNORECASE)
UNSUPPORTED = re.compile(r"unsupport|not support", re.IGNORECASE)
QUOTED = re.compile(r"[\"'(\[]([^\"'()\[\]\s]+)[\"')\]]")


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


def staleness(quantize: Path, doc: QuantizeDocument) -> list[str]:
    """Why an export now would not hold the customized layers; [] when it would."""
    hybrid_model = cmd.hybrid_model(quantize)
    if not hybrid_model.is_file():
        if not doc.customized:
            return []
        return [(f"{hybrid_model.name} does not exist: the hybrid run has not been made, so "
                 f"the export would not contain the {len(doc.customized)} customized layer(s) "
                 f"(run `quanted hybrid {quantize.name}` first)")]
    if hybrid_model.stat().st_mtime_ns >= quantize.stat().st_mtime_ns:
        return []
    # quanted hybrid saves the file again to put comments back: newer is not always stale.
    pending = not_applied(doc)
    if not pending:
        return []
    shown = ", ".join(pending[:3]) + (f" and {len(pending) - 3} more" if len(pending) > 3 else "")
    return [(f"{hybrid_model.name} is older than {quantize.name} and {len(pending)} "
             f"customized layer(s) are not applied yet ({shown}): the export would not contain "
             f"them (run `quanted hybrid {quantize.name}` first)")]


def plan(quantize: Path, output: Path | None = None, dtype: str = "quantized",
         pegasus: str | None = None, force: bool = False) -> ExportPlan:
    quantize = quantize.absolute()
    doc = QuantizeDocument.open(quantize)
    files = cmd.model_files(quantize)
    hybrid_model = cmd.hybrid_model(quantize)
    model = hybrid_model if hybrid_model.is_file() else files.model
    target = (output or default_output(quantize)).absolute()
    problems = staleness(quantize, doc)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        problems.append(f"{target} exists and is not an empty folder")
    if problems and not force:
        raise EditError("refusing to export: " + "; ".join(problems) + " (--force exports anyway)",
                        quantize)
    command = [*find_pegasus(pegasus), "export", "ovxlib",
               "--model", model.name, "--model-data", files.data.name,
               "--model-quantize", quantize.name, "--with-input-meta", files.inputmeta.name,
               "--dtype", dtype, "--output-path", str(target / files.name)]
    return ExportPlan(quantize, model, target, command, problems)


@dataclass(frozen=True)
class ExportProblem:
    kind: str  # "dtype-mismatch", "unsupported", "error"
    message: str  # the log line, without colour
    layer: str | None

    def describe(self) -> str:
        return (f"layer {self.layer!r}: " if self.layer else "") + self.message


def scan_export_line(line: str, layers: set[str]) -> ExportProblem | None:
    """A problem the exporter reports on this log line, with the layer it names, if any."""
    plain = strip_ansi(line).rstrip()
    match = LEVEL.match(plain)
    text = match["text"] if match else plain
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


def run(the_plan: ExportPlan, on_line: Callable[[str], None] = lambda line: None, *,
        process_ready: Callable[[EngineProcess], None] = lambda proc: None) -> ExportResult:
    try:
        layers = set(read_layers(the_plan.model))
    except ModelError:
        layers = set()
    the_plan.output.mkdir(parents=True, exist_ok=True)
    process = EngineProcess(the_plan.command, the_plan.cwd)
    result = ExportResult(status=0, engine_status=None, output=the_plan.output)
    process.start()
    process_ready(process)

    def handle(line: str) -> None:
        on_line(line)
        problem = scan_export_line(line, layers)
        if problem is not None:
            result.problems.append(problem)

    result.engine_status = process.follow(handle)
    result.cancelled = process.cancelled.is_set()
    result.files = sorted(str(p.relative_to(the_plan.output))
                          for p in the_plan.output.rglob("*") if p.is_file())
    if result.cancelled:
        result.status = 130
    elif result.engine_status:
        result.status = result.engine_status if 0 < result.engine_status < 256 else 1
    elif result.problems or not result.files:
        result.status = 1
    return result
