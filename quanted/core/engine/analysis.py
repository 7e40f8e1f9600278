"""Per-layer error analysis: where the quantized model's activations leave the float model's.

    a = load_current(path)                 # the cached analysis of the file as it is, or None
    a = load_latest(path)                  # the newest cached one, maybe stale (a.current)
    the_plan = plan(doc, iterations=None, pegasus=None)   # doc: open; runs nothing
    cancel = Cancel()                      # cancel.cancel() from any thread
    a = run(the_plan, Events(line=..., progress=...), cancel)   # the contract: step.py
    a.by_layer()["conv_3"].drop            # LayerFigures: cosine, cosine_min, cosine_raw, ...

Two engine runs of `pegasus inference` in the file's folder (the inputmeta names the dataset
relative to it), each over all N inputs at once through probe outputs (see probes.py): the float
model `NAME.json --dtype float32`, and the quantized one: `NAME_POSTFIX.quantize.json` when a
hybrid run made it and the file holds the converter layers it inserted, else `NAME.json`, with
`--model-quantize FILE --dtype quantized`. Everything the engine reads that quanted writes and
everything it dumps lives in a temporary folder, removed afterwards; the float dumps are then
kept in `.quanted/analysis/` (analysis_cache.py) and reused while the model and inputs stay
the same, so an analysis after editing the .quantize file is one engine run.

The clamp: ACUITY gives a tensor whose every consumer is a clamping activation (relu, relu6,
relun, clip) the activation's range (`min_value: 0.0`), so its quantized output is already
clamped while the float one is not; raw cosine would rank all those tensors worst. For such a
tensor the reference is the float output clipped to the range its quantized values saturate
to (layer_figures.clamp_range: the file's [min_value, max_value] for asymmetric_affine, the
qtype's range for dynamic_fixed_point); `clamped` says so, `cosine_raw` keeps the raw
comparison.

The model's own outputs (its `op: output` layers, which the engine dumps beside the probes) get
the figures verify gives per output (analysis_compare.compare_outputs: cosine, SQNR, max abs
error, kind, resolution), and `configuration` names what the quantized run measured: the file's
table as it is on disk, in verify's words (tables.describe).

`run` either returns a complete Analysis (stored in the cache) or raises: AnalysisFailed
(a StepFailed: exit_code = the engine's status; `.run`, `.status`, `.tail`), AnalysisCancelled
(a StepCancelled: 130), a
QuantedError with exit code 2 for missing or unreadable inputs.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis_cache as cache_mod
from quanted.core.engine import baseline
from quanted.core.engine import command as cmd
from quanted.core.engine import probes as probe_mod
from quanted.core.engine.analysis_compare import compare_dumps, compare_outputs
from quanted.core.engine.discovery import EngineNotFound, find_pegasus
from quanted.core.engine.layer_figures import LayerFigures
from quanted.core.engine.model_json import read_model
from quanted.core.engine.output_figures import OutputFigures
from quanted.core.engine.outputs import OutputsError
from quanted.core.engine.process import EngineProcess
from quanted.core.engine.step import Cancel, Events, StepCancelled, StepFailed
from quanted.core.engine.tables import describe
from quanted.core.errors import QuantedError

FLOAT, QUANTIZED = "float", "quantized"
TAIL_LINES = 20
_SAVED = re.compile(r"Save tensor .*[/\\]iter_(\d+)_")


class AnalysisFailed(StepFailed):
    """An engine run exited non-zero; `exit_code` is its status."""

    run: EngineRun

    def __init__(self, run: EngineRun, status: int, tail: list[str]) -> None:
        super().__init__(f"pegasus inference ({run.title}) exited with status {status}",
                         status, tail, run)


class AnalysisCancelled(StepCancelled):
    pass


@dataclass(frozen=True)
class EngineRun:
    label: str  # FLOAT or QUANTIZED
    title: str  # for people
    command: list[str]
    folder: Path  # the probed model, the probe list and dumps/


@dataclass(frozen=True)
class Progress:
    """Before each run (`input` 0) and when the engine starts writing input `input` (1-based)."""

    label: str
    title: str
    run: int  # 1-based among the runs this analysis makes
    runs: int
    input: int
    inputs: int

    @property
    def fraction(self) -> float:
        done = (self.run - 1) * self.inputs + max(self.input - 1, 0)
        return done / max(self.runs * self.inputs, 1)


@dataclass
class Analysis:
    file: Path
    iterations: int
    model: Path  # the quantized run's model .json
    float_model: Path
    key: str
    time: str  # ISO 8601, UTC
    layers: list[LayerFigures]
    runs: list[dict] = field(default_factory=list)  # {"label", "command", "seconds"}
    current: bool = True
    engine_runs: int = 0  # engine runs this call made (0 when it came from the cache)
    own_seconds: float = 0.0  # reading dumps, mapping, figures (not the engine)
    outputs: dict[str, OutputFigures] = field(default_factory=dict)  # per model output
    configuration: str = ""  # what the quantized run measured (tables.describe)

    def by_layer(self) -> dict[str, LayerFigures]:
        """Each layer's out0 figures (else its first port's)."""
        found: dict[str, LayerFigures] = {}
        for item in self.layers:
            if item.layer not in found or item.port == "out0":
                found[item.layer] = item
        return found

    def age_seconds(self, now: datetime | None = None) -> float:
        then = datetime.fromisoformat(self.time)
        return ((now or datetime.now(timezone.utc)) - then).total_seconds()

    def to_cache(self) -> dict:
        return {"key": self.key, "time": self.time, "file": str(self.file),
                "iterations": self.iterations, "model": str(self.model),
                "float_model": str(self.float_model), "runs": self.runs,
                "layers": [item.to_json() for item in self.layers],
                "outputs": [figures.to_json() for figures in self.outputs.values()],
                "configuration": self.configuration}

    @classmethod
    def from_cache(cls, data: dict, current: bool) -> Analysis:
        outputs = [OutputFigures.from_json(raw) for raw in data.get("outputs") or []]
        return cls(Path(data["file"]), int(data["iterations"]), Path(data["model"]),
                   Path(data["float_model"]), str(data["key"]), str(data["time"]),
                   [LayerFigures.from_json(raw) for raw in data["layers"]],
                   runs=list(data.get("runs") or []), current=current,
                   outputs={f.tensor: f for f in outputs},
                   configuration=str(data.get("configuration") or ""))


def age_text(seconds: float) -> str:
    """`42 s`, `5 min`, `3 h`, `2 d`: how old an analysis is, for people."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{max(int(seconds), 0)} s"


