"""The per-layer view that both drivers show: a document joined with its entropy report."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from quanted.core.document.model import QuantizeDocument
from quanted.core.format.tensor_index import TensorIndex

# The layers a --hybrid run inserts between quantizations (docs/format.md section 1; engine 6.57:
# `op: dtype_converter` in NAME_POSTFIX.quantize.json), named LAYER_pre|next_FROM_to_TO_UID:
# `c2_6_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12`,
# `Add_output_0_12_next_float16float16_to_asymmetric_affineu8_46`.
_QUANTIZATION = (r"(?:perchannel_symmetric_affine|asymmetric_affine|symmetric_affine"
                 r"|dynamic_fixed_point|qbfloat16|bfloat16|float16|float32)[a-z]*\d*")
CONVERTER_NAME = re.compile(rf"_(?:pre|next)_{_QUANTIZATION}_to_{_QUANTIZATION}_\d+$")


def is_converter(layer: str) -> bool:
    """True for a converter layer's id: never a candidate for more bits, it only converts."""
    return "_to_" in layer and CONVERTER_NAME.search(layer) is not None


class LayerIndex(NamedTuple):
    """All build_rows reads of a document: a reader that needs nothing else (`quanted layers`)
    lets go of the file's bytes before the rows are built (a third of its peak memory).
    tensors_by_layer may be a TensorIndex's view (its keys made as each row is written)."""

    tensors_by_layer: Mapping[str, Sequence[str]]
    customized: dict[str, str]

    @classmethod
    def of(cls, doc: QuantizeDocument, known: TensorIndex | None = None) -> LayerIndex:
        """The index of `doc`, its layers read from its TensorIndex (`known`, when the caller
        holds it): layer ids with shared port tuples, not a str per tensor key (a fifth of the
        memory)."""
        return cls((TensorIndex.of(doc) if known is None else known).by_layer(), doc.customized)


class ByLayer(Protocol):
    """An entropy report as the rows read it (EntropyReport, or entropy.LayerEntropy)."""

    def by_layer(self) -> dict[str, dict[str, float]]: ...


@dataclass(slots=True)  # no __dict__ each: 200,000 rows at 150 MB
class LayerRow:
    layer: str
    tensors: Sequence[str]  # its tensor keys in quantize_parameters, as written there
    entropy: dict[str, float] = field(default_factory=dict)  # port -> value
    order: int = 0  # position in the file; rows not in the file come after
    in_file: bool = True  # has tensors in quantize_parameters
    customized: str | None = None
    converter: bool = False  # inserted by a hybrid run
    entropy_from: str | None = None  # an earlier report the entropy came from (None: current)

    @property
    def is_candidate(self) -> bool:
        """Can be offered for more bits: a layer of the file, not a converter."""
        return self.in_file and not self.converter

    @property
    def max_entropy(self) -> float | None:
        return max(self.entropy.values()) if self.entropy else None

    @property
    def flags(self) -> list[str]:
        found = []
        if not self.in_file:
            found.append("not in file")
        if not self.entropy:
            found.append("no entropy")
        if self.converter:
            found.append("converter")
        if self.entropy_from:
            found.append(f"entropy from {self.entropy_from}")
        return found

    def to_json(self) -> dict[str, object]:
        return {
            "layer": self.layer,
            "tensors": list(self.tensors),
            "entropy": dict(self.entropy),
            "max_entropy": self.max_entropy,
            "customized": self.customized,
            "converter": self.converter,
            "entropy_from": self.entropy_from,
        }


