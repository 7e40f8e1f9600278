"""`quanted verify`: run the float model, the current quantized model and (when the history has
it) the plain quantized model from before the first hybrid run through `pegasus inference`,
and compare their outputs the way ACUITY's hybrid guide does (top-5 side by side), plus
cosine similarity, max absolute error, top-1 agreement and top-5 overlap against float, and
per output over every input (verify_result, output_figures); optionally the user's own task
check (taskcheck) on each quantized run.

The API is Textual-free so a TUI worker can drive it:

    the_plan = plan(doc, pegasus=None, iterations=1)    # doc: an open QuantizeDocument
    the_plan.runs                                       # [VerifyRun(label, title, command, ..)]
    cancel = Cancel()                                   # cancel.cancel() from any thread
    result = run(the_plan, Events(line=on_line, progress=on_progress), cancel)
    result.to_json(); result.summary()                  # see VerifyResult
    attempts = verify_history(path); best(attempts)          # quanted.core.engine.attempts

`run` either returns a complete VerifyResult (already recorded in the history folder as a
"verify" entry) or raises a QuantedError: InferenceFailed (a StepFailed: exit_code = the
engine's status, with `.run`, `.status`, `.tail`), VerifyCancelled (a StepCancelled: 130),
OutputsError (2), CheckBroken (2: the check neither accepted nor refused). It verifies the
file as it is on disk: a TUI saves first. Every run happens in the file's folder (the
inputmeta names the dataset relative to it) and dumps into a temporary folder that is removed
afterwards; the history copy is copied there first, so the engine never writes into
`.quanted/history/`.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline
from quanted.core.engine import command as cmd
from quanted.core.engine.tables import describe
from quanted.core.engine.attempts import VerifyAttempt, best, verify_history  # noqa: F401 (API)
from quanted.core.engine.discovery import find_pegasus
from quanted.core.engine.output_figures import resolve_name
from quanted.core.engine.outputs import OutputsError, find_dumps, model_io, read_tensor
from quanted.core.engine.taskcheck import Layout, TaskCheck, write_outputs
from quanted.core.engine.process import EngineProcess
from quanted.core.engine.step import Cancel, Events, StepCancelled, StepFailed
from quanted.core.errors import EditError, QuantedError
from quanted.core.engine.verify_result import FLOAT, PLAIN, QUANTIZED, RunRecord, \
    VerifyResult, figures
from quanted.core.state.history import History

TAIL_LINES = 20


class InferenceFailed(StepFailed):
    """A `pegasus inference` run exited non-zero; `exit_code` is its status."""

    run: VerifyRun

    def __init__(self, run: VerifyRun, status: int, tail: list[str]) -> None:
        super().__init__(f"pegasus inference ({run.label}) exited with status {status}",
                         status, tail, run)


class VerifyCancelled(StepCancelled):
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
    base: baseline.Base | None = None  # the file's base, plain row run or not (kept at run)
    configuration: str = ""  # what the quantized run measures: the table's raised layers
    block: str = ""  # the customized block verified, comments included (for `quanted restore`)
    notes: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # output tensor key -> kind, overridden
    check: TaskCheck | None = None  # the user's task check (--check)
    dataset: list[str] = field(default_factory=list)  # the calibration dataset's lines

    @property
    def cwd(self) -> Path:
        return self.quantize.parent


def plan(doc: QuantizeDocument, pegasus: str | None = None, iterations: int = 1,
         workdir: Path | None = None, kinds: dict[str, str] | None = None,
         check: TaskCheck | None = None, plain: bool = True) -> VerifyPlan:
    """The runs and their exact commands, without running anything. `workdir` (kept afterwards)
    receives the dumps; by default a fresh folder under the system temp folder (removed).
    `kinds` overrides output kinds ({NAME: "class"|"values"}, NAME as
    output_figures.resolve_name takes it); an unknown NAME is a CommandError. `check` (the
    user's taskcheck.TaskCheck) runs on each quantized run's outputs after the inferences.
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
    the_plan = VerifyPlan(quantize, iterations, runs, doc.customized, work, keep, check=check,
                          dataset=cmd.dataset_lines(files.inputmeta) or [])
    if kinds:
        outputs, _ = model_io(files.model)
        try:
            the_plan.kinds = {resolve_name(name, outputs): kind for name, kind in kinds.items()}
        except ValueError as exc:
            raise cmd.CommandError(f"--output: {exc}") from None
    the_plan.block = doc.block_text()
    found = baseline.find(quantize, doc, remember=False) if plain else baseline.Found(None)
    the_plan.notes.extend(found.notes)
    base = found.base
    the_plan.base = base
    table = baseline.applied(doc, base.calibration.plain if base is not None else None)
    the_plan.configuration = describe(doc, base.calibration.plain if base is not None else None)
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


@dataclass(frozen=True)
class VerifyProgress:
    """Before run `index` (1-based) of `total`."""

    index: int
    total: int
    run: VerifyRun


def _execute(run: VerifyRun, cwd: Path, on_line: Callable[[str], None], cancel: Cancel) -> None:
    run.output_dir.mkdir(parents=True, exist_ok=True)
    process = EngineProcess(run.command, cwd)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    process.start()
    cancel.attach(process)

    def handle(line: str) -> None:
        tail.append(line)
        on_line(line)

    try:
        status = process.follow(handle)
    finally:
        cancel.detach(process)
    if cancel.is_set() or process.cancelled.is_set():
        raise VerifyCancelled(f"verify cancelled during the {run.label} run", cwd)
    if status != 0:
        raise InferenceFailed(run, status, list(tail))


def _outputs(run: VerifyRun) -> dict[str, list]:
    """Each output's arrays, one per input, in the shape the engine dumped them."""
    keys, _ = model_io(run.model)
    if not keys:
        raise OutputsError("the model has no output layer (`op: output`)", run.model)
    found: dict[str, list] = {}
    for key, dumps in find_dumps(run.output_dir, keys).items():
        found[key] = []
        for dump in dumps:
            values = read_tensor(dump.path)
            if values.size != math.prod(dump.shape):
                raise OutputsError(f"{values.size} numbers where the name says {dump.shape}",
                                   dump.path)
            found[key].append(values.reshape(dump.shape))
    return found


def _run_check(the_plan: VerifyPlan, check: TaskCheck, result: VerifyResult,
               values: dict[str, dict[str, list]], float_model: Path) -> None:
    """The user's check on each quantized run against float (taskcheck's protocol); float's
    outputs are written once."""
    lines = the_plan.dataset or [""]
    dataset = [lines[i % len(lines)] for i in range(the_plan.iterations)]
    layout = Layout.of(float_model, result.shapes, result.kinds, dataset)
    folder = the_plan.workdir / "check"
    float_dir = write_outputs(folder / FLOAT, values[FLOAT], layout, FLOAT)
    result.check = check.describe()
    for label in (QUANTIZED, PLAIN):
        if label in values:
            quant_dir = write_outputs(folder / label, values[label], layout, label)
            result.checks[label] = check.run(float_dir, quant_dir, the_plan.cwd)


def run(
    the_plan: VerifyPlan,
    events: Events[VerifyProgress] = Events(),
    cancel: Cancel | None = None,
) -> VerifyResult:
    """Run the plan's inferences one after another and compare (the contract:
    engine/step.py). `events.line` gets every log line (with its colours), `events.progress`
    a VerifyProgress before each run; `cancel.cancel()` stops it all."""
    cancel = cancel or Cancel()
    for step in the_plan.runs:
        if step.output_dir.exists():
            shutil.rmtree(step.output_dir)  # stale dumps from a kept workdir must not count
    the_plan.workdir.mkdir(parents=True, exist_ok=True)
    try:
        if the_plan.base is not None:
            baseline.persist(the_plan.base)  # an engine step saw it: kept from now on
        if the_plan.plain_base is not None and the_plan.plain_copy is not None:
            the_plan.plain_copy.write_bytes(the_plan.plain_base.data)
        records = []
        for index, step in enumerate(the_plan.runs, 1):
            if cancel.is_set():
                raise VerifyCancelled(f"verify cancelled before the {step.label} run",
                                      the_plan.quantize)
            events.progress(VerifyProgress(index, len(the_plan.runs), step))
            started = time.monotonic()
            _execute(step, the_plan.cwd, events.line, cancel)
            records.append(RunRecord(step.label, step.command, time.monotonic() - started))
        values = {step.label: _outputs(step) for step in the_plan.runs}
        float_model = next(r.model for r in the_plan.runs if r.label == FLOAT)
        result = figures(values, quantize=the_plan.quantize, iterations=the_plan.iterations,
                         customized=the_plan.customized, float_model=float_model,
                         kinds=the_plan.kinds, notes=the_plan.notes,
                         plain_source=the_plan.plain_source)
        result.base = the_plan.base.key if the_plan.base is not None else None
        result.configuration = the_plan.configuration
        result.inputs = inputs_digest(the_plan.quantize, the_plan.iterations)
        if the_plan.check is not None:
            _run_check(the_plan, the_plan.check, result, values, float_model)
    finally:
        if not the_plan.keep_workdir:
            shutil.rmtree(the_plan.workdir, ignore_errors=True)
    result.runs = records
    data = result.to_json()
    del data["file"], data["time"]
    data["block"] = the_plan.block
    result.time = History(the_plan.quantize).record("verify", data).time
    return result


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
