"""`quanted report`: what to paste in a merge request or a ticket: the final customized list
with each layer's entropy and comment, its figures from the cached per-layer analysis
(`quanted analyze`; marked stale, with its age, when the file or its model changed since), and
the figures of the last verify: its summary per run, per output (kind, worst cosine, SQNR, max
abs error, the resolution flag: output_figures.OutputFigures as verify recorded them) and the
task check's verdict and metric when it ran one.

    report = build(path)                  # reads the file, entropy.txt, the history, the cache
    report.markdown() / report.to_json() / report.csv()
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.analysis import age_text, load_latest
from quanted.core.engine.analysis_cache import CACHE_DIR
from quanted.core.engine.attempts import top1_text
from quanted.core.engine.attempts import VerifyAttempt, verify_history
from quanted.core.engine.layer_figures import LayerFigures
from quanted.core.engine.output_figures import OutputFigures
from quanted.core.format.entropy import ENGINE_WRITES, LayerEntropy, resolve
from quanted.core.errors import QuantedError

PORTS = ("out0", "weight")
# The analysis figures a row carries (LayerFigures attributes), in the order shown.
FIGURES = ("cosine", "cosine_min", "drop", "sqnr_db", "max_abs_error", "clamped")


@dataclass(frozen=True)
class HandoverLayer:
    layer: str
    qtype: str
    comment: str | None
    entropy: dict[str, float]  # port -> value, as in entropy.txt
    figures: LayerFigures | None = None  # its out0 in the cached analysis, when there is one

    def figure_json(self) -> dict | None:
        if self.figures is None:
            return None
        return {key: getattr(self.figures, key) for key in FIGURES}

    def to_json(self) -> dict:
        return {"layer": self.layer, "qtype": self.qtype, "comment": self.comment,
                "entropy": self.entropy, "analysis": self.figure_json()}


@dataclass(frozen=True)
class AnalysisState:
    """The cached analysis the figures come from: `current` (made of the file and model as they
    are), `stale` (the newest one, made before they changed), or `none`."""

    state: str
    file: Path
    time: str | None = None  # ISO 8601, UTC
    age_seconds: float | None = None
    iterations: int | None = None
    configuration: str = ""  # what its quantized run measured (tables.describe)

    @property
    def age(self) -> str:
        return age_text(self.age_seconds or 0.0)

    def text(self) -> str:
        """One line for people; the CSV's `analysis` column."""
        if self.state == "none":
            return f"no analysis (run quanted analyze {self.file.name})"
        if self.state == "stale":
            return (f"stale: made {self.age} ago, before the file or its model changed "
                    f"(run quanted analyze {self.file.name})")
        measured = f", of {self.configuration}" if self.configuration else ""
        return f"current: made {self.age} ago over {self.iterations} input(s){measured}"

    def to_json(self) -> dict:
        return {"state": self.state, "time": self.time, "age_seconds": self.age_seconds,
                "iterations": self.iterations, "configuration": self.configuration or None,
                "text": self.text()}


def analysis_state(quantize: Path) -> tuple[AnalysisState, dict[str, LayerFigures]]:
    """The newest cached analysis of the file and its figures by layer ({} when none)."""
    if not (quantize.absolute().parent / CACHE_DIR).is_dir():
        return AnalysisState("none", quantize), {}  # nothing cached: do not hash the model
    found = load_latest(quantize)
    if found is None:
        return AnalysisState("none", quantize), {}
    state = AnalysisState("current" if found.current else "stale", quantize, found.time,
                          found.age_seconds(), found.iterations, found.configuration)
    return state, found.by_layer()


RUNS = (("quantized", "quantized"), ("plain_quantized", "plain quantized"))  # key, for people


@dataclass(frozen=True)
class OutputRow:
    """One output of the last verify, for one of its runs."""

    run: str  # "quantized" or "plain quantized"
    figures: OutputFigures

    @property
    def resolution(self) -> str:
        """`COLLAPSED: why`, else how many steps span float's middle half."""
        r = self.figures.resolution
        if r.collapsed:
            return f"COLLAPSED: {r.why}"
        return "-" if r.levels is None else f"{r.levels:.1f} steps in the middle half"


def output_rows(verify: VerifyAttempt | None) -> list[OutputRow]:
    """The per-output figures a verify recorded (`"outputs"`), quantized run first for each
    output; [] for a record made before verify kept them."""
    outputs = verify.data.get("outputs") if verify is not None else None
    if not isinstance(outputs, dict):
        return []
    rows = []
    for entry in outputs.values():
        for key, run in RUNS:
            raw = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(raw, dict):
                try:
                    rows.append(OutputRow(run, OutputFigures.from_json(raw)))
                except (KeyError, TypeError, ValueError):
                    continue  # a record of another shape: the summary still shows
    return rows


@dataclass(frozen=True)
class CheckRow:
    run: str
    acceptable: bool
    metric: float | None

    def text(self) -> str:
        verdict = "acceptable" if self.acceptable else "NOT acceptable"
        return verdict + (f" (metric={self.metric:g})" if self.metric is not None else "")


def check_rows(verify: VerifyAttempt | None) -> tuple[str | None, list[CheckRow]]:
    """The task check a verify ran (`--check`): its command and each run's verdict."""
    check = verify.data.get("check") if verify is not None else None
    if not isinstance(check, dict):
        return None, []
    rows = []
    for key, run in RUNS:
        raw = check.get(key)
        if isinstance(raw, dict) and "acceptable" in raw:
            metric = raw.get("metric")
            rows.append(CheckRow(run, bool(raw["acceptable"]),
                                 float(metric) if isinstance(metric, (int, float)) else None))
    return str(check.get("command", "")), rows


