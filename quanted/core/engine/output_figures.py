"""Per-output figures of a quantized run against float: what a detector's outputs need and one
pooled "min cosine" hides (a score head that collapses onto a few codes has cosine 0.99+).

For each model output, over every input: cosine (worst and mean), SQNR, max abs error, and a
resolution check; top-1 only for an output of kind `class`.

Kinds. An output is `class` when the model .json proves it holds class scores: the layer the
output layer reads is a `softmax` and the output is one vector per input (a single dimension
above 1 in the dumped shape). Everything else is `values` (boxes, maps, embeddings, raw logits):
its top-1 means nothing. `--output NAME=class|values` overrides it.

Resolution. The quantized output's `step` is the smallest gap between two distinct values it
takes (the quantization step as soon as two neighbouring codes occur; measured, so it is right
for any qtype, float16 included, without reading the .quantize). The "middle half" is where
float's typical values lie (25th to 75th percentile), which a few outliers do not widen while
they do widen the calibrated range; `levels` is how many steps span it. A `values` output is
flagged `collapsed` when either
  - the quantized values at the positions whose float value lies in the middle half take fewer
    than MIN_MIDDLE_CODES (8) distinct values, where float takes at least COLLAPSE_RATIO (4)
    times as many there: an outlier stretched the range and the values that matter share a
    few codes (a uint8 tensor calibrated to about ±4 standard deviations has about 40 steps
    across its middle half); or
  - the whole output takes fewer than MIN_DISTINCT (16, 4 bits) distinct values where float
    takes at least COLLAPSE_RATIO times as many and at least MIN_DISTINCT.
A `class` output is never flagged: the tail of small probabilities of a uint8 softmax collapses
onto 0 by design, and top-1/top-5 judge it. Both rules ask for float to have many more values
than quantized, so an output whose float values are few is not flagged for being few.
Measured on tests/engine/build_detnet.py's score head (uint8; two anchors at -300 stretch the
range to [-304.5, 6.7], step 1.22): see README "Detection models".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from quanted.core.engine.model_json import ModelError, read_layers
from quanted.core.engine.outputs import Comparison, OutputsError, compare

CLASS, VALUES = "class", "values"
KINDS = (CLASS, VALUES)
MIN_MIDDLE_CODES = 8
MIN_DISTINCT = 16
COLLAPSE_RATIO = 4
LOW, HIGH = 25.0, 75.0  # the percentiles whose distance is the float values' spread


@dataclass(frozen=True)
class Resolution:
    distinct_float: int
    distinct_quantized: int
    middle_float: int  # distinct float values in the middle half
    middle_quantized: int  # distinct quantized values at those positions
    step: float | None  # None when the quantized output takes a single value
    spread: float  # 75th minus 25th percentile of the float values
    levels: float | None  # spread / step
    collapsed: bool
    why: str  # for people: empty unless collapsed


def resolution(reference: Sequence[np.ndarray], quantized: Sequence[np.ndarray],
               judge: bool = True) -> Resolution:
    """The figures, and with `judge` the collapsed flag (see the module's doc)."""
    f = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in reference])
    q = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in quantized])
    if f.shape != q.shape:
        raise OutputsError(f"the runs dumped tensors of different sizes ({f.size} and {q.size})")
    distinct_f = int(np.unique(f).size)
    values = np.unique(q)
    step = float(np.min(np.diff(values))) if values.size > 1 else None
    low, high = np.percentile(f, [LOW, HIGH])
    spread = float(high - low)
    middle = (f >= low) & (f <= high)
    middle_f, middle_q = int(np.unique(f[middle]).size), int(np.unique(q[middle]).size)
    levels = spread / step if step else None
    reasons = []
    if judge and middle_q < MIN_MIDDLE_CODES and middle_f >= COLLAPSE_RATIO * middle_q:
        reasons.append(f"{middle_q} distinct quantized values where float's middle half has "
                       f"{middle_f} (step {step or 0:.6g}, middle half {spread:.6g} wide)")
    if (judge and values.size < MIN_DISTINCT and distinct_f >= MIN_DISTINCT
            and distinct_f >= COLLAPSE_RATIO * values.size):
        reasons.append(f"{values.size} distinct quantized values where float has {distinct_f}")
    return Resolution(distinct_f, int(values.size), middle_f, middle_q, step, spread, levels,
                      bool(reasons), "; ".join(reasons))


def sqnr_db(reference: Sequence[np.ndarray], quantized: Sequence[np.ndarray]) -> float | None:
    """10·log10(Σf² / Σ(f−q)²) over every input; None when they are equal or float is zero."""
    signal = sum(float(np.sum(np.square(np.asarray(f, dtype=np.float64)))) for f in reference)
    noise = sum(float(np.sum(np.square(np.asarray(f, dtype=np.float64).ravel()
                                       - np.asarray(q, dtype=np.float64).ravel())))
                for f, q in zip(reference, quantized))
    return 10.0 * math.log10(signal / noise) if noise > 0.0 and signal > 0.0 else None