@dataclass
class AnalysisPlan:
    quantize: Path
    files: cmd.ModelFiles
    iterations: int
    model: Path  # quantized run's model .json
    float_key: str
    key: str
    pegasus: str | None = None  # found by `run` only when the cache cannot answer

    @property
    def cwd(self) -> Path:
        return self.quantize.parent


def quantized_model(quantize: Path, doc: QuantizeDocument, files: cmd.ModelFiles) -> Path:
    """NAME_POSTFIX.quantize.json when it exists and the file holds a layer only it has (the
    converters its hybrid run inserted), else NAME.json. (Not "newer than the file": quanted
    saves the file after a hybrid run to put the user's comments back.)"""
    hybrid = cmd.hybrid_model(quantize)
    if not hybrid.is_file():
        return files.model
    plain = set(read_model(files.model)["Layers"])
    hybrid_layers = set(read_model(hybrid)["Layers"])
    extra = [layer for layer in doc.layer_ids if layer not in plain]
    return hybrid if extra and all(layer in hybrid_layers for layer in extra) else files.model


def plan(doc: QuantizeDocument, iterations: int | None = None,
         pegasus: str | None = None) -> AnalysisPlan:
    """The files, N and the cache keys of the open file; runs nothing (hashes the inputs).
    It analyzes the file as it is on disk: an editor saves first."""
    if doc.path is None:
        raise cmd.CommandError("the document has no file: pegasus reads the file from disk")
    quantize = doc.path.absolute()
    if iterations is not None and iterations < 1:
        raise cmd.CommandError(f"--iterations must be at least 1, not {iterations}", quantize)
    files = cmd.model_files(quantize)
    n = iterations or cmd.dataset_size(files.inputmeta) or 1
    model = quantized_model(quantize, doc, files)
    float_key = cache_mod.compute_key(_common(files, n), n, cache_mod.FLOAT_SCHEME)
    return AnalysisPlan(quantize, files, n, model, float_key, _key(files, n, quantize, model),
                        pegasus)