def build_rows(
    doc: QuantizeDocument | LayerIndex,
    report: ByLayer | None = None,
    earlier: Sequence[tuple[str, ByLayer]] | None = None,
) -> list[LayerRow]:
    """One row per layer id: those in the file, then ones only the report or the block names.

    `earlier` (label, report), newest first: a customized layer the current report has no
    entropy for (a float16 layer after a hybrid run) keeps the value from the newest earlier
    report that has it, the one current when it was chosen; `entropy_from` says which."""
    rows: dict[str, LayerRow] = {}
    for order, (layer, tensors) in enumerate(doc.tensors_by_layer.items()):
        rows[layer] = LayerRow(layer, tensors, order=order, converter=is_converter(layer))
    extra = len(rows)
    if report is not None:
        for layer, ports in report.by_layer().items():
            row = rows.get(layer)
            if row is None:
                row = rows[layer] = LayerRow(layer, [], order=extra, in_file=False,
                                             converter=is_converter(layer))
                extra += 1
            row.entropy = ports
    update_customized(rows, doc.customized)
    if earlier:
        keep_chosen_entropy(rows.values(), earlier)
    return list(rows.values())


def chosen_without_entropy(rows: Iterable[LayerRow]) -> list[LayerRow]:
    """The customized rows the current report has no entropy for."""
    return [row for row in rows if row.customized is not None and not row.entropy]


def keep_chosen_entropy(rows: Iterable[LayerRow],
                        earlier: Iterable[tuple[str, ByLayer]]) -> None:
    """build_rows' `earlier`, applied to rows built without it."""
    missing = chosen_without_entropy(rows)
    for label, report in earlier:
        if not missing:
            return
        ports_of = report.by_layer()
        for row in [r for r in missing if r.layer in ports_of]:
            row.entropy = ports_of[row.layer]
            row.entropy_from = label
        missing = [r for r in missing if r.entropy_from is None]


def candidates(rows: list[LayerRow], above: float | None = None, top: int | None = None,
               by: Mapping[str, float | None] | None = None) -> list[LayerRow]:
    """The layers worth more bits, worst first: candidates (no converters, only layers of the
    file) with entropy, at or above `above`, the first `top` of them. `by`: a figure per layer
    (an analysis's drop) ranks instead of max entropy; layers without one are left out."""
    if by is None:
        found = [r for r in sort_by_entropy(rows) if r.is_candidate and r.entropy]
        values = {r.layer: r.max_entropy or 0.0 for r in found}
    else:
        values = {r.layer: value for r in rows
                  if r.is_candidate and (value := by.get(r.layer)) is not None}
        found = sorted((r for r in rows if r.layer in values),
                       key=lambda r: (-values[r.layer], r.order))
    if above is not None:
        found = [r for r in found if values[r.layer] >= above]
    return found if top is None else found[:top]


def update_customized(rows: dict[str, LayerRow], customized: dict[str, str]) -> None:
    """Refresh the `customized` column; adds rows for layers only the block names."""
    for row in rows.values():
        row.customized = customized.get(row.layer)
    extra = len(rows)
    for layer, qtype in customized.items():
        if layer not in rows:
            rows[layer] = LayerRow(layer, [], order=extra, in_file=False, customized=qtype,
                                   converter=is_converter(layer))
            extra += 1


def sort_by_entropy(rows: list[LayerRow]) -> list[LayerRow]:
    """Highest max entropy first; rows without entropy last, in file order."""
    with_value = [r for r in rows if r.entropy]
    without = [r for r in rows if not r.entropy]
    with_value.sort(key=lambda r: (-(r.max_entropy or 0.0), r.order))
    without.sort(key=lambda r: r.order)
    return with_value + without


def applied_qtypes(doc: QuantizeDocument) -> dict[str, frozenset[str]]:
    """Layer id -> the `QUANTIZER-QTYPE` values its outN tensors have in quantize_parameters:
    what the engine measures it at."""
    return {layer: frozenset(f"{t.quantizer}-{t.qtype}" for t in tensors
                             if t.port.startswith("out"))
            for layer, tensors in doc.qtypes_by_layer().items()}


def is_pending(layer: str, customized: str | None, applied: Mapping[str, frozenset[str]]) -> bool:
    """A customized layer the file does not apply yet (edited since the last hybrid run, or
    refused by it): an analysis measured it at the file's qtype, not the customized one."""
    found = applied.get(layer)
    return bool(customized and found and customized not in found)
