"""The target and one trial's figures: the same comparison `quanted verify` makes (cosine and
top-1 of every model output against float, per input; the user's task check), reduced to what
the search decides on.

A target holds the worst cosine of every output (`--target-cosine C`), of one output
(`--target-cosine NAME=C`, NAME as verify's --output takes it: tensor key, layer id or 0-based
index), float's top-1, and the user's check (`--check CMD`, taskcheck's protocol). With a check
and no cosine given, only the check decides (the cosine target is then -1: always met)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quanted.core.engine.output_figures import resolve_name
from quanted.core.engine.outputs import Comparison, OutputsError, compare
from quanted.core.engine.taskcheck import TaskCheck
from quanted.core.engine.verify_result import QUANTIZED, VerifyResult

Outputs = dict[str, list[np.ndarray]]  # tensor key -> one array per input (iteration)
DEFAULT_COSINE = 0.99
ANY_COSINE = -1.0  # no cosine target: every cosine meets it


@dataclass(frozen=True)
class Target:
    cosine: float = DEFAULT_COSINE  # every output's worst cosine
    top1: bool = False
    outputs: tuple[tuple[str, float], ...] = ()  # (NAME, C): one output's worst cosine
    check: TaskCheck | None = None  # the user's check must find the trial acceptable

    @classmethod
    def of(cls, cosines: Sequence[str], top1: bool = False,
           check: TaskCheck | None = None) -> Target:
        """From `--target-cosine` words (`C` or `NAME=C`); none at all means 0.99, or with a
        check, no cosine target. ValueError says what is wrong."""
        every: float | None = None
        outputs = []
        for word in cosines:
            name, sep, value = word.rpartition("=")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"--target-cosine takes C or NAME=C, not {word!r}") from None
            if sep and not name:
                raise ValueError(f"--target-cosine takes C or NAME=C, not {word!r}")
            if sep:
                outputs.append((name, number))
            else:
                every = number
        if every is None:
            every = ANY_COSINE if (check is not None or outputs) else DEFAULT_COSINE
        return cls(every, top1, tuple(outputs), check)

    def cosines(self) -> list[float]:
        """Every cosine the target names (for range checks)."""
        return [self.cosine, *(c for _, c in self.outputs)]

    def to_json(self) -> dict:
        return {"cosine": None if self.cosine == ANY_COSINE else self.cosine, "top1": self.top1,
                "outputs": dict(self.outputs),
                "check": self.check.describe() if self.check is not None else None}

    def describe(self) -> str:
        parts = [] if self.cosine == ANY_COSINE else [f"min cosine >= {self.cosine:g}"]
        parts += [f"cosine of {name} >= {c:g}" for name, c in self.outputs]
        if self.top1:
            parts.append("top-1 = float on every input")
        if self.check is not None:
            parts.append(f"the check `{self.check.describe()}` accepts it")
        return " and ".join(parts) or "any cosine"


@dataclass(frozen=True)
class CheckOutcome:
    """The user's check on one trial: recorded with the command it was made with."""

    command: str
    acceptable: bool
    metric: float | None


@dataclass(frozen=True)
class Figures:
    """Per input: the worst cosine over the model's outputs, and whether every output's top-1
    agrees with float; per output: its worst cosine over the inputs; the check's verdict."""

    cosines: tuple[float, ...]
    top1: tuple[bool, ...]  # empty when no output holds class scores
    outputs: tuple[tuple[str, float], ...] = ()  # (tensor key, worst cosine), model order
    check: CheckOutcome | None = None

    @property
    def min_cosine(self) -> float:
        return min(self.cosines)

    @property
    def top1_all(self) -> bool:
        return all(self.top1)

    def detail(self) -> str:
        """How a trial's line ends, in the CLI and the editor alike: each output's worst cosine
        when there are several, then the task check's verdict and metric."""
        text = ""
        if len(self.outputs) > 1:
            text += " (" + ", ".join(f"{key} {cosine:.6f}" for key, cosine in self.outputs) + ")"
        if self.check is not None:
            text += ", check " + ("acceptable" if self.check.acceptable else "NOT acceptable") + (
                f" (metric={self.check.metric:g})" if self.check.metric is not None else "")
        return text

    def output_cosine(self, name: str) -> float:
        """The worst cosine of the output NAME; ValueError when the trial has no such output."""
        keys = [key for key, _ in self.outputs]
        return dict(self.outputs)[resolve_name(name, keys)]

    def meets(self, target: Target) -> bool:
        return not self.missed(target)

    def missed(self, target: Target) -> str:
        """Why the target is missed, for people; empty when it is met."""
        if self.min_cosine < target.cosine:
            return f"min cosine {self.min_cosine:.6f}"
        for name, cosine in target.outputs:
            try:
                value = self.output_cosine(name)
            except ValueError:
                return f"no per-output figures for {name}"
            if value < cosine:
                return f"cosine of {name} {value:.6f}"
        if target.top1 and not self.top1_all:
            return "the top-1 class differs from float on some input"
        if target.check is not None:
            if self.check is None or self.check.command != target.check.describe():
                return "the check has not judged it"
            if not self.check.acceptable:
                return "the check finds it not acceptable" + (
                    f" (metric={self.check.metric:g})" if self.check.metric is not None else "")
        return ""


