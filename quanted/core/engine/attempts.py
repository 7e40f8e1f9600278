"""Earlier `quanted verify` results, from the "verify" entries of `.quanted/history/`, so the
user sees whether the last change to customized_quantize_layers helped.

    attempts = verify_history(path)   # oldest first
    best(attempts)                    # highest mean cosine among those comparable with the newest
    best(attempts, iterations=4)      # ... among those run on 4 inputs

Attempts compare only when they were measured on the same inputs (the dataset and N) against
the same plain model (the base table and calibration, baseline.py): a figure over other
inputs, or a list applied to another table, says nothing about this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quanted.core.state.history import History, stamp_for_people


def top1_text(summary: dict) -> str:
    """`agree/compared` of a recorded summary: over its class-score outputs (`top1_count`;
    records made before outputs had kinds counted every output), `-` when it has none."""
    compared = summary.get("top1_count")
    if compared is None:
        compared = summary.get("count")
    if compared == 0 or "top1_agree" not in summary or compared is None:
        return "-"
    return f"{summary['top1_agree']}/{compared}"


@dataclass(frozen=True)
class VerifyAttempt:
    time: str  # the history stamp, YYYYmmdd-HHMMSS-ffffff
    customized: dict[str, str]
    iterations: int
    summary: dict  # the quantized run's: mean_cosine, top1_agree, count, top1_agreement, ...
    plain_summary: dict | None  # the plain quantized run's, when it was made
    data: dict  # the whole recorded result (VerifyResult.to_json() without file and time)

    @property
    def base(self) -> str | None:
        """The plain model's key the attempt was measured against (None: recorded before)."""
        value = self.data.get("base")
        return value if isinstance(value, str) else None

    @property
    def inputs(self) -> str | None:
        value = self.data.get("inputs")
        return value if isinstance(value, str) else None

    def comparable(self, other: VerifyAttempt) -> bool:
        return (self.iterations, self.base, self.inputs) == \
            (other.iterations, other.base, other.inputs)

    @property
    def mean_cosine(self) -> float | None:
        value = self.summary.get("mean_cosine")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def top1_agreement(self) -> float | None:
        value = self.summary.get("top1_agreement")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def when(self) -> str:
        """The time for people: 2026-11-26 18:19:09."""
        return stamp_for_people(self.time)

    def line(self, is_best: bool = False) -> str:
        cos = "-" if self.mean_cosine is None else f"{self.mean_cosine:.6f}"
        top1 = top1_text(self.summary)
        text = (f"{'*' if is_best else ' '} {self.when}  customized {len(self.customized):3d}  "
                f"mean cosine {cos}  top-1 {top1}  iterations {self.iterations}")
        if self.plain_summary and isinstance(self.plain_summary.get("mean_cosine"), (int, float)):
            text += f"  (plain {self.plain_summary['mean_cosine']:.6f})"
        return text + ("  <- best" if is_best else "")

    def to_json(self, is_best: bool = False) -> dict:
        return {
            "time": self.time,
            "customized": self.customized,
            "iterations": self.iterations,
            "mean_cosine": self.mean_cosine,
            "top1_agreement": self.top1_agreement,
            "summary": self.summary,
            "plain_summary": self.plain_summary,
            "best": is_best,
        }


def verify_history(quantize: Path) -> list[VerifyAttempt]:
    """Every recorded verify of this file, oldest first; malformed entries are skipped."""
    attempts = []
    for entry in History(Path(quantize).absolute()).entries("verify"):
        data = entry.data
        summaries = data.get("summary")
        if not isinstance(summaries, dict) or not isinstance(summaries.get("quantized"), dict):
            continue
        customized = data.get("customized")
        iterations = data.get("iterations") or 0
        if not isinstance(iterations, int) or isinstance(iterations, bool):
            continue  # `"iterations": "a"`: not a record quanted wrote
        attempts.append(VerifyAttempt(
            time=entry.time,
            customized=customized if isinstance(customized, dict) else {},
            iterations=iterations,
            summary=summaries["quantized"],
            plain_summary=summaries.get("plain_quantized") if isinstance(
                summaries.get("plain_quantized"), dict) else None,
            data=data,
        ))
    return attempts


def best(attempts: list[VerifyAttempt], iterations: int | None = None) -> VerifyAttempt | None:
    """Among the attempts comparable with the newest one (its inputs and plain model; with
    `iterations`, the newest made with that many inputs), the one with the highest mean
    cosine; ties go to top-1 agreement, then to the newest."""
    if not attempts:
        return None
    anchors = [a for a in attempts if iterations is None or a.iterations == iterations]
    if not anchors:
        return None
    anchor = anchors[-1]
    scored = [(a.mean_cosine, a.top1_agreement or 0.0, i, a) for i, a in enumerate(attempts)
              if a.mean_cosine is not None and a.comparable(anchor)]
    return max(scored, key=lambda s: s[:3])[3] if scored else None
