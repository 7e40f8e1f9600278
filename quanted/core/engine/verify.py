"""`quanted verify`: run the float model, the current quantized model and (when the history has
it) the plain quantized model from before the first hybrid run through `pegasus inference`,
and compare their outputs the way ACUITY's hybrid guide does (top-5 side by side), plus
cosine similarity, max absolute error, top-1 agreement and top-5 overlap against float.

The API is Textual-free so a TUI worker can drive it:

    the_plan = plan(doc, pegasus=None, iterations=1)    # doc: an open QuantizeDocument
    the_plan.runs                                       # [VerifyRun(label, title, command, ..)]
    control = VerifyControl()                           # control.cancel() from any thread
    result = run(the_plan, on_line, on_progress, process_ready, control=control)
    result.to_json(); result.summary()                  # see VerifyResult
    attempts = verify_history(path); best(attempts)          # quanted.core.engine.attempts

`run` either returns a complete VerifyResult (already recorded in the history folder as a
"verify" entry) or raises a QuantedError: InferenceFailed (exit_code = the engine's status, with
`.run`, `.status`, `.tail`), VerifyCancelled (130), OutputsError (2). It verifies the file as
it is on disk: a TUI saves first. Every run happens in the file's folder (the inputmeta names
the dataset relative to it) and dumps into a temporary folder that is removed afterwards; the
history copy is copied there first, so the engine never writes into `.quanted/history/`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document import QuantizeDocument
from quanted.core.engine import baseline
from quanted.core.engine import command as cmd
from quanted.core.engine.attempts import VerifyAttempt, best, verify_history  # noqa: F401 (API)
from quanted.core.engine.discovery import find_pegasus
from quanted.core.engine.outputs import Comparison, OutputsError, VerifySummary, compare, \
    find_dumps, model_io, read_tensor, top_k
from quanted.core.engine.process import EngineControl, EngineProcess, EngineRunCancelled, \
    EngineRunFailed
from quanted.core.errors import EditError, QuantedError
from quanted.core.history import History

FLOAT, QUANTIZED, PLAIN = "float", "quantized", "plain_quantized"
TAIL_LINES = 20


class InferenceFailed(EngineRunFailed):
    """A `pegasus inference` run exited non-zero; `exit_code` is its status."""

    run: VerifyRun

    def __init__(self, run: VerifyRun, status: int, tail: list[str]) -> None:
        super().__init__(f"pegasus inference ({run.label}) exited with status {status}",
                         run, status, tail)


class VerifyCancelled(EngineRunCancelled):
    pass


@dataclass(frozen=True)
class VerifyRun:
    label: str  # FLOAT, QUANTIZED or PLAIN: the keys of the JSON
    title: str  # for people: "float32", "quantized (hybrid model)", ...
    command: list[str]
    model: Path  # the model .json it runs: its `op: output` layers are the outputs compared
    output_dir: Path


@dataclass
class VerifyPlan:
    quantize: Path
    iterations: int
    runs: list[VerifyRun]
    customized: dict[str, str]
    workdir: Path  # created by `run`, removed afterwards unless keep_workdir
    keep_workdir: bool = False
    plain_source: Path | None = None  # the kept base (.quanted/base/), for people
    plain_copy: Path | None = None  # where the base is written (in workdir) for the engine
    plain_base: baseline.Base | None = None  # the plain model: the base table, no list applied
    base_key: str | None = None  # the file's base (baseline.Base.key), plain row run or not
    configuration: str = ""  # what the quantized run measures: the table's raised layers
    block: str = ""  # the customized block verified, comments included (for `quanted restore`)
    notes: list[str] = field(default_factory=list)

    @property
    def cwd(self) -> Path:
        return self.quantize.parent


def plan(doc: QuantizeDocument, pegasus: str | None = None, iterations: int = 1,
         workdir: Path | None = None, plain: bool = True) -> VerifyPlan:
    """The runs and their exact commands, without running anything. `workdir` (kept afterwards)
    receives the dumps; by default a fresh folder under the system temp folder (removed).
    `plain`: also run the plain model (the file's base, baseline.py) when the file is not it."""
    if iterations < 1:
        raise cmd.CommandError(f"--iterations must be at least 1, not {iterations}")
    if doc.path is None:
        raise EditError("the document has no file: pegasus reads the file from disk")
    quantize = doc.path.absolute()
    files = cmd.model_files(quantize)
    prefix = find_pegasus(pegasus)
    keep = workdir is not None
    work = (workdir.absolute() if workdir is not None
            else Path(tempfile.gettempdir()) / f"quanted-verify-{uuid.uuid4().hex[:12]}")
    common = ["--model-data", files.data.name, "--with-input-meta", files.inputmeta.name]
    tail = ["--postprocess", "dump_results", "--iterations", str(iterations)]

    def inference(label: str, model: Path, extra: list[str]) -> list[str]:
        return [*prefix, "inference", "--model", cmd.safe_arg(model.name), *common, *extra, *tail,
                "--output-dir", str(work / label)]

    hybrid_model = cmd.hybrid_model(quantize)
    model = hybrid_model if hybrid_model.is_file() else files.model
    runs = [
        VerifyRun(FLOAT, "float32", inference(FLOAT, files.model, ["--dtype", "float32"]),
                  files.model, work / FLOAT),
        VerifyRun(QUANTIZED, "quantized (hybrid model)" if model == hybrid_model else "quantized",
                  inference(QUANTIZED, model, ["--model-quantize", cmd.safe_arg(quantize.name),
                                               "--dtype", "quantized"]),
                  model, work / QUANTIZED),
    ]
    the_plan = VerifyPlan(quantize, iterations, runs, doc.customized, work, keep)
    the_plan.block = doc.block_text()
    found = baseline.find(quantize, doc) if plain else baseline.Found(None)
    the_plan.notes.extend(found.notes)
    base = found.base
    the_plan.base_key = base.key if base is not None else None
    table = baseline.applied(doc, base.calibration.plain if base is not None else None)
    the_plan.configuration = (f"the file's table: {len(table)} layer(s) raised"
                              if table else "the file's table: plain, no layer raised")
    if base is not None and (model == hybrid_model or table or baseline.converters(doc)):
        copy = work / f"plain_{quantize.name}"
        runs.append(VerifyRun(
            PLAIN, "plain quantized (the base table, no list applied)",
            inference(PLAIN, files.model, ["--model-quantize", str(copy), "--dtype", "quantized"]),
            files.model, work / PLAIN))
        the_plan.plain_base, the_plan.plain_copy = base, copy
        the_plan.plain_source = quantize.parent / baseline.BASE_DIR[0] / baseline.BASE_DIR[1] / \
            quantize.name
    pending = not_applied(doc)
    if pending:
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        shown = ", ".join(pending[:3]) + more
        the_plan.notes.append(
            f"{len(pending)} customized layer(s) are not applied in quantize_parameters yet "
            f"({shown}): this verifies the quantization the file has; "
            "`quanted hybrid` applies them")
    return the_plan


def not_applied(doc: QuantizeDocument) -> list[str]:
    """Customized layers (`QUANTIZER-QTYPE` values) none of whose outN tensors has that quantizer
    and qtype: edited since the last hybrid run, or added by it (the engine appends layers to
    customized_quantize_layers that it does not apply in the same run), or refused by it."""
    by_layer = {layer: [(t.quantizer, t.qtype) for t in tensors if t.port.startswith("out")]
                for layer, tensors in doc.qtypes_by_layer().items()}
    pending = []
    for layer, value in doc.customized.items():
        quantizer, sep, qtype = value.rpartition("-")
        if sep and by_layer.get(layer) and (quantizer, qtype) not in by_layer[layer]:
            pending.append(layer)
    return pending


class VerifyControl(EngineControl):
    """Cancel a `run` from another thread: stops the engine run now and starts no more."""

    _attach = EngineControl.attach


@dataclass(frozen=True)
class RunRecord:
    label: str
    command: list[str]
    seconds: float


@dataclass
class VerifyResult:
    """Figures per output tensor key (as pegasus names it) and per iteration.

    `quantized[T][i]` / `plain[T][i]` compare that run with float at iteration i
    (outputs.Comparison: cosine, max_abs_error, top1, top5_overlap, top5); `float_top5[T][i]` is
    float's top-5 as (class, probability). `plain` is None when no plain table is known or the
    file is plain itself. `time` is the history stamp of the recorded entry; `base` the key of
    the plain table and calibration (baseline.Base.key) and `inputs` the dataset's digest:
    attempts compare only within both."""

    quantize: Path
    iterations: int
    customized: dict[str, str]
    tensors: list[str]
    float_top5: dict[str, list[list[tuple[int, float]]]]
    quantized: dict[str, list[Comparison]]
    plain: dict[str, list[Comparison]] | None
    runs: list[RunRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plain_source: Path | None = None
    time: str | None = None
    base: str | None = None
    inputs: str | None = None
    configuration: str = ""

    def summary(self, label: str = QUANTIZED) -> VerifySummary | None:
        """The QUANTIZED or PLAIN run's figures over every tensor and iteration."""
        figures = self.quantized if label == QUANTIZED else self.plain
        return None if figures is None else VerifySummary.of(figures)

    def to_json(self) -> dict:
        """The JSON shape (also what the history records, without `file` and `time`):

        {"file", "time", "iterations", "customized": {LAYER: QTYPE}, "tensors": [T, ...],
         "cosine": {T: [float per iteration]}, "max_abs_error": {T: [...]},
         "top1_agreement": {T: [bool per iteration]}, "top5_overlap": {T: [0..1 per iteration]},
         "top5": {"float": {T: [[[class, prob] x5] per iteration]}, "quantized": {...},
                  "plain_quantized": {...} (only when the plain run was made)},
         "plain_quantized": null | {"source": history copy, "cosine", "max_abs_error",
                                    "top1_agreement", "top5_overlap"} (same shapes),
         "summary": {"quantized": {...}, "plain_quantized": {...} | null},
         "runs": [{"label", "command", "seconds"}], "notes": [...]}
        """
        def per(figures: dict[str, list[Comparison]], attr: str) -> dict:
            return {t: [getattr(c, attr) for c in figures[t]] for t in self.tensors}

        def top5(figures: dict[str, list[Comparison]]) -> dict:
            return {t: [[[k, p] for k, p in c.top5] for c in figures[t]] for t in self.tensors}

        out: dict = {
            "file": str(self.quantize),
            "time": self.time,
            "iterations": self.iterations,
            "customized": self.customized,
            "tensors": self.tensors,
            "cosine": per(self.quantized, "cosine"),
            "max_abs_error": per(self.quantized, "max_abs_error"),
            "top1_agreement": per(self.quantized, "top1"),
            "top5_overlap": per(self.quantized, "top5_overlap"),
            "top5": {
                FLOAT: {t: [[[k, p] for k, p in it] for it in self.float_top5[t]]
                        for t in self.tensors},
                QUANTIZED: top5(self.quantized),
            },
            PLAIN: None,
            "summary": {label: summary.to_json() if summary else None
                        for label, summary in ((QUANTIZED, self.summary(QUANTIZED)),
                                               (PLAIN, self.summary(PLAIN)))},
            "runs": [{"label": r.label, "command": r.command, "seconds": round(r.seconds, 2)}
                     for r in self.runs],
            "notes": self.notes,
            "base": self.base,
            "inputs": self.inputs,
            "configuration": self.configuration,
        }
        if self.plain is not None:
            out["top5"][PLAIN] = top5(self.plain)
            out[PLAIN] = {
                "source": str(self.plain_source) if self.plain_source else None,
                **{name: per(self.plain, attr) for name, attr in (
                    ("cosine", "cosine"), ("max_abs_error", "max_abs_error"),
                    ("top1_agreement", "top1"), ("top5_overlap", "top5_overlap"))},
            }
        return out


def _execute(run: VerifyRun, cwd: Path, on_line: Callable[[str], None],
             process_ready: Callable[[EngineProcess], None], control: VerifyControl) -> None:
    run.output_dir.mkdir(parents=True, exist_ok=True)
    process = EngineProcess(run.command, cwd)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    process.start()
    control._attach(process)
    process_ready(process)

    def handle(line: str) -> None:
        tail.append(line)
        on_line(line)

    try:
        status = process.follow(handle)
    finally:
        control._attach(None)
    if control.cancelled.is_set() or process.cancelled.is_set():
        raise VerifyCancelled(f"verify cancelled during the {run.label} run", cwd)
    if status != 0:
        raise InferenceFailed(run, status, list(tail))


def _outputs(run: VerifyRun) -> dict[str, list]:
    keys, _ = model_io(run.model)
    if not keys:
        raise OutputsError("the model has no output layer (`op: output`)", run.model)
    return {key: [read_tensor(d.path) for d in dumps]
            for key, dumps in find_dumps(run.output_dir, keys).items()}


def run(
    the_plan: VerifyPlan,
    on_line: Callable[[str], None] = lambda line: None,
    on_progress: Callable[[int, int, VerifyRun], None] = lambda index, total, step: None,
    process_ready: Callable[[EngineProcess], None] = lambda process: None,
    *,
    control: VerifyControl | None = None,
) -> VerifyResult:
    """Run the plan's inferences one after another and compare. `on_line` gets every log line
    (with its colours); `on_progress(i, total, run)` is called before run i (1-based);
    `process_ready` gets each engine process; `control.cancel()` stops it all."""
    control = control or VerifyControl()
    for step in the_plan.runs:
        if step.output_dir.exists():
            shutil.rmtree(step.output_dir)  # stale dumps from a kept workdir must not count
    the_plan.workdir.mkdir(parents=True, exist_ok=True)
    try:
        if the_plan.plain_base is not None and the_plan.plain_copy is not None:
            the_plan.plain_copy.write_bytes(the_plan.plain_base.data)
        records = []
        for index, step in enumerate(the_plan.runs, 1):
            if control.cancelled.is_set():
                raise VerifyCancelled(f"verify cancelled before the {step.label} run",
                                      the_plan.quantize)
            on_progress(index, len(the_plan.runs), step)
            started = time.monotonic()
            _execute(step, the_plan.cwd, on_line, process_ready, control)
            records.append(RunRecord(step.label, step.command, time.monotonic() - started))
        values = {step.label: _outputs(step) for step in the_plan.runs}
    finally:
        if not the_plan.keep_workdir:
            shutil.rmtree(the_plan.workdir, ignore_errors=True)
    result = _figures(the_plan, values)
    result.runs = records
    data = result.to_json()
    del data["file"], data["time"]
    data["block"] = the_plan.block
    result.time = History(the_plan.quantize).record("verify", data).time
    return result


def _figures(the_plan: VerifyPlan, values: dict[str, dict[str, list]]) -> VerifyResult:
    reference = values[FLOAT]
    tensors = list(reference)
    compared: dict[str, dict[str, list[Comparison]]] = {}
    for label, outputs in values.items():
        if label == FLOAT:
            continue
        missing = [t for t in tensors if t not in outputs]
        if missing:
            raise OutputsError(f"the {label} model has no output {', '.join(missing)}",
                               the_plan.quantize)
        compared[label] = {}
        for t in tensors:
            if len(outputs[t]) != len(reference[t]):
                raise OutputsError(f"the float and {label} runs dumped {len(reference[t])} and "
                                   f"{len(outputs[t])} iterations of {t}", the_plan.quantize)
            compared[label][t] = [compare(f, q) for f, q in zip(reference[t], outputs[t])]
    return VerifyResult(
        quantize=the_plan.quantize,
        iterations=the_plan.iterations,
        customized=the_plan.customized,
        tensors=tensors,
        float_top5={t: [top_k(v) for v in reference[t]] for t in tensors},
        quantized=compared[QUANTIZED],
        plain=compared.get(PLAIN),
        notes=list(the_plan.notes),
        plain_source=the_plan.plain_source,
        base=the_plan.base_key,
        inputs=inputs_digest(the_plan.quantize, the_plan.iterations),
        configuration=the_plan.configuration,
    )


def inputs_digest(quantize: Path, iterations: int) -> str | None:
    """The dataset a verify measured (the listing, the files it names, N): figures over other
    inputs do not compare."""
    import hashlib

    try:
        listings, inputs = cmd.dataset_files(cmd.model_files(quantize).inputmeta)
    except QuantedError:
        return None
    digest = hashlib.sha256(str(iterations).encode())
    for relative in (*listings, *inputs):
        try:
            data = (quantize.parent / relative).read_bytes()
        except OSError:
            return None
        digest.update(str(relative).encode() + b"\0" + data)
    return digest.hexdigest()[:16]
