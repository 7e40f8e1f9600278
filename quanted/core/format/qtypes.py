"""The values `customized_quantize_layers` accepts, and what the 6.x engine does with them.

Measured against acuitylite 6.57.1.
"""

from __future__ import annotations

DEFAULT_QTYPE = "dynamic_fixed_point-i16"

# Applied by the engine.
APPLIED_QTYPES: tuple[str, ...] = (
    "dynamic_fixed_point-i16",
    "float16",
    "bfloat16",
    "float32",
)

# Accepted (a converter is inserted) but the 6.x engine logs
# "Hybrid qtype ... could not be applied".
UNAPPLIED_QTYPES: tuple[str, ...] = (
    "dynamic_fixed_point-i8",
    "perchannel_symmetric_affine-i8",
    "asymmetric_affine-u8",
)

KNOWN_QTYPES: tuple[str, ...] = APPLIED_QTYPES + UNAPPLIED_QTYPES


def is_known(qtype: str) -> bool:
    return qtype in KNOWN_QTYPES


def engine_applies(qtype: str) -> bool:
    return qtype in APPLIED_QTYPES


def describe(qtype: str) -> str:
    """A short note for pickers and check output."""
    if qtype in APPLIED_QTYPES:
        return "applied by the engine"
    if qtype in UNAPPLIED_QTYPES:
        return "engine 6.x cannot apply it (converter only)"
    return "unknown: the engine ignores it"


SHORT_QUANTIZERS = {
    "dynamic_fixed_point": "dfp",
    "perchannel_symmetric_affine": "pcsa",
    "asymmetric_affine": "aa",
}


def short(qtype: str) -> str:
    """`dynamic_fixed_point-i16` -> `dfp-i16`: what a narrow column shows."""
    quantizer, dash, bits = qtype.rpartition("-")
    if dash and quantizer in SHORT_QUANTIZERS:
        return f"{SHORT_QUANTIZERS[quantizer]}-{bits}"
    return qtype