def measure(reference: Outputs, quantized: Outputs, where: Path | None = None,
            classes: Collection[str] | None = None) -> Figures:
    """Compare a quantized run's outputs with float's, input by input (outputs.compare).
    Top-1 counts the class-score outputs `classes` (every output when None); with none, the
    figures have no top-1 (an empty tuple)."""
    missing = [key for key in reference if key not in quantized]
    if missing:
        raise OutputsError(f"the quantized run has no output {', '.join(missing)}", where)
    counts = {len(values) for values in reference.values()}
    counts |= {len(quantized[key]) for key in reference}
    if len(counts) != 1:
        raise OutputsError("the float and quantized runs dumped different numbers of inputs",
                           where)
    inputs = counts.pop()
    per_input: list[list[Comparison]] = [[] for _ in range(inputs)]
    ranked: list[list[bool]] = [[] for _ in range(inputs)]
    per_output: list[tuple[str, float]] = []
    for key, values in reference.items():
        compared = [compare(f, q) for f, q in zip(values, quantized[key])]
        for i, comparison in enumerate(compared):
            per_input[i].append(comparison)
            if classes is None or key in classes:
                ranked[i].append(comparison.top1)
        per_output.append((key, min(c.cosine for c in compared)))
    top1 = tuple(all(agree) for agree in ranked) if any(ranked) else ()
    return Figures(tuple(min(c.cosine for c in cs) for cs in per_input), top1,
                   tuple(per_output))


def from_verify(result: VerifyResult) -> Figures:
    """A verify's figures as a trial's, to judge the tuned file by the same target: top-1 over
    its class-score outputs, the check's verdict on its quantized run."""
    inputs = len(result.quantized[result.tensors[0]])
    classes = result.classes
    cosines = tuple(min(result.quantized[t][i].cosine for t in result.tensors)
                    for i in range(inputs))
    top1 = (tuple(all(result.quantized[t][i].top1 for t in classes) for i in range(inputs))
            if classes else ())
    outputs = tuple((t, min(c.cosine for c in result.quantized[t])) for t in result.tensors)
    verdict = result.checks.get(QUANTIZED)
    check = (None if verdict is None or result.check is None
             else CheckOutcome(result.check, verdict.acceptable, verdict.metric))
    return Figures(cosines, top1, outputs, check)


@dataclass
class Trial:
    """One measured layer set. `applied` is False when the engine did not apply every requested
    qtype ("could not be applied", or the tensors kept their old qtype): never a success."""

    customized: dict[str, str]  # the layers raised (in ranking order) and their qtypes
    figures: Figures
    applied: bool = True
    not_applied: tuple[str, ...] = ()
    seconds: float = 0.0
    phase: str = "bounds"  # "bounds", "bisect", "prune"
    cached: bool = False  # read from .quanted/tune/ instead of run
    notes: list[str] = field(default_factory=list)
    worker: str | None = None  # the dask worker that ran it (--scheduler); None: this machine

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(self.customized)

    @property
    def min_cosine(self) -> float:
        return self.figures.min_cosine

    @property
    def top1_all(self) -> bool:
        return self.figures.top1_all

    def meets(self, target: Target) -> bool:
        return self.applied and self.figures.meets(target)

    def to_json(self) -> dict:
        check = self.figures.check
        return {"layers": list(self.layers), "min_cosine": self.min_cosine,
                "top1_all": self.top1_all, "applied": self.applied,
                "seconds": self.seconds, "phase": self.phase, "cached": self.cached,
                "worker": self.worker,
                "outputs": dict(self.figures.outputs),
                "check": None if check is None else {"acceptable": check.acceptable,
                                                     "metric": check.metric}}
