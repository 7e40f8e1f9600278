"""Per-layer figures: how far a quantized layer output is from the float one, over N inputs.

Numbers are plain Python floats (JSON as is), computed in float64 from the engine's float32
dumps. `reference` is the float output, clamped to the tensor's range when every consumer of the
tensor is a clamping activation (see clamp_range and the note in analysis.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# ACUITY ops that clamp their input: the quantizer gives their producer the activation's range.
CLAMPING_OPS = frozenset({"relu", "relu6", "relun", "clip"})
# The integer range of each qtype a quantizer maps onto.
QTYPE_RANGES = {
    "u8": (0, 255), "i8": (-128, 127), "u16": (0, 65535), "i16": (-32768, 32767),
    "i32": (-(2**31), 2**31 - 1), "u32": (0, 2**32 - 1), "i4": (-8, 7), "u4": (0, 15),
}


@dataclass
class LayerFigures:
    layer: str
    port: str
    cosine: float  # mean over inputs, against the reference (clamped when `clamped`)
    cosine_min: float  # the worst input
    cosine_raw: float  # mean over inputs, against the raw float output
    clamped: bool
    sqnr_db: float | None  # None when the two are equal (or the reference is all zeros)
    max_abs_error: float
    drop: float | None = None  # lowest producer cosine - own cosine
    converter: bool = False  # inserted by a hybrid run
    producers: list[str] = field(default_factory=list)  # layer ids that feed it
    clamp_range: tuple[float, float] | None = None
    clamp_source: str | None = None  # "min_max" (the file's values) or "qtype"

    @property
    def key(self) -> str:
        return f"@{self.layer}:{self.port}"

    def to_json(self) -> dict:
        return {
            "layer": self.layer, "port": self.port, "cosine": self.cosine,
            "cosine_min": self.cosine_min, "cosine_raw": self.cosine_raw,
            "clamped": self.clamped, "sqnr_db": self.sqnr_db,
            "max_abs_error": self.max_abs_error, "drop": self.drop,
            "converter": self.converter, "producers": list(self.producers),
            "clamp_range": list(self.clamp_range) if self.clamp_range else None,
            "clamp_source": self.clamp_source,
        }

    @classmethod
    def from_json(cls, raw: dict) -> LayerFigures:
        clamp = raw.get("clamp_range")
        return cls(
            layer=str(raw["layer"]), port=str(raw["port"]), cosine=float(raw["cosine"]),
            cosine_min=float(raw["cosine_min"]), cosine_raw=float(raw["cosine_raw"]),
            clamped=bool(raw["clamped"]), sqnr_db=_opt(raw.get("sqnr_db")),
            max_abs_error=float(raw["max_abs_error"]), drop=_opt(raw.get("drop")),
            converter=bool(raw.get("converter")), producers=list(raw.get("producers") or []),
            clamp_range=(float(clamp[0]), float(clamp[1])) if clamp else None,
            clamp_source=raw.get("clamp_source"),
        )


def _opt(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum, not np.dot: BLAS's threaded dot stalls for milliseconds per call on a loaded
    # machine (measured: 6 ms instead of 4 us per 16k values with 2 cores busy).
    return float(np.einsum("i,i->", a, b))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two flat float64 arrays; 1.0 when both are all zeros, 0.0 when
    only one is."""
    na, nb = math.sqrt(_dot(a, a)), math.sqrt(_dot(b, b))
    if na == 0.0 and nb == 0.0:
        return 1.0
    if na == 0.0 or nb == 0.0:
        return 0.0
    return _dot(a, b) / (na * nb)


