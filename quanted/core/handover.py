"""`quanted report`: what to paste in a merge request or a ticket: the final customized list
with each layer's entropy and comment, and the figures of the last verify.

    report = build(path)                  # reads the file, entropy.txt and the history
    report.markdown() / report.to_json() / report.csv()
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document import QuantizeDocument
from quanted.core.engine.attempts import VerifyAttempt, verify_history
from quanted.core.entropy import ENTROPY_FILE, EntropyReport
from quanted.core.errors import QuantedError

PORTS = ("out0", "weight")


@dataclass(frozen=True)
class LayerRow:
    layer: str
    qtype: str
    comment: str | None
    entropy: dict[str, float]  # port -> value, as in entropy.txt

    def to_json(self) -> dict:
        return {"layer": self.layer, "qtype": self.qtype, "comment": self.comment,
                "entropy": self.entropy}


@dataclass
class HandoverReport:
    file: Path
    layers: list[LayerRow]
    entropy_file: Path | None
    verify: VerifyAttempt | None  # the last one recorded
    verify_matches: bool  # the last verify was made with the list the file has now
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "file": str(self.file),
            "entropy_file": str(self.entropy_file) if self.entropy_file else None,
            "customized": [row.to_json() for row in self.layers],
            "verify": None if self.verify is None else {
                "time": self.verify.time, "iterations": self.verify.iterations,
                "same_list": self.verify_matches, "summary": self.verify.summary,
                "plain_summary": self.verify.plain_summary},
            "notes": self.notes,
        }

    def markdown(self) -> str:
        out = [f"### `{self.file.name}`: {len(self.layers)} customized layer(s)", ""]
        out.append("| layer | qtype | entropy out0 | entropy weight | comment |")
        out.append("|---|---|---|---|---|")
        for row in self.layers:
            cells = [f"`{row.layer}`", row.qtype, *(_num(row.entropy.get(p)) for p in PORTS),
                     (row.comment or "").replace("|", "\\|")]
            out.append("| " + " | ".join(cells) + " |")
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
        writer.writerow(["layer", "qtype", "entropy_out0", "entropy_weight", "comment"])
        for row in self.layers:
            writer.writerow([row.layer, row.qtype, *(row.entropy.get(p, "") for p in PORTS),
                             row.comment or ""])
        return buffer.getvalue()


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _verify_row(name: str, s: dict) -> str:
    def fmt(key: str) -> str:
        value = s.get(key)
        return "-" if not isinstance(value, (int, float)) else f"{value:.6f}"

    return (f"| {name} | {fmt('mean_cosine')} | {fmt('min_cosine')} | "
            f"{s.get('top1_agree', '-')}/{s.get('count', '-')} | {fmt('max_abs_error')} |")


def build(quantize: Path, entropy: Path | None = None) -> HandoverReport:
    quantize = Path(quantize)
    doc = QuantizeDocument.open(quantize)
    notes = []
    wanted = entropy or quantize.parent / ENTROPY_FILE
    entropy_path: Path | None = None
    by_layer: dict[str, dict[str, float]] = {}
    if wanted.is_file():
        try:
            by_layer = EntropyReport.read(wanted).by_layer()
            entropy_path = wanted
        except QuantedError as exc:
            notes.append(f"entropy not shown: {exc}")
    else:
        notes.append(f"no {wanted}: entropy not shown")
    comments = doc.comments()
    rows = [LayerRow(layer, qtype, comments.get(layer), dict(by_layer.get(layer, {})))
            for layer, qtype in doc.customized.items()]
    history = verify_history(quantize)
    last = history[-1] if history else None
    matches = last is not None and last.customized == doc.customized
    return HandoverReport(quantize, rows, entropy_path, last, matches, notes)
