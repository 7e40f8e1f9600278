"""What the HTML report shows, gathered from the file and `.quanted/` beside it, each part with
where it comes from and whether it still describes the file: the per-layer analysis (cached by
`quanted analyze`), entropy.txt, the last verify and the attempts (the history), and the newest
tune's trials (`.quanted/tune/`). Nothing here runs the engine or draws anything."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from quanted.core.report import handover
from quanted.core.state import timeline
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline
from quanted.core.engine import command as cmd
from quanted.core.engine.analysis import load_latest
from quanted.core.engine.model_json import ModelError, graph_order, read_layers
from quanted.core.format.entropy import EntropyReport, resolve
from quanted.core.errors import QuantedError
from quanted.core.tune import scratch
from quanted.core.tune.store import TRIALS, TUNE_DIR


@dataclass(frozen=True)
class Source:
    """Where a part of the page comes from: `state` is current, stale or none."""

    what: str  # "per-layer analysis", "entropy", "last verify", "tune trials", "history"
    state: str
    text: str


@dataclass(frozen=True)
class LayerPoint:
    """One layer in graph order, with whatever figures exist for it."""

    position: int
    layer: str
    qtype: str | None  # its customized qtype, None when not customized
    cosine: float | None = None
    cosine_min: float | None = None
    drop: float | None = None
    sqnr_db: float | None = None
    entropy: float | None = None  # the highest of its tensors' entropy


@dataclass(frozen=True)
class OutputPerInput:
    """One model output of the last verify, per input."""

    tensor: str
    cosine: list[float]
    max_abs_error: list[float]
    top1: list[bool]
    plain_cosine: list[float] | None = None


@dataclass(frozen=True)
class TrialPoint:
    count: int  # layers raised
    min_cosine: float
    top1_all: bool
    applied: bool
    layers: list[str]
    chosen: bool = False  # the set the tune wrote into the file
    acceptable: bool | None = None  # the task check's verdict (`tune --check`), None without
    metric: float | None = None  # the `metric=` it printed


@dataclass
class ReportData:
    file: Path
    layers: list[LayerPoint]
    outputs: list[OutputPerInput]
    trials: list[TrialPoint]
    attempts: list[timeline.Attempt]
    best_attempt: str | None
    handover: handover.HandoverReport
    sources: list[Source] = field(default_factory=list)

    @property
    def customized(self) -> dict[str, str]:
        return {row.layer: row.qtype for row in self.handover.layers}


def _graph_order(quantize: Path, analysis_model: Path | None) -> list[str]:
    """The layers from input to output of the model the analysis ran (the hybrid model after a
    hybrid run, with its converter layers), else of NAME.json; [] when neither can be read."""
    models = [analysis_model, cmd.hybrid_model(quantize)]
    try:
        models.append(cmd.model_files(quantize).model)
    except QuantedError:
        pass
    for model in models:
        if model is not None and model.is_file():
            try:
                return graph_order(read_layers(model))
            except ModelError:
                continue
    return []


def _entropy(quantize: Path, given: Path | None) -> tuple[dict[str, float], Source]:
    """quanted keeps no key for entropy.txt: it is `stale` only when another report for the
    file beside it is newer (the note `quanted layers` prints), and says when it was written."""
    found = resolve(quantize, given)
    wanted = found.path
    if wanted is None or not wanted.is_file():
        return {}, Source("entropy", "none", found.note or f"no {wanted}")
    try:
        by_layer = EntropyReport.read(wanted).by_layer()
        written = datetime.fromtimestamp(wanted.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
    except (QuantedError, OSError) as exc:
        return {}, Source("entropy", "none", f"{wanted.name}: {exc}")
    highest = {layer: max(ports.values()) for layer, ports in by_layer.items() if ports}
    note = found.note
    return highest, Source("entropy", "stale" if note else "current",
                           f"{wanted.name}, written {written}, {len(highest)} layer(s)"
                           + (f"; {note}" if note else ""))


def _layers(quantize: Path, customized: dict[str, str],
            entropy: dict[str, float]) -> tuple[list[LayerPoint], Source]:
    found = load_latest(quantize) if (quantize.parent / handover.CACHE_DIR).is_dir() else None
    figures = found.by_layer() if found is not None else {}
    order = _graph_order(quantize, found.model if found is not None else None)
    # Without the model (a file sent alone), entropy.txt's order and the customized list.
    order = list(dict.fromkeys([*order, *figures, *entropy, *customized]))
    points = []
    for position, layer in enumerate(order):
        item = figures.get(layer)
        points.append(LayerPoint(
            position, layer, customized.get(layer),
            cosine=item.cosine if item else None, cosine_min=item.cosine_min if item else None,
            drop=item.drop if item else None, sqnr_db=item.sqnr_db if item else None,
            entropy=entropy.get(layer)))
    if found is None:
        source = Source("per-layer analysis", "none",
                        f"no analysis cached (run quanted analyze {quantize.name})")
    else:
        state = handover.AnalysisState("current" if found.current else "stale", quantize,
                                       found.time, found.age_seconds(), found.iterations,
                                       found.configuration)
        source = Source("per-layer analysis", state.state,
                        f"{state.text()}; made at {found.time[:19]} UTC, {len(figures)} layer(s)")
    return points, source


def _outputs(report: handover.HandoverReport) -> tuple[list[OutputPerInput], Source]:
    verify = report.verify
    if verify is None:
        return [], Source("last verify", "none",
                          f"no verify recorded (run quanted verify {report.file.name})")
    data = verify.data
    plain = data.get("plain_quantized") if isinstance(data.get("plain_quantized"), dict) else None
    outputs = []
    for tensor in data.get("tensors") or []:
        try:
            outputs.append(OutputPerInput(
                str(tensor), [float(c) for c in data["cosine"][tensor]],
                [float(e) for e in data["max_abs_error"][tensor]],
                [bool(t) for t in data["top1_agreement"][tensor]],
                [float(c) for c in plain["cosine"][tensor]] if plain else None))
        except (KeyError, TypeError, ValueError):
            continue  # a record of another shape: its summary still shows in the history
    state = "current" if report.verify_matches else "stale"
    why = "" if report.verify_matches else ", made with another customized list"
    return outputs, Source("last verify", state,
                           f"{verify.when}, {verify.iterations} input(s){why}")


def _newest_tune(quantize: Path) -> Path | None:
    folder = quantize.parent / TUNE_DIR
    if not folder.is_dir():
        return None
    found = [(path.stat().st_mtime_ns, path.parent) for path in folder.glob(f"*/{TRIALS}")]
    return max(found)[1] if found else None


def _tune_is_current(quantize: Path, folder: Path) -> bool:
    """Whether the trials were measured on the model, data, plain table and calibration (the
    file's base, baseline.py) as they are."""
    try:
        about = json.loads((folder / "context.json").read_text(encoding="utf-8"))
        iterations = int(about["iterations"])
        found = baseline.find(quantize, QuantizeDocument.open(quantize), remember=False)
        if found.base is None:
            return False  # no plain table known: the trials measured one the file no longer is
        inputs = scratch.gather(quantize, found.base)
        return scratch.context_key(inputs, iterations)[:16] == folder.name
    except (OSError, ValueError, KeyError, TypeError, QuantedError):
        return False


def _trials(quantize: Path, attempts: list[timeline.Attempt]) -> tuple[list[TrialPoint], Source]:
    folder = _newest_tune(quantize)
    if folder is None:
        return [], Source("tune trials", "none", f"no tune recorded (run quanted tune "
                                                  f"{quantize.name})")
    tuned = [a for a in attempts if a.kind == "tune"]
    chosen = tuned[-1].customized if tuned else None
    points = []
    try:
        lines = (folder / TRIALS).read_text(encoding="utf-8", errors="replace").splitlines()
        when = os.path.getmtime(folder / TRIALS)
    except OSError as exc:
        return [], Source("tune trials", "none", f"{folder / TRIALS}: {exc.strerror or exc}")
    for line in lines:
        try:
            raw = json.loads(line)
            layers = dict(raw["customized"])
            check = raw.get("check") if isinstance(raw.get("check"), dict) else {}
            metric = check.get("metric")
            points.append(TrialPoint(len(layers), min(float(c) for c in raw["cosines"]),
                                     all(bool(t) for t in raw["top1"]), bool(raw["applied"]),
                                     list(layers), chosen is not None and layers == chosen,
                                     bool(check["acceptable"]) if "acceptable" in check
                                     else None,
                                     float(metric) if isinstance(metric, (int, float))
                                     else None))
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by a crash, as the store itself skips it
    current = _tune_is_current(quantize, folder)
    text = (f"{len(points)} trial(s) in {folder.relative_to(quantize.parent)}, the last at "
            f"{datetime.fromtimestamp(when).strftime('%Y-%m-%d %H:%M:%S')}"
            + ("" if current else "; made before the model, its data or the file changed")
            + ("" if chosen is not None else "; no tune has written its set into the file"))
    return points, Source("tune trials", "current" if current else "stale", text)


def gather(quantize: Path, entropy: Path | None = None) -> ReportData:
    """Everything the page shows; raises QuantedError only when the file cannot be read."""
    quantize = Path(quantize).absolute()
    report = handover.build(quantize, entropy)
    customized = {row.layer: row.qtype for row in report.layers}
    highest, entropy_source = _entropy(quantize, entropy)
    layers, analysis_source = _layers(quantize, customized, highest)
    outputs, verify_source = _outputs(report)
    attempts = timeline.attempts(quantize)
    top = timeline.best_of(quantize, attempts)
    trials, tune_source = _trials(quantize, attempts)
    history = Source("history", "current" if attempts else "none",
                     f"{len(attempts)} attempt(s) in .quanted/history/")
    return ReportData(quantize, layers, outputs, trials, attempts, top.id if top else None,
                      report, [analysis_source, entropy_source, verify_source, tune_source,
                               history])
