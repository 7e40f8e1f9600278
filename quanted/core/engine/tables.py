"""What a tensor table applies: the layers whose output tensors are raised above the plain
quantization, read from `quantize_parameters` itself. The customized list is not that: the
engine writes its own suggestions into it and can exit 0 having applied nothing
(docs/format.md section 10)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import QuantedError
from quanted.core.document.layers import is_converter
from quanted.core.format.scanner import TensorQtype


Pair = tuple[str, str]  # (quantizer, qtype) as the file writes them: asymmetric_affine, u8


def raised(doc: QuantizeDocument, plain: Pair | None = None) -> dict[str, Pair]:
    """Layers whose output tensors are not quantized as `plain` (the calibration's quantizer
    and qtype; by default the pair most tensors of the layers outside the customized list
    have): layer -> (quantizer, qtype) of its first such output. Converter layers are left
    out (they only convert), and so are layers with no output tensor."""
    by_layer = doc.qtypes_by_layer()
    if plain is None:
        try:
            plain = _dominant(by_layer, set(doc.customized), doc.path)
        except QuantedError:
            return {}
    found: dict[str, tuple[str, str]] = {}
    for layer, tensors in by_layer.items():
        if is_converter(layer):
            continue
        for tensor in tensors:
            if tensor.port.startswith("out") and tensor.quantizer and tensor.qtype and \
                    (tensor.quantizer, tensor.qtype) != plain:
                found[layer] = (tensor.quantizer, tensor.qtype)
                break
    return found


def _dominant(by_layer: dict[str, list[TensorQtype]], listed: set[str],
              path: Path | None) -> Pair:
    """The (quantizer, qtype) most output tensors of the unlisted layers have (all layers when
    every one is listed): the --rebuild run's."""
    counts: Counter[Pair] = Counter()
    for skip in (listed, set()):
        for layer, tensors in by_layer.items():
            if layer in skip or is_converter(layer):
                continue
            counts.update((t.quantizer, t.qtype) for t in tensors
                          if t.port.startswith("out") and t.quantizer and t.qtype)
        if counts:
            break
    if not counts:
        raise QuantedError("the file has no quantized output tensor", path)
    return counts.most_common(1)[0][0]


def converters(doc: QuantizeDocument) -> list[str]:
    return [layer for layer in doc.layer_names() if is_converter(layer)]


def is_plain(doc: QuantizeDocument, plain: Pair | None = None) -> bool:
    """No tensor raised and no converter layer: a table as a --rebuild run writes it."""
    return not converters(doc) and not raised(doc, plain)


def applied(doc: QuantizeDocument, plain: Pair | None = None) -> dict[str, str]:
    """The customized list the table really applies: raised layers as `QUANTIZER-QTYPE`
    (`dynamic_fixed_point-i16`), in file order."""
    return {layer: _value(q) for layer, q in raised(doc, plain).items()}


def describe(doc: QuantizeDocument, plain: Pair | None = None) -> str:
    """What a run of the file's table as it is measures (verify's quantized row, an analysis):
    how many layers the table raises, in one phrase."""
    table = applied(doc, plain)
    return (f"the file's table: {len(table)} layer(s) raised" if table
            else "the file's table: plain, no layer raised")


def _value(quantizer_qtype: tuple[str, str]) -> str:
    quantizer, qtype = quantizer_qtype
    if quantizer in ("float16", "bfloat16", "float32") or qtype in ("f16", "bf16", "f32"):
        return {"f16": "float16", "bf16": "bfloat16", "f32": "float32"}.get(qtype, quantizer)
    return f"{quantizer}-{qtype}"


@dataclass(frozen=True)
class Difference:
    """A list against what a table applies."""

    not_applied: tuple[str, ...]  # listed, not raised in the table
    not_listed: tuple[str, ...]  # raised in the table, not listed

    @property
    def same(self) -> bool:
        return not self.not_applied and not self.not_listed


def difference(listed: dict[str, str], table: dict[str, str]) -> Difference:
    return Difference(tuple(layer for layer in listed if layer not in table),
                      tuple(layer for layer in table if layer not in listed))


# Ops the engine raises along with a raised neighbour without being listed (a real 6.0.x
# MobileNet: the Reshape and Squeeze after a listed BiasAdd are i16 too).
LAYOUT_OPS = ("permute", "reshape", "squeeze", "flatten")


def engine_extras(doc: QuantizeDocument) -> set[str] | None:
    """Layers a hybrid run raises without their being listed, as far as quanted can tell: the
    ones the last recorded `quanted hybrid` run raised beyond its list, else the layout layers
    of the model .json beside the file (and those it does not have); None when neither is
    known."""
    if doc.path is None:
        return None
    from quanted.core.state.history import History

    runs = [entry for entry in History(doc.path.absolute()).entries("hybrid")
            if isinstance(entry.data.get("applied"), dict)]
    if runs:
        last = runs[-1].data
        return set(last["applied"]) - set(last.get("customized") or {})
    from quanted.core.engine import command as cmd
    from quanted.core.engine.model_json import ModelError, read_layers

    try:
        layers = read_layers(cmd.model_files(doc.path.absolute()).model)
    except (QuantedError, ModelError, OSError, ValueError, KeyError):
        return None
    # A layer the model does not know (another model's .json) cannot be told either.
    found = set()
    for layer in doc.layer_names():
        spec = layers.get(layer)
        if not isinstance(spec, dict) or spec.get("op") in LAYOUT_OPS:
            found.add(layer)
    return found
