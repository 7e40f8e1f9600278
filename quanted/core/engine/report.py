"""What a hybrid run changed: per customized layer, its tensors' qtypes and entropy before
and after, and the converter layers pegasus inserted into NAME_POSTFIX.quantize.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.command import hybrid_model
from quanted.core.engine.model_json import ModelError, read_layers
from quanted.core.format.entropy import ENGINE_WRITES, EntropyReport
from quanted.core.errors import QuantedError
from quanted.core.format.keys import split_tensor_key


def model_layers(path: Path) -> list[str]:
    """Layer ids of an ACUITY model .json; [] when it is missing or unreadable."""
    try:
        return list(read_layers(path))
    except ModelError:
        return []


def _entropy_by_layer(folder: Path) -> dict[str, dict[str, float]] | None:
    path = folder / ENGINE_WRITES
    if not path.is_file():
        return None
    try:
        return EntropyReport.read(path).by_layer()
    except QuantedError:
        return None


@dataclass
class Snapshot:
    customized: dict[str, str]
    qtypes: dict[str, dict[str, str]]  # layer -> {tensor key: qtype}
    entropy: dict[str, dict[str, float]] | None
    entropy_mtime: int | None
    hybrid_model_layers: list[str]

    @classmethod
    def take(cls, quantize: Path, doc: QuantizeDocument) -> Snapshot:
        by_layer = {layer: {t.key: t.qtype for t in tensors}
                    for layer, tensors in doc.qtypes_by_layer().items()}
        entropy_path = quantize.parent / ENGINE_WRITES
        mtime = entropy_path.stat().st_mtime_ns if entropy_path.is_file() else None
        return cls(
            customized=doc.customized,
            qtypes=by_layer,
            entropy=_entropy_by_layer(quantize.parent),
            entropy_mtime=mtime,
            hybrid_model_layers=model_layers(hybrid_model(quantize)),
        )


@dataclass
class LayerChange:
    layer: str
    qtype: str  # its value in customized_quantize_layers
    before: dict[str, str]  # tensor key -> qtype
    after: dict[str, str]
    entropy_before: dict[str, float] = field(default_factory=dict)
    entropy_after: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "layer": self.layer,
            "qtype": self.qtype,
            "tensors": {
                key: {"before": self.before.get(key), "after": self.after.get(key)}
                for key in dict.fromkeys([*self.before, *self.after])
            },
            "entropy_before": self.entropy_before,
            "entropy_after": self.entropy_after,
        }


@dataclass
class HybridReport:
    layers: list[LayerChange]
    converters: list[str]
    entropy_refreshed: bool

    def to_json(self) -> dict:
        return {
            "layers": [change.to_json() for change in self.layers],
            "converters": self.converters,
            "entropy_refreshed": self.entropy_refreshed,
        }

    def lines(self) -> list[str]:
        """Per customized layer: its tensors' qtypes before -> after by port (`out0 u8 -> i16`;
        a tensor the run left as it was is said so), and its entropy only where the new
        report differs from the old one; then the converter layers."""
        out = []
        for change in self.layers:
            out.append(f"{change.layer} ({change.qtype}):")
            moved: list[str] = []
            kept: list[str] = []
            for key in dict.fromkeys([*change.before, *change.after]):
                port = split_tensor_key(key)[1] or key
                old, new = change.before.get(key, "-"), change.after.get(key, "-")
                (moved if old != new else kept).append(
                    f"{port} {old} -> {new}" if old != new else f"{port} {old}")
            if moved:
                out.append(f"  qtype: {', '.join(moved)}")
            if kept:
                out.append(f"  unchanged: {', '.join(kept)}")
            out.extend(f"  {line}" for line in _entropy_lines(change))
        if self.converters:
            out.append(f"converter layers inserted ({len(self.converters)}):")
            out.extend(f"  {name}" for name in self.converters)
        else:
            out.append("no converter layers inserted")
        return out


def _entropy_lines(change: LayerChange) -> list[str]:
    same, lines = [], []
    for port in dict.fromkeys([*change.entropy_before, *change.entropy_after]):
        old, new = change.entropy_before.get(port), change.entropy_after.get(port)
        if old is not None and new is None:
            lines.append(f"entropy {port}: {_num(old)}, not in the new report")
        elif old is None:
            lines.append(f"entropy {port}: new in the report, {_num(new)}")
        elif old != new:
            lines.append(f"entropy {port}: {_num(old)} -> {_num(new)}")
        else:
            same.append(f"{port} {_num(old)}")
    if same:
        lines.insert(0, f"entropy: {', '.join(same)} (the same in the new report)")
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def compare(before: Snapshot, after: Snapshot, original_model: Path | None) -> HybridReport:
    """`converters`: layers of the hybrid model that the original NAME.json does not have."""
    original = set(model_layers(original_model)) if original_model else set()
    converters = [name for name in after.hybrid_model_layers if name not in original]
    refreshed = after.entropy_mtime is not None and after.entropy_mtime != before.entropy_mtime
    changes = []
    for layer, qtype in after.customized.items():
        change = LayerChange(layer, qtype, before.qtypes.get(layer, {}),
                             after.qtypes.get(layer, {}))
        if refreshed and before.entropy is not None and after.entropy is not None:
            change.entropy_before = before.entropy.get(layer, {})
            change.entropy_after = after.entropy.get(layer, {})
        changes.append(change)
    return HybridReport(changes, converters, refreshed)