@dataclass
class HandoverReport:
    file: Path
    layers: list[HandoverLayer]
    entropy_file: Path | None
    verify: VerifyAttempt | None  # the last one recorded
    verify_matches: bool  # the last verify was made with the list the file has now
    analysis: AnalysisState
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "file": str(self.file),
            "entropy_file": str(self.entropy_file) if self.entropy_file else None,
            "customized": [row.to_json() for row in self.layers],
            "analysis": self.analysis.to_json(),
            "verify": None if self.verify is None else {
                "time": self.verify.time, "iterations": self.verify.iterations,
                "same_list": self.verify_matches, "summary": self.verify.summary,
                "plain_summary": self.verify.plain_summary,
                "configuration": self.verify.data.get("configuration") or None,
                "outputs": [{"run": row.run, **row.figures.to_json()}
                            for row in output_rows(self.verify)],
                "check": self.verify.data.get("check")},
            "notes": self.notes,
        }

    def markdown(self) -> str:
        out = [f"### `{self.file.name}`: {len(self.layers)} customized layer(s)", ""]
        out.append("| layer | qtype | entropy out0 | entropy weight | cosine | drop | sqnr dB "
                   "| comment |")
        out.append("|---|---|---|---|---|---|---|---|")
        for row in self.layers:
            cells = [f"`{row.layer}`", row.qtype, *(_num(row.entropy.get(p)) for p in PORTS),
                     *_figure_cells(row.figures), (row.comment or "").replace("|", "\\|")]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out.append(f"Per-layer analysis: {self.analysis.text()}.")
        out.append("")
        out.extend(self._verify_lines())
        out.extend(f"- note: {note}" for note in self.notes)
        return "\n".join(out) + "\n"

    def _verify_lines(self) -> list[str]:
        v = self.verify
        if v is None:
            return ["No verify recorded (`quanted verify FILE` measures float vs quantized)."]
        s = v.summary
        lines = [f"Last verify ({v.when}, {v.iterations} input(s)"
                 + ("" if self.verify_matches else ", made with another customized list") + "):",
                 "",
                 "| run | mean cosine | min cosine | top-1 agrees | max abs error |",
                 "|---|---|---|---|---|",
                 _verify_row("quantized", s)]
        if v.plain_summary:
            lines.append(_verify_row("plain quantized", v.plain_summary))
        lines.append("")
        configuration = v.data.get("configuration")
        if configuration:
            lines += [f"Quantized: {configuration}.", ""]
        rows = output_rows(v)
        if rows:
            lines += [f"Per output, over {v.iterations} input(s) (worst input's cosine):", "",
                      "| output | run | kind | min cosine | SQNR dB | max abs error "
                      "| resolution |", "|---|---|---|---|---|---|---|"]
            for row in rows:
                f = row.figures
                lines.append(f"| `{f.tensor}` | {row.run} | {f.kind} | {f.min_cosine:.6f} | "
                             f"{'-' if f.sqnr_db is None else f'{f.sqnr_db:.1f}'} | "
                             f"{f.max_abs_error:.6f} | {row.resolution} |")
            lines.append("")
        command, checks = check_rows(v)
        if command is not None:
            verdicts = "; ".join(f"{c.run} {c.text()}" for c in checks) or "no verdict"
            lines += [f"Task check `{command}`: {verdicts}.", ""]
        return lines

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["layer", "qtype", "entropy_out0", "entropy_weight", *FIGURES,
                         "analysis", "comment"])
        state = self.analysis.text()
        for row in self.layers:
            figures = row.figure_json() or {}
            writer.writerow([row.layer, row.qtype, *(row.entropy.get(p, "") for p in PORTS),
                             *(_csv_value(figures.get(key)) for key in FIGURES), state,
                             row.comment or ""])
        return buffer.getvalue()


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _csv_value(value: object) -> object:
    return "" if value is None else value


def _figure_cells(item: LayerFigures | None) -> list[str]:
    if item is None:
        return ["-", "-", "-"]
    return [f"{item.cosine:.6f}", "-" if item.drop is None else f"{item.drop:+.6f}",
            "-" if item.sqnr_db is None else f"{item.sqnr_db:.1f}"]


def _verify_row(name: str, s: dict) -> str:
    def fmt(key: str) -> str:
        value = s.get(key)
        return "-" if not isinstance(value, (int, float)) else f"{value:.6f}"

    return (f"| {name} | {fmt('mean_cosine')} | {fmt('min_cosine')} | "
            f"{top1_text(s)} | {fmt('max_abs_error')} |")


def build(quantize: Path, entropy: Path | None = None) -> HandoverReport:
    quantize = Path(quantize)
    doc = QuantizeDocument.open(quantize)
    customized = doc.customized
    comments = doc.comments()
    del doc  # all it needs of the file: its bytes go before the entropy report is read
    notes = []
    wanted = resolve(quantize, entropy).path
    entropy_path: Path | None = None
    by_layer: dict[str, dict[str, float]] = {}
    if wanted is not None and wanted.is_file():
        try:
            # The customized layers' entropy only, the report read a piece at a time.
            by_layer = LayerEntropy.read(wanted, customized).by_layer()
            entropy_path = wanted
        except QuantedError as exc:
            notes.append(f"entropy not shown: {exc}")
    else:
        notes.append(f"no {wanted or quantize.parent / ENGINE_WRITES}: entropy not shown")
    state, figures = analysis_state(quantize)
    rows = [HandoverLayer(layer, qtype, comments.get(layer), dict(by_layer.get(layer, {})),
                     figures.get(layer))
            for layer, qtype in customized.items()]
    history = verify_history(quantize)
    last = history[-1] if history else None
    matches = last is not None and last.customized == customized
    return HandoverReport(quantize, rows, entropy_path, last, matches, state, notes)
