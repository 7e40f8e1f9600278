"""The candidates and their order: every layer with an output tensor in the file, highest
priority first, by `drop` (the damage each layer does itself, from one pair
of dumps) when an analysis is there, else by entropy.txt's worst value per layer. `--rank drop`
without a current analysis gives a *pending* ranking (entropy order, or file order without
entropy.txt, until the tune runs the analysis: see session.search)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.model_json import ModelError, read_layers
from quanted.core.format.entropy import EntropyReport, resolve
from quanted.core.errors import QuantedError
from quanted.core.format.keys import split_tensor_key
from quanted.core.document.layers import build_rows, is_converter, sort_by_entropy

ENTROPY, DROP = "entropy", "drop"
LAYOUT_OPS = ("permute", "reshape", "squeeze", "flatten")

if TYPE_CHECKING:
    from quanted.core.engine.analysis import Analysis


class RankError(QuantedError):
    exit_code = 2


@dataclass(frozen=True)
class Ranking:
    layers: list[str]  # highest priority first
    how: str  # ENTROPY or DROP
    entropy: dict[str, float] = field(default_factory=dict)  # layer -> its worst tensor's
    drop: dict[str, float] = field(default_factory=dict)
    # a tied group (see ties) is one candidate: its first member by this ranking, raised with
    # the others, its companions
    companions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pending: bool = False  # DROP without an analysis yet: `layers` is a provisional order

    def comment(self, layer: str) -> str:
        """The comment tune writes on a layer's line."""
        drop, entropy = self.drop.get(layer), self.entropy.get(layer)
        return (f"tune: drop={'-' if drop is None else f'{drop:.4f}'}, "
                f"entropy={'-' if entropy is None else f'{entropy:.4f}'}")


def candidates(doc: QuantizeDocument) -> list[str]:
    """Layers with an `outN` tensor in quantize_parameters, in file order; not the converters
    an earlier hybrid run inserted (they only convert, and the next run replaces them)."""
    return [layer for layer, keys in doc.tensors_by_layer.items() if not is_converter(layer)
            and any(split_tensor_key(key)[1].startswith("out") for key in keys)]


def ties(model: Path) -> list[list[str]]:
    """Groups of layers the engine raises only together: chains of layout layers (ops
    permute, reshape, squeeze, flatten) feeding one another, in the model's order. Measured
    (acuitylite 6.57.1, the sample, whose importer put a permute
    `Flatten_output_0_3_acuity_mark_perm_38` between the pooling and the reshape
    `Flatten_output_0_3`): raising either of the two without the other makes the engine log
    "There's a conflict to quantize tensor @Flatten_output_0_3_acuity_mark_perm_38:out0" and
    apply none of the list, raising both works; a permute feeding a convolution, or fed by a
    pooling, can be raised on its own."""
    try:
        layers = read_layers(model)
    except ModelError:
        return []
    layout = {layer for layer, spec in layers.items()
              if isinstance(spec, dict) and spec.get("op") in LAYOUT_OPS}
    group: dict[str, str] = {layer: layer for layer in layout}

    def root(layer: str) -> str:
        while group[layer] != layer:
            layer = group[layer]
        return layer

    for layer in layout:
        spec = layers[layer]
        inputs = spec.get("inputs", []) if isinstance(spec, dict) else []
        for tensor in inputs if isinstance(inputs, list) else []:
            producer = split_tensor_key(str(tensor))[0]
            if producer in layout:
                group[root(producer)] = root(layer)
    found: dict[str, list[str]] = {}
    for layer in layers:
        if layer in layout:
            found.setdefault(root(layer), []).append(layer)
    return [members for members in found.values() if len(members) > 1]


def drop_by_layer(doc: QuantizeDocument) -> dict[str, float] | None:
    """Per-layer `drop` from a current cached analysis of the file (`quanted analyze`), or None
    when there is none. Reads the cache only."""
    from quanted.core.engine import analysis  # numpy and the dump readers: only when ranking

    if doc.path is None:
        return None
    try:
        found = analysis.load_current(doc.path)
    except QuantedError:
        return None  # model files missing or unreadable: no analysis to rank by
    return None if found is None else drops(found)


def drops(found: Analysis) -> dict[str, float]:
    return {layer: f.drop for layer, f in found.by_layer().items() if f.drop is not None}


def analysis_runs(doc: QuantizeDocument) -> int:
    """Engine runs an analysis of the file needs now: 2, or 1 when the float run's dumps are
    cached (an analysis of an earlier state of the file made them)."""
    from quanted.core.engine import analysis, analysis_cache

    the_plan = analysis.plan(doc)
    cached = analysis_cache.AnalysisCache(the_plan.quantize).float_dumps(the_plan.float_key)
    return 1 if cached is not None else 2


def rank(doc: QuantizeDocument, how: str | None = None, model: Path | None = None,
         drop: dict[str, float] | None = None, report: Path | None = None,
         cached: bool = True) -> Ranking:
    """`how`: ENTROPY, DROP, or None for drop when an analysis is cached, else entropy.
    `model`: the model .json, for the companions. `drop`: the figures to rank by (from an
    analysis just run) instead of the cached ones. `report`: the entropy report to rank by
    instead of the one beside the file (tune's: the plain model's). DROP with no analysis at
    all gives a pending ranking (`pending`), for the tune to complete once it has run one.
    `cached=False`: no cached analysis of the file counts (it measured another model)."""
    layers = candidates(doc)
    report = report or (resolve(doc.path).path if doc.path is not None else None)
    entropy = _entropy(report)
    if drop is None and cached:
        drop = drop_by_layer(doc)
    if how == DROP or (how is None and drop is not None):
        if drop is None:
            provisional = _by_entropy(doc, layers, report) if entropy is not None else layers
            return _tied(Ranking(provisional, DROP, entropy or {}, pending=True), model)
        order = sorted(layers, key=lambda layer: (-drop.get(layer, float("-inf")),
                                                  layers.index(layer)))
        return _tied(Ranking(order, DROP, entropy or {}, drop), model)
    if entropy is None:
        raise RankError("no entropy report beside the file to rank the layers by (the --rebuild "
                        "run writes it with --compute-entropy)", doc.path)
    return _tied(Ranking(_by_entropy(doc, layers, report), ENTROPY, entropy), model)


def _by_entropy(doc: QuantizeDocument, layers: list[str], found: Path | None) -> list[str]:
    report = EntropyReport.read(found) if found is not None else None
    wanted = set(layers)
    return [row.layer for row in sort_by_entropy(build_rows(doc, report)) if row.layer in wanted]


def _tied(ranking: Ranking, model: Path | None) -> Ranking:
    """One candidate per tied group: its best-ranked member, the others its companions."""
    position = {layer: i for i, layer in enumerate(ranking.layers)}
    companions: dict[str, tuple[str, ...]] = {}
    for members in ties(model) if model is not None else []:
        present = sorted((m for m in members if m in position), key=position.__getitem__)
        if len(present) > 1:
            companions[present[0]] = tuple(present[1:])
    riders = {layer for others in companions.values() for layer in others}
    return Ranking([layer for layer in ranking.layers if layer not in riders], ranking.how,
                   ranking.entropy, ranking.drop, companions, ranking.pending)


def _entropy(path: Path | None) -> dict[str, float] | None:
    if path is None:
        return None
    by_layer = EntropyReport.read(path).by_layer()
    return {layer: max(ports.values()) for layer, ports in by_layer.items() if ports}
