"""The candidates and their order: every layer with an output tensor in the file, highest
priority first, by `drop` (issue "analyze": the damage each layer does itself, from one pair
of dumps) when an analysis is there, else by entropy.txt's worst value per layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from quanted.core.document import QuantizeDocument
from quanted.core.entropy import EntropyReport, find_beside
from quanted.core.errors import QuantedError
from quanted.core.keys import split_tensor_key
from quanted.core.layers import build_rows, sort_by_entropy

ENTROPY, DROP = "entropy", "drop"


class RankError(QuantedError):
    exit_code = 2


@dataclass(frozen=True)
class Ranking:
    layers: list[str]  # highest priority first
    how: str  # ENTROPY or DROP
    entropy: dict[str, float] = field(default_factory=dict)  # layer -> its worst tensor's
    drop: dict[str, float] = field(default_factory=dict)

    def comment(self, layer: str) -> str:
        """The comment tune writes on a layer's line."""
        drop, entropy = self.drop.get(layer), self.entropy.get(layer)
        return (f"tune: drop={'-' if drop is None else f'{drop:.4f}'}, "
                f"entropy={'-' if entropy is None else f'{entropy:.4f}'}")


def candidates(doc: QuantizeDocument) -> list[str]:
    """Layers with an `outN` tensor in quantize_parameters, in file order."""
    return [layer for layer, keys in doc.tensors_by_layer.items()
            if any(split_tensor_key(key)[1].startswith("out") for key in keys)]


def drop_by_layer(doc: QuantizeDocument) -> dict[str, float] | None:
    """Per-layer `drop` from a current cached analysis of the file, or None when there is
    none. The analysis (`quanted analyze`) is not part of this build yet."""
    return None


def rank(doc: QuantizeDocument, how: str | None = None) -> Ranking:
    """`how`: ENTROPY, DROP, or None for drop when an analysis is cached, else entropy."""
    layers = candidates(doc)
    entropy = _entropy(doc)
    drop = drop_by_layer(doc)
    if how == DROP or (how is None and drop is not None):
        if drop is None:
            raise RankError("--rank drop needs a per-layer analysis (`quanted analyze`), which "
                            "this build does not have; use --rank entropy", doc.path)
        order = sorted(layers, key=lambda layer: (-drop.get(layer, float("-inf")),
                                                  layers.index(layer)))
        return Ranking(order, DROP, entropy or {}, drop)
    if entropy is None:
        raise RankError("no entropy.txt beside the file to rank the layers by (the --rebuild "
                        "run writes it with --compute-entropy)", doc.path)
    found = find_beside(doc.path) if doc.path is not None else None
    report = EntropyReport.read(found) if found is not None else None
    wanted = set(layers)
    order = [row.layer for row in sort_by_entropy(build_rows(doc, report)) if row.layer in wanted]
    return Ranking(order, ENTROPY, entropy)


def _entropy(doc: QuantizeDocument) -> dict[str, float] | None:
    path = find_beside(doc.path) if doc.path is not None else None
    if path is None:
        return None
    by_layer = EntropyReport.read(path).by_layer()
    return {layer: max(ports.values()) for layer, ports in by_layer.items() if ports}