@dataclass(frozen=True)
class OutputFigures:
    """One output over every input. top1_agree and top5 overlap are None for `values`."""

    tensor: str
    kind: str
    count: int  # inputs
    min_cosine: float
    mean_cosine: float
    sqnr_db: float | None
    max_abs_error: float
    resolution: Resolution
    top1_agree: int | None
    mean_top5_overlap: float | None

    @classmethod
    def of(cls, tensor: str, kind: str, reference: Sequence[np.ndarray],
           quantized: Sequence[np.ndarray], comparisons: Sequence[Comparison]) -> OutputFigures:
        cosines = [c.cosine for c in comparisons]
        is_class = kind == CLASS
        return cls(
            tensor=tensor, kind=kind, count=len(comparisons),
            min_cosine=min(cosines), mean_cosine=sum(cosines) / len(cosines),
            sqnr_db=sqnr_db(reference, quantized),
            max_abs_error=max(c.max_abs_error for c in comparisons),
            resolution=resolution(reference, quantized, judge=not is_class),
            top1_agree=sum(1 for c in comparisons if c.top1) if is_class else None,
            mean_top5_overlap=(sum(c.top5_overlap for c in comparisons) / len(comparisons)
                               if is_class else None))

    @classmethod
    def compared(cls, tensor: str, kind: str, reference: Sequence[np.ndarray],
                 quantized: Sequence[np.ndarray]) -> OutputFigures:
        """`of`, comparing each input's arrays first (what the analysis has: no per-input
        table of its own)."""
        if len(reference) != len(quantized) or not reference:
            raise OutputsError(f"{tensor}: {len(reference)} float and {len(quantized)} "
                               "quantized inputs")
        return cls.of(tensor, kind, reference, quantized,
                      [compare(f, q) for f, q in zip(reference, quantized)])

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> OutputFigures:
        """What to_json wrote (the analysis cache); KeyError/TypeError/ValueError when not."""
        r = data["resolution"]

        def number(value: object) -> float | None:
            return None if value is None else float(value)  # type: ignore[arg-type]

        resolution = Resolution(int(r["distinct_float"]), int(r["distinct_quantized"]),
                                int(r["middle_float"]), int(r["middle_quantized"]),
                                number(r["step"]), float(r["spread"]), number(r["levels"]),
                                bool(r["collapsed"]), str(r["why"]))
        top1 = data.get("top1_agree")
        return cls(str(data["tensor"]), str(data["kind"]), int(data["count"]),
                   float(data["min_cosine"]), float(data["mean_cosine"]),
                   number(data["sqnr_db"]), float(data["max_abs_error"]), resolution,
                   None if top1 is None else int(top1), number(data.get("mean_top5_overlap")))


def worst(outputs: dict[str, OutputFigures]) -> OutputFigures | None:
    """The output with the lowest cosine: the headline, named."""
    return min(outputs.values(), key=lambda f: f.min_cosine) if outputs else None


# -- kinds -----------------------------------------------------------------------------------


def proven_kinds(model_json: Path, shapes: dict[str, tuple[int, ...]]) -> dict[str, str]:
    """CLASS or VALUES per output tensor key, from the model .json (see the module's doc)."""
    try:
        layers = read_layers(model_json)
    except ModelError as exc:
        raise OutputsError(exc.message, model_json) from None
    kinds = {}
    for key, shape in shapes.items():
        layer = layers.get(key.lstrip("@").rpartition(":")[0])
        producer = None
        if isinstance(layer, dict) and layer.get("inputs"):
            source = str(layer["inputs"][0])
            producer = layers.get(source.lstrip("@").rpartition(":")[0])
        softmax = isinstance(producer, dict) and producer.get("op") == "softmax"
        vector = sum(1 for n in shape if n > 1) <= 1
        kinds[key] = CLASS if softmax and vector else VALUES
    return kinds


def parse_overrides(words: Sequence[str]) -> dict[str, str]:
    """`NAME=class|values` words into {NAME: kind}; ValueError says what is wrong."""
    found = {}
    for word in words:
        name, sep, kind = word.rpartition("=")
        if not sep or not name or kind not in KINDS:
            raise ValueError(f"--output takes NAME=class or NAME=values, not {word!r}")
        found[name] = kind
    return found


def resolve_name(name: str, tensors: Sequence[str]) -> str:
    """An output named by its tensor key, its layer id (with or without `@`), or its 0-based
    index among the model's outputs; ValueError lists them when none matches."""
    if name.isdigit() and int(name) < len(tensors):
        return tensors[int(name)]
    for key in tensors:
        layer = key.lstrip("@").rpartition(":")[0]
        if name in (key, key.lstrip("@"), layer, "@" + layer):
            return key
    listed = ", ".join(f"{i}: {key}" for i, key in enumerate(tensors))
    raise ValueError(f"no model output {name!r} (outputs: {listed})")
