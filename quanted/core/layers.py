"""The per-layer view that both drivers show: a document joined with its entropy report."""

from __future__ import annotations

from dataclasses import dataclass, field

from quanted.core.document import QuantizeDocument
from quanted.core.entropy import EntropyReport


@dataclass
class LayerRow:
    layer: str
    tensors: list[str]  # its tensor keys in quantize_parameters, as written there
    entropy: dict[str, float] = field(default_factory=dict)  # port -> value
    order: int = 0  # position in the file; rows not in the file come after
    in_file: bool = True  # has tensors in quantize_parameters
    customized: str | None = None

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
        return found

    def to_json(self) -> dict[str, object]:
        return {
            "layer": self.layer,
            "tensors": list(self.tensors),
            "entropy": dict(self.entropy),
            "max_entropy": self.max_entropy,
            "customized": self.customized,
        }


def build_rows(doc: QuantizeDocument, report: EntropyReport | None = None) -> list[LayerRow]:
    """One row per layer id: those in the file, then ones only the report or the block names."""
    rows: dict[str, LayerRow] = {}
    for order, (layer, tensors) in enumerate(doc.tensors_by_layer.items()):
        rows[layer] = LayerRow(layer, tensors, order=order)
    extra = len(rows)
    if report is not None:
        for layer, ports in report.by_layer().items():
            row = rows.get(layer)
            if row is None:
                row = rows[layer] = LayerRow(layer, [], order=extra, in_file=False)
                extra += 1
            row.entropy = ports
    update_customized(rows, doc.customized)
    return list(rows.values())


def update_customized(rows: dict[str, LayerRow], customized: dict[str, str]) -> None:
    """Refresh the `customized` column; adds rows for layers only the block names."""
    for row in rows.values():
        row.customized = customized.get(row.layer)
    extra = len(rows)
    for layer, qtype in customized.items():
        if layer not in rows:
            rows[layer] = LayerRow(layer, [], order=extra, in_file=False, customized=qtype)
            extra += 1


def sort_by_entropy(rows: list[LayerRow]) -> list[LayerRow]:
    """Highest max entropy first; rows without entropy last, in file order."""
    with_value = [r for r in rows if r.entropy]
    without = [r for r in rows if not r.entropy]
    with_value.sort(key=lambda r: (-(r.max_entropy or 0.0), r.order))
    without.sort(key=lambda r: r.order)
    return with_value + without
