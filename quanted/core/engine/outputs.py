"""What `pegasus inference --postprocess dump_results` leaves behind, and how two runs compare.

The engine writes one text file per tensor and iteration into --output-dir (engine, 6.57.1):

    iter_0_attach_output_out0_0_out0_1_10.tensor      the output `@attach_output/out0_0:out0`, 1x10
    iter_0_input_37_out0_1_3_32_32.tensor             the input it was fed
    iter_0_input_37_out0_1_3_32_32.qnt.tensor         the quantized input (quantized runs only)

i.e. `iter_<I>_<tensor key without '@', '/' and ':' as '_'>_<shape joined by '_'>.tensor`, one
number per line. The outputs are the model .json's `op: output` layers (`{"Layers": {ID: {"op":
"output", "outputs": ["out0"]}}}`), and a dump is matched to `@ID:PORT` by comparing both names
with every character outside [A-Za-z0-9_] folded to `_`; the part after the name must be the
shape (digits joined by `_`). Numbers in this module are plain floats so they go to JSON as is.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from quanted.core.engine.layer_figures import cosine as flat_cosine
from quanted.core.engine.model_json import ModelError, read_layers
from quanted.core.errors import QuantedError

TOP_K = 5
_FOLD = re.compile(r"[^A-Za-z0-9_]")
_DUMP = re.compile(r"^iter_(?P<iter>\d+)_(?P<rest>.+)$")  # the name without its suffix
_SHAPE = re.compile(r"^\d+(?:_\d+)*$")


class OutputsError(QuantedError):
    """The dumped tensors cannot be read or matched to the model's outputs (exit 2)."""

    exit_code = 2


def fold(name: str) -> str:
    """A tensor key or file name part as the engine spells it in a dump's file name."""
    return _FOLD.sub("_", name.lstrip("@"))


