"""`quanted report`: what to paste in a merge request or a ticket: the final customized list
with each layer's entropy and comment, its figures from the cached per-layer analysis
(`quanted analyze`; marked stale, with its age, when the file or its model changed since), and
the figures of the last verify.

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
        return f"current: made {self.age} ago over {self.iterations} input(s)"

    def to_json(self) -> dict:
        return {"state": self.state, "time": self.time, "age_seconds": self.age_seconds,
                "iterations": self.iterations, "text": self.text()}


def analysis_state(quantize: Path) -> tuple[AnalysisState, dict[str, LayerFigures]]:
    """The newest cached analysis of the file and its figures by layer ({} when none)."""
    if not (quantize.absolute().parent / CACHE_DIR).is_dir():
        return AnalysisState("none", quantize), {}  # nothing cached: do not hash the model
    found = load_latest(quantize)
    if found is None:
        return AnalysisState("none", quantize), {}
    state = AnalysisState("current" if found.current else "stale", quantize, found.time,
                          found.age_seconds(), found.iterations)
    return state, found.by_layer()


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
                "plain_summary": self.verify.plain_summary},
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
        return [*lines, ""]

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
