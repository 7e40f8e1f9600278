"""What `quanted verify` found: per output and input, a quantized run against float
(outputs.Comparison), and per output over every input (output_figures.OutputFigures); and the
JSON shape both the CLI and the history record."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.engine.output_figures import CLASS, OutputFigures, proven_kinds
from quanted.core.engine.outputs import Comparison, OutputsError, VerifySummary, compare, top_k
from quanted.core.engine.taskcheck import CheckVerdict

FLOAT, QUANTIZED, PLAIN = "float", "quantized", "plain_quantized"


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
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # as the engine dumped them
    kinds: dict[str, str] = field(default_factory=dict)  # output_figures.CLASS or VALUES
    outputs: dict[str, OutputFigures] = field(default_factory=dict)  # the quantized run's
    plain_outputs: dict[str, OutputFigures] | None = None
    check: str | None = None  # the --check command, as typed
    checks: dict[str, CheckVerdict] = field(default_factory=dict)  # QUANTIZED / PLAIN ->
    base: str | None = None
    inputs: str | None = None
    configuration: str = ""

    @property
    def classes(self) -> list[str]:
        """The class-score outputs: the only ones whose top-1 and top-5 mean something."""
        return [t for t in self.tensors if self.kinds.get(t, CLASS) == CLASS]

    def summary(self, label: str = QUANTIZED) -> VerifySummary | None:
        """The QUANTIZED or PLAIN run's figures over every tensor and iteration."""
        figures = self.quantized if label == QUANTIZED else self.plain
        return None if figures is None else VerifySummary.of(figures, self.classes)

    def worst(self, label: str = QUANTIZED) -> OutputFigures | None:
        """The output with the lowest cosine: the headline."""
        figures = self.outputs if label == QUANTIZED else self.plain_outputs
        if not figures:
            return None
        return min(figures.values(), key=lambda f: f.min_cosine)

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
         "outputs": {T: {"kind", "shape", "quantized": OutputFigures.to_json(),
                         "plain_quantized": {...} | null}},
         "check": null | {"command", "quantized": {"acceptable", "metric", "seconds"},
                          "plain_quantized": {...} | null},
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
            "outputs": {t: {"kind": self.kinds.get(t, CLASS),
                            "shape": list(self.shapes.get(t, ())),
                            QUANTIZED: self.outputs[t].to_json() if t in self.outputs else None,
                            PLAIN: (self.plain_outputs[t].to_json()
                                    if self.plain_outputs and t in self.plain_outputs
                                    else None)}
                        for t in self.tensors},
            "check": None if self.check is None else {
                "command": self.check,
                **{label: self.checks[label].to_json() if label in self.checks else None
                   for label in (QUANTIZED, PLAIN)}},
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


def figures(values: dict[str, dict[str, list]], *, quantize: Path, iterations: int,
            customized: dict[str, str], float_model: Path, kinds: dict[str, str],
            notes: list[str], plain_source: Path | None) -> VerifyResult:
    """Compare each quantized run's outputs (values[label][T]: one array per input) with
    float's; `kinds` overrides the kinds the float model proves."""
    reference = values[FLOAT]
    tensors = list(reference)
    compared: dict[str, dict[str, list[Comparison]]] = {}
    for label, outputs in values.items():
        if label == FLOAT:
            continue
        missing = [t for t in tensors if t not in outputs]
        if missing:
            raise OutputsError(f"the {label} model has no output {', '.join(missing)}",
                               quantize)
        compared[label] = {}
        for t in tensors:
            if len(outputs[t]) != len(reference[t]):
                raise OutputsError(f"the float and {label} runs dumped {len(reference[t])} and "
                                   f"{len(outputs[t])} iterations of {t}", quantize)
            compared[label][t] = [compare(f, q) for f, q in zip(reference[t], outputs[t])]
    shapes = {t: tuple(reference[t][0].shape) for t in tensors}
    kinds = {**proven_kinds(float_model, shapes), **kinds}

    def per_output(label: str) -> dict[str, OutputFigures]:
        return {t: OutputFigures.of(t, kinds[t], reference[t], values[label][t],
                                    compared[label][t]) for t in tensors}

    return VerifyResult(
        quantize=quantize,
        iterations=iterations,
        customized=customized,
        tensors=tensors,
        float_top5={t: [top_k(v) for v in reference[t]] for t in tensors},
        quantized=compared[QUANTIZED],
        plain=compared.get(PLAIN),
        notes=list(notes),
        plain_source=plain_source,
        shapes=shapes,
        kinds=kinds,
        outputs=per_output(QUANTIZED),
        plain_outputs=per_output(PLAIN) if PLAIN in compared else None,
    )