def _plan_file(path: Path, iterations: int | None) -> AnalysisPlan:
    return plan(QuantizeDocument.open(path), iterations)


def _common(files: cmd.ModelFiles, n: int) -> list[tuple[str, Path | None]]:
    inputs = [("input", p) for p in cache_mod.dataset_inputs(files.inputmeta, n)]
    return [("float_model", files.model), ("data", files.data),
            ("inputmeta", files.inputmeta), *inputs]


def _key(files: cmd.ModelFiles, n: int, quantize: Path, model: Path) -> str:
    return cache_mod.compute_key([*_common(files, n), ("quantize", quantize), ("model", model)],
                                 n)


def load_current(path: Path, iterations: int | None = None) -> Analysis | None:
    """The cached analysis of the file as it is now, or None (also when it cannot be told)."""
    try:
        the_plan = _plan_file(path, iterations)
    except QuantedError:
        return None
    data = cache_mod.AnalysisCache(the_plan.quantize).load_result(the_plan.key)
    return Analysis.from_cache(data, current=True) if data is not None else None


def load_of_base(path: Path, base_copy: Path, iterations: int | None = None) -> Analysis | None:
    """The cached analysis of the plain model (`base_copy`: baseline.Base.path, the kept plain
    file) made when the file itself was that plain file; None when there is none."""
    try:
        the_plan = _plan_file(path, iterations)
    except QuantedError:
        return None
    files = the_plan.files
    key = _key(files, the_plan.iterations, base_copy, files.model)
    data = cache_mod.AnalysisCache(the_plan.quantize).load_result(key)
    return Analysis.from_cache(data, current=False) if data is not None else None


def load_latest(path: Path) -> Analysis | None:
    """The newest cached analysis of the file, current or stale (`.current`)."""
    path = path.absolute()
    data = cache_mod.AnalysisCache(path).latest_result()
    if data is None:
        return None
    try:
        the_plan = _plan_file(path, int(data["iterations"]))
        current = the_plan.key == data.get("key")
        return Analysis.from_cache(data, current=current)
    except (QuantedError, KeyError, ValueError, TypeError):
        try:
            return Analysis.from_cache(data, current=False)
        except (KeyError, ValueError, TypeError):
            return None


def configuration(quantize: Path) -> str:
    """What an analysis of the file as it is measures, as verify says it of its quantized run:
    the layers the table raises above the plain quantization of the kept base (else the one
    most tensors have)."""
    try:
        doc = QuantizeDocument.open(quantize)
        base = baseline.load(quantize)
    except QuantedError:
        return ""
    return describe(doc, base.calibration.plain if base is not None else None)


def _engine_run(label: str, the_plan: AnalysisPlan, model: Path, work: Path,
                prefix: list[str]) -> tuple[EngineRun, list[probe_mod.Probe]]:
    folder = work / label
    probed, postprocess, probes = probe_mod.write_probe_files(model, folder)
    files = the_plan.files
    extra = (["--dtype", "float32"] if label == FLOAT else
             ["--model-quantize", the_plan.quantize.name, "--dtype", "quantized"])
    command = [*prefix, "inference", "--model", str(probed), "--model-data", files.data.name,
               "--with-input-meta", files.inputmeta.name, *extra,
               "--postprocess-file", str(postprocess), "--iterations", str(the_plan.iterations),
               "--output-dir", str(folder / "dumps")]
    title = "float32" if label == FLOAT else (
        "quantized (hybrid model)" if model != the_plan.files.model else "quantized")
    return EngineRun(label, title, command, folder), probes