def clamp_range(fields: dict[str, str]) -> tuple[tuple[float, float], str] | None:
    """The range a tensor's quantized values are saturated to: for `asymmetric_affine` (u8/i8,
    whose scale and zero point are made from them) its `min_value`/`max_value` in the file;
    for `dynamic_fixed_point` and `symmetric_affine`, or without min/max, what the quantizer
    and qtype represent. (Measured on the sample after a hybrid run: an i16 `fl: 11` Add with
    `min_value: 0.0` holds values down to -16, so clamping its float to [0, max] would compare
    it with a tensor it never tries to be; cosine 0.59 instead of the 0.9995 of its relu.)
    None when neither can be told."""
    quantizer = fields.get("quantizer") or fields.get("dtype") or ""
    if quantizer not in ("dynamic_fixed_point", "symmetric_affine"):
        try:
            return (float(fields["min_value"]), float(fields["max_value"])), "min_max"
        except (KeyError, ValueError):
            pass
    qrange = QTYPE_RANGES.get(fields.get("qtype", ""))
    if qrange is None:
        return None
    low, high = qrange
    try:
        if quantizer == "asymmetric_affine":
            scale, zero = float(fields["scale"]), float(fields.get("zero_point") or 0)
            return (scale * (low - zero), scale * (high - zero)), "qtype"
        if quantizer == "symmetric_affine":
            scale = float(fields["scale"])
            return (scale * low, scale * high), "qtype"
        if quantizer == "dynamic_fixed_point":
            step = 2.0 ** -float(fields["fl"])
            return (low * step, high * step), "qtype"
    except (KeyError, ValueError):
        return None
    return None  # per-channel (a list of scales), float types: nothing to clamp to


def figures(layer: str, port: str, floats: Sequence[np.ndarray], quantized: Sequence[np.ndarray],
            clamp: tuple[tuple[float, float], str] | None = None) -> LayerFigures:
    """The figures of one layer output over its inputs (floats[i] and quantized[i] are the same
    input's dumps). With `clamp`, the reference is the float output clipped to that range."""
    if len(floats) != len(quantized) or not floats:
        raise ValueError(f"{layer}:{port}: {len(floats)} float and {len(quantized)} quantized "
                         "dumps")
    cosines, raw_cosines = [], []
    signal = noise = 0.0
    worst = 0.0
    for f, q in zip(floats, quantized):
        raw = np.asarray(f, dtype=np.float64).ravel()
        got = np.asarray(q, dtype=np.float64).ravel()
        if raw.shape != got.shape:
            raise ValueError(f"{layer}:{port}: float and quantized dumps differ in size "
                             f"({raw.size} and {got.size})")
        ref = np.clip(raw, clamp[0][0], clamp[0][1]) if clamp is not None else raw
        diff = ref - got
        cosines.append(cosine(ref, got))
        raw_cosines.append(cosine(raw, got) if clamp is not None else cosines[-1])
        signal += _dot(ref, ref)
        noise += _dot(diff, diff)
        if diff.size:
            worst = max(worst, float(np.max(np.abs(diff))))
    sqnr = 10.0 * math.log10(signal / noise) if noise > 0.0 and signal > 0.0 else None
    return LayerFigures(
        layer=layer, port=port,
        cosine=float(np.mean(cosines)), cosine_min=float(min(cosines)),
        cosine_raw=float(np.mean(raw_cosines)), clamped=clamp is not None,
        sqnr_db=sqnr, max_abs_error=worst,
        clamp_range=clamp[0] if clamp is not None else None,
        clamp_source=clamp[1] if clamp is not None else None,
    )


def set_drops(layers: list[LayerFigures], inputs: dict[str, list[tuple[str, str]]]) -> None:
    """`drop` = the lowest cosine among the tensors feeding a layer (`inputs[layer]`: (layer,
    port) pairs from the model .json) minus its own cosine; None when a producer has no figure.
    A layer fed by nothing (the model input) is compared with the exact float input, whose
    cosine is 1: its drop is 1 - cosine."""
    cos = {(item.layer, item.port): item.cosine for item in layers}
    for item in layers:
        producers = inputs.get(item.layer, [])
        item.producers = list(dict.fromkeys(layer for layer, _ in producers))
        if not producers:
            item.drop = 1.0 - item.cosine
        elif all(p in cos for p in producers):
            item.drop = min(cos[p] for p in producers) - item.cosine
        else:
            item.drop = None
