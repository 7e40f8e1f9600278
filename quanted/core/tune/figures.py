"""The target and one trial's figures: the same comparison `quanted verify` makes (cosine and
top-1 of every model output against float, per input), reduced to what the search decides on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quanted.core.engine.outputs import Comparison, OutputsError, compare

Outputs = dict[str, list[np.ndarray]]  # tensor key -> one array per input (iteration)


@dataclass(frozen=True)
class Target:
    cosine: float = 0.99
    top1: bool = False

    def to_json(self) -> dict:
        return {"cosine": self.cosine, "top1": self.top1}

    def describe(self) -> str:
        return f"min cosine >= {self.cosine:g}" + (" and top-1 = float on every input"
                                                   if self.top1 else "")


@dataclass(frozen=True)
class Figures:
    """Per input: the worst cosine over the model's outputs, and whether every output's top-1
    agrees with float."""

    cosines: tuple[float, ...]
    top1: tuple[bool, ...]

    @property
    def min_cosine(self) -> float:
        return min(self.cosines)

    @property
    def top1_all(self) -> bool:
        return all(self.top1)

    def meets(self, target: Target) -> bool:
        return self.min_cosine >= target.cosine and (self.top1_all or not target.top1)


def measure(reference: Outputs, quantized: Outputs, where: Path | None = None) -> Figures:
    """Compare a quantized run's outputs with float's, input by input (outputs.compare)."""
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
    for key, values in reference.items():
        for i, (f, q) in enumerate(zip(values, quantized[key])):
            per_input[i].append(compare(f, q))
    return Figures(tuple(min(c.cosine for c in cs) for cs in per_input),
                   tuple(all(c.top1 for c in cs) for cs in per_input))


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
        return {"layers": list(self.layers), "min_cosine": self.min_cosine,
                "top1_all": self.top1_all, "applied": self.applied,
                "seconds": self.seconds, "phase": self.phase, "cached": self.cached}