def _execute(run: EngineRun, the_plan: AnalysisPlan, index: int, runs: int,
             events: Events[Progress], cancel: Cancel) -> None:
    inputs = the_plan.iterations
    events.progress(Progress(run.label, run.title, index, runs, 0, inputs))
    process = EngineProcess(run.command, the_plan.cwd)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    seen = [-1]

    def handle(line: str) -> None:
        tail.append(line)
        events.line(line)
        saved = _SAVED.search(line)
        if saved is not None and int(saved.group(1)) > seen[0]:
            seen[0] = int(saved.group(1))
            events.progress(Progress(run.label, run.title, index, runs,
                                 min(seen[0] + 1, inputs), inputs))

    process.start()
    cancel.attach(process)
    try:
        status = process.follow(handle)
    finally:
        cancel.detach(process)
    if cancel.is_set() or process.cancelled.is_set():
        # SIGTERM/SIGHUP: 128+N, as the other engine commands
        raise AnalysisCancelled(f"analysis cancelled during the {run.title} run",
                                the_plan.quantize, signal=process.signal)
    if status != 0:
        raise AnalysisFailed(run, status, list(tail))


def run(
    the_plan: AnalysisPlan,
    events: Events[Progress] = Events(),
    cancel: Cancel | None = None,
    *,
    use_cache: bool = True,
    keep_dumps: Path | None = None,
) -> Analysis:
    """The analysis of the file as it is on disk (a TUI saves first): the cached one when it is
    current, else made by running the engine (the float run only when its dumps are not cached).
    `use_cache=False` runs both and writes nothing into `.quanted/`. `keep_dumps`: a folder
    for the runs (kept afterwards: LABEL/probes.json, LABEL/dumps/) instead of a temporary one;
    float dumps still move into the cache."""
    cancel = cancel or Cancel()
    store = cache_mod.AnalysisCache(the_plan.quantize)
    if use_cache:
        data = store.load_result(the_plan.key)
        if data is not None:
            return Analysis.from_cache(data, current=True)
    try:
        prefix = find_pegasus(the_plan.pegasus)
    except EngineNotFound as exc:
        raise EngineNotFound(exc.message, the_plan.quantize) from None
    if use_cache:
        # An engine step that sees the file plain keeps it as the base (baseline.py).
        with contextlib.suppress(QuantedError):
            baseline.find(the_plan.quantize, QuantizeDocument.open(the_plan.quantize))
    float_dumps = store.float_dumps(the_plan.float_key) if use_cache else None
    if keep_dumps is not None:
        keep_dumps.mkdir(parents=True, exist_ok=True)
    work = keep_dumps or Path(tempfile.mkdtemp(prefix="quanted-analyze-"))
    try:
        wanted = ([] if float_dumps is not None else [(FLOAT, the_plan.files.model)])
        wanted.append((QUANTIZED, the_plan.model))
        planned = [_engine_run(label, the_plan, model, work, prefix) for label, model in wanted]
        records = []
        for index, (engine_run, _) in enumerate(planned, 1):
            if cancel.is_set():
                raise AnalysisCancelled(f"analysis cancelled before the {engine_run.title} run",
                                        the_plan.quantize)
            started = time.monotonic()
            _execute(engine_run, the_plan, index, len(planned), events, cancel)
            records.append({"label": engine_run.label, "command": engine_run.command,
                            "seconds": round(time.monotonic() - started, 3)})
        started = time.monotonic()
        folders = {engine_run.label: engine_run.folder for engine_run, _ in planned}
        if float_dumps is None and use_cache:
            float_dumps = store.store_float(the_plan.float_key, folders[FLOAT])
        float_folder = float_dumps if float_dumps is not None else folders[FLOAT]
        layers = compare_dumps(the_plan.quantize, the_plan.model, the_plan.files.model,
                               the_plan.iterations, float_folder, folders[QUANTIZED])
        try:
            outputs = compare_outputs(the_plan.files.model, the_plan.iterations, float_folder,
                                      folders[QUANTIZED])
        except OutputsError:
            outputs = {}  # an engine that did not dump the model's outputs: layers only
        result = Analysis(the_plan.quantize, the_plan.iterations, the_plan.model,
                          the_plan.files.model, the_plan.key,
                          datetime.now(timezone.utc).isoformat(), layers, records,
                          engine_runs=len(planned), outputs=outputs,
                          configuration=configuration(the_plan.quantize))
        if use_cache:
            store.store_result(the_plan.key, result.to_cache())
        result.own_seconds = time.monotonic() - started
        return result
    finally:
        if keep_dumps is None:
            shutil.rmtree(work, ignore_errors=True)
