"""What `quanted check` reports: problems pegasus would only mention in a log line, or not at
all."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from quanted.core.format import block, qtypes
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.keys import looks_like_tensor_key, split_tensor_key
from quanted.core.document.near import closest
from quanted.core.document.lookup import missing_layers
from quanted.core.format.loader_rules import YAML, engine_loader_problems, input_problem
from quanted.core.format.problems import ERROR, WARNING, Problem
from quanted.core.format.tensor_index import TensorIndex

__all__ = ["ERROR", "WARNING", "YAML", "Problem", "check", "input_problem", "qtype_problem",
           "report_problems", "resolve_layer", "unknown_layer_message"]

if TYPE_CHECKING:
    from quanted.core.format.entropy import EntropyReport


class Layers(Protocol):
    """The layer ids of a file: its QuantizeDocument, or its TensorIndex."""

    def has_layer(self, layer: str) -> bool: ...

    @property
    def layer_ids(self) -> list[str]: ...


def layer_hint(doc: Layers, name: str) -> str | None:
    """Why `name` is not a layer id, when a near miss explains it."""
    layer = resolve_layer(doc, name)
    if layer != name:
        return f"that is a tensor key; the layer id is {layer!r}"
    for other in (name.lstrip("/"), "/" + name):
        if other != name and doc.has_layer(other):
            return f"did you mean {other!r}? (differs by a leading '/')"
    node = onnx_node_layers(doc, name)
    if node:
        shown = " or ".join(repr(layer) for layer in node[:3])
        return f"that looks like an ONNX node name; its layer id is {shown}"
    close = closest(name, doc.layer_ids, cutoff=0.85)
    if close is not None:
        return f"did you mean {close!r}?"
    return None


# The importer names a layer after its ONNX node plus an output and a unique number:
# node `/layer1/layer1.0/conv1/Conv` -> layer `layer1/layer1.0/conv1/Conv_output_0_34`.
_IMPORTER_SUFFIX = re.compile(r"(_output_\d+)?_\d+")


def onnx_node_layers(doc: Layers, name: str) -> list[str]:
    """The layer ids the importer made from the ONNX/Netron node `name`."""
    stem = name.strip().lstrip("/")
    if not stem:
        return []
    return [layer for layer in doc.layer_ids
            if layer.startswith(stem) and _IMPORTER_SUFFIX.fullmatch(layer, len(stem))]


def resolve_layer(doc: Layers, name: str) -> str:
    """A layer id from what the user typed; a tensor key names its layer."""
    if looks_like_tensor_key(name):
        layer = split_tensor_key(name)[0]
        if doc.has_layer(layer):
            return layer
    return name


def unknown_layer_message(doc: Layers, name: str) -> str:
    message = f"layer {name!r} is not in quantize_parameters"
    hint = layer_hint(doc, name)
    return f"{message}; {hint}" if hint else message


def qtype_problem(qtype: str) -> tuple[str, str] | None:
    """(severity, message) for a qtype value, or None when the engine applies it."""
    if not qtype:
        return ERROR, "no qtype given"
    if not qtypes.is_known(qtype):
        known = ", ".join(qtypes.KNOWN_QTYPES)
        return ERROR, f"unknown qtype {qtype!r} (known: {known})"
    if not qtypes.engine_applies(qtype):
        return WARNING, f"qtype {qtype!r}: the 6.x engine inserts a converter but cannot apply it"
    return None


def check(doc: QuantizeDocument, report: EntropyReport | None = None,
          index: TensorIndex | None = None) -> list[Problem]:
    """`index`: the document's TensorIndex when the caller has it (`quanted check` keeps it
    to compare the entropy report with after the file's bytes are let go)."""
    if index is None:
        index = TensorIndex.of(doc)
    problems: list[Problem] = []
    state = doc.block_state
    header_line = doc.block_line
    lines_of: dict[str, int] = {}
    for offset, entry in enumerate(state.lines, start=1):
        if entry.key is not None:
            lines_of.setdefault(entry.key, header_line + offset)
    for layer in block.duplicates(state):
        problems.append(Problem(ERROR, f"layer {layer!r} is listed more than once", lines_of[layer],
                                layer, code=YAML))
    customized = doc.customized
    unknown = missing_layers(doc, customized, index.layers)
    for layer, qtype in customized.items():
        line = lines_of.get(layer, header_line)
        if layer in unknown:
            problems.append(Problem(ERROR, unknown_layer_message(index, layer), line, layer))
        found = qtype_problem(qtype)
        if found is not None:
            severity, message = found
            problems.append(Problem(severity, f"layer {layer!r}: {message}", line, layer))
    problems.extend(_tensor_key_problems(index))
    problems.extend(engine_loader_problems(doc))
    problems.extend(table_problems(doc, lines_of))
    if report is not None:
        problems.extend(_report_problems(index, [report.keys], report.path))
    return problems