def read_tensor(path: Path) -> np.ndarray:
    """A `.tensor` dump: one number per line (blank lines ignored), as a flat float64 array."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise OutputsError(f"cannot read the dumped tensor: {exc.strerror or exc}", path) from None
    words = text.split()
    try:
        values = np.array([float(word) for word in words], dtype=np.float64)
    except ValueError as exc:
        raise OutputsError(f"not a dumped tensor (one number per line): {exc}", path) from None
    if values.size == 0:
        raise OutputsError("the dumped tensor is empty", path)
    return values


def model_io(model_json: Path) -> tuple[list[str], list[str]]:
    """(output tensor keys, input tensor keys) of an ACUITY model .json, in file order."""
    try:
        layers = read_layers(model_json)
    except ModelError as exc:
        raise OutputsError(exc.message, model_json) from None
    outputs: list[str] = []
    inputs: list[str] = []
    for layer_id, layer in layers.items():
        if not isinstance(layer, dict):
            continue
        ports = layer.get("outputs") or ["out0"]
        keys = [f"@{layer_id}:{port}" for port in ports if isinstance(port, str)]
        if layer.get("op") == "output":
            outputs.extend(keys)
        elif layer.get("op") == "input":
            inputs.extend(keys)
    return outputs, inputs


@dataclass(frozen=True)
class Dump:
    tensor: str  # the tensor key, as pegasus names it: '@attach_output/out0_0:out0'
    iteration: int
    shape: tuple[int, ...]
    path: Path


def _match(rest: str, folded: dict[str, str]) -> tuple[str, tuple[int, ...]] | None:
    rest = fold(rest)
    best = None
    for name, key in folded.items():
        if rest.startswith(name + "_") and _SHAPE.match(rest[len(name) + 1:]):
            if best is None or len(name) > len(best[0]):
                best = (name, key)
    if best is None:
        return None
    shape = tuple(int(n) for n in rest[len(best[0]) + 1:].split("_"))
    return best[1], shape


def find_dumps(folder: Path, outputs: list[str], suffix: str = ".tensor"
               ) -> dict[str, list[Dump]]:
    """The dumps of each output tensor key, by iteration. Inputs and `.qnt` copies are
    skipped; an output with no dump at all is an error (the engine skipped it). `suffix`
    ".npy": the dumps of a `dump_results: {file_type: npy}` run (analysis.py's), same names."""
    folded = {fold(key): key for key in outputs}
    found: dict[str, dict[int, Dump]] = {key: {} for key in outputs}
    for path in sorted(folder.glob(f"iter_*{suffix}")):
        if path.name.endswith(".qnt" + suffix):
            continue
        parsed = _DUMP.match(path.name[: -len(suffix)])
        if not parsed:
            continue
        matched = _match(parsed["rest"], folded)
        if matched is None:
            continue  # an input (or an intermediate tensor) dump
        key, shape = matched
        iteration = int(parsed["iter"])
        found[key][iteration] = Dump(key, iteration, shape, path)
    missing = [key for key, dumps in found.items() if not dumps]
    if missing:
        names = ", ".join(missing)
        raise OutputsError(f"pegasus dumped no tensor for the model output(s) {names}", folder)
    return {key: [dumps[i] for i in sorted(dumps)] for key, dumps in found.items()}


# -- figures ---------------------------------------------------------------------------------


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two tensors of one size, flattened (the one formula is
    layer_figures.cosine: verify's, tune's and the analysis's figures are the same numbers)."""
    return flat_cosine(*_pair(a, b))


def max_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    a, b = _pair(a, b)
    return float(np.max(np.abs(a - b)))


def top_k(values: np.ndarray, k: int = TOP_K) -> list[tuple[int, float]]:
    """The k largest entries as (flat index = class, value), largest first; ties by index."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(-flat, kind="stable")[: min(k, flat.size)]
    return [(int(i), float(flat[i])) for i in order]


def top_overlap(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> float:
    """|classes(a) ∩ classes(b)| / len(a): top-5 overlap when both are top-5 lists."""
    if not a:
        return 1.0
    return len({c for c, _ in a} & {c for c, _ in b}) / len(a)


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise OutputsError(f"the runs dumped tensors of different sizes ({a.size} and {b.size})")
    return a, b


@dataclass(frozen=True)
class Comparison:
    """One output tensor at one iteration: a quantized run against the float run."""

    cosine: float
    max_abs_error: float
    top1: bool  # the same top-1 class
    top5_overlap: float
    top5: list[tuple[int, float]]  # the quantized run's


@dataclass(frozen=True)
class VerifySummary:
    """One quantized run against float, over every output tensor and iteration (the means,
    minimum and maximum are None when there is nothing to compare). Top-1 and top-5 count only
    the class-score outputs (`classes`; every output when None): `top1_count` comparisons."""

    count: int
    mean_cosine: float | None
    min_cosine: float | None
    max_abs_error: float | None
    top1_agree: int  # how many agree
    top1_agreement: float | None  # the fraction that agrees
    mean_top5_overlap: float | None
    top1_count: int | None = None  # None: as `count` (a summary made before outputs had kinds)

    @property
    def ranked(self) -> int:
        """How many comparisons top-1 and top-5 count."""
        return self.count if self.top1_count is None else self.top1_count

    @classmethod
    def of(cls, figures: dict[str, list[Comparison]],
           classes: Collection[str] | None = None) -> VerifySummary:
        every = [c for comparisons in figures.values() for c in comparisons]
        if not every:
            return cls(0, None, None, None, 0, None, None)
        ranked = [c for key, comparisons in figures.items() for c in comparisons
                  if classes is None or key in classes]
        agree = sum(1 for c in ranked if c.top1)
        return cls(
            count=len(every),
            mean_cosine=sum(c.cosine for c in every) / len(every),
            min_cosine=min(c.cosine for c in every),
            max_abs_error=max(c.max_abs_error for c in every),
            top1_agree=agree,
            top1_agreement=agree / len(ranked) if ranked else None,
            mean_top5_overlap=(sum(c.top5_overlap for c in ranked) / len(ranked)
                               if ranked else None),
            top1_count=len(ranked),
        )

    def to_json(self) -> dict:
        return asdict(self)

    def line(self, name: str) -> str:
        """`NAME: mean cosine ...`: how the CLI and the editor end a verify result."""
        ranked = (f"top-1 {self.top1_agree}/{self.ranked}, "
                  f"top-5 overlap {self.mean_top5_overlap:.2f}, "
                  if self.ranked and self.mean_top5_overlap is not None else "")
        return (f"{name}: mean cosine {self.mean_cosine:.6f} (min {self.min_cosine:.6f}), "
                f"{ranked}max abs error {self.max_abs_error:.6f}")


def compare(reference: np.ndarray, other: np.ndarray) -> Comparison:
    ref_top, other_top = top_k(reference), top_k(other)
    return Comparison(
        cosine=cosine(reference, other),
        max_abs_error=max_abs_error(reference, other),
        top1=bool(ref_top and other_top and ref_top[0][0] == other_top[0][0]),
        top5_overlap=top_overlap(ref_top, other_top),
        top5=other_top,
    )