def table_problems(doc: QuantizeDocument, lines_of: dict[str, int]) -> list[Problem]:
    """The list against what the tensor table applies (docs/format.md section
    10): a layer raised in quantize_parameters that the list does not name (an
    earlier hybrid run's: a bare `pegasus --hybrid` keeps it raised), and, once the table has
    been through a hybrid run, a listed layer it does not raise. A plain table with a list is
    the usual state before the first hybrid run and says nothing."""
    from quanted.core.engine import baseline
    from quanted.core.format.scanner import line_of

    table = baseline.applied(doc)
    if not table and not baseline.converters(doc):
        return []
    customized = doc.customized
    problems = []
    # A layer the engine raises along with listed ones is no problem; when quanted cannot
    # tell which those are (no history, no model beside the file) it says nothing.
    extras = baseline.engine_extras(doc)
    for layer, value in table.items():
        if layer in customized or extras is None or layer in extras:
            continue
        at = doc.data.find(b"'@" + layer.encode("utf-8", "surrogateescape") + b":")
        problems.append(Problem(
            WARNING, f"layer {layer!r} is raised ({value}) in quantize_parameters but not in "
            "customized_quantize_layers: an earlier hybrid run left it; a bare pegasus --hybrid "
            "keeps it raised, `quanted hybrid` starts from the plain table",
            line_of(doc.data, at) if at >= 0 else None, layer))
    for layer, value in customized.items():
        if layer in table and ("-" not in value or table[layer] == value):
            continue
        if not doc.has_layer(layer):
            continue  # unknown: already an error
        found = table.get(layer)
        now = f"it is {found} there" if found else "its tensors are not raised"
        problems.append(Problem(
            WARNING, f"layer {layer!r} is listed as {value} but not applied in "
            f"quantize_parameters ({now}): `quanted hybrid` applies it",
            lines_of.get(layer, doc.block_line), layer))
    return problems


def _tensor_key_problems(index: TensorIndex) -> list[Problem]:
    problems = [Problem(ERROR, f"tensor {key!r} appears more than once in quantize_parameters",
                        code=YAML) for key in index.repeats]
    if index.odd_count:
        problems.append(
            Problem(WARNING, f"{index.odd_count} tensor key(s) not of the form '@LAYER:PORT', "
                             f"first {index.first_odd!r}")
        )
    return problems


def report_problems(index: TensorIndex, path: Path) -> list[Problem]:
    """The entropy report at `path` compared with the file, read a piece at a time."""
    from quanted.core.format.entropy import read_key_pieces

    return _report_problems(index, read_key_pieces(path), Path(path))


def _report_problems(index: TensorIndex, key_pieces: Iterable[list[str]],
                     path: Path | None) -> list[Problem]:
    count = 0
    first: str | None = None
    for keys in key_pieces:
        missing = [k for k in keys if k not in index]
        if missing:
            count += len(missing)
            first = missing[0] if first is None else first
    if not count:
        return []
    where = str(path) if path else "the entropy report"
    return [
        Problem(
            WARNING,
            f"{where} lists {count} tensor(s) not in this file (first {first!r});"
            " is it from another model or an older run?",
        )
    ]
