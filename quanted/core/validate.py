"""What `quanted check` reports: problems pegasus would only mention in a log line, or not at
all."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from quanted.core import block, qtypes
from quanted.core.document import QuantizeDocument
from quanted.core.keys import looks_like_tensor_key, split_tensor_key
from quanted.core.near import closest
from quanted.core.lookup import missing_layers
from quanted.core.loader_rules import YAML, engine_loader_problems, input_problem
from quanted.core.problems import ERROR, WARNING, Problem

__all__ = ["ERROR", "WARNING", "YAML", "Problem", "check", "input_problem", "qtype_problem",
           "unknown_layer_message"]

if TYPE_CHECKING:
    from quanted.core.entropy import EntropyReport


def layer_hint(doc: QuantizeDocument, name: str) -> str | None:
    """Why `name` is not a layer id, when a near miss explains it."""
    if looks_like_tensor_key(name):
        layer = split_tensor_key(name)[0]
        if doc.has_layer(layer):
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


def onnx_node_layers(doc: QuantizeDocument, name: str) -> list[str]:
    """The layer ids the importer made from the ONNX/Netron node `name`."""
    stem = name.strip().lstrip("/")
    if not stem:
        return []
    return [layer for layer in doc.layer_ids
            if layer.startswith(stem) and _IMPORTER_SUFFIX.fullmatch(layer, len(stem))]


def unknown_layer_message(doc: QuantizeDocument, name: str) -> str:
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


def check(doc: QuantizeDocument, report: EntropyReport | None = None) -> list[Problem]:
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
    unknown = missing_layers(doc, doc.customized)
    for layer, qtype in doc.customized.items():
        line = lines_of.get(layer, header_line)
        if layer in unknown:
            problems.append(Problem(ERROR, unknown_layer_message(doc, layer), line, layer))
        found = qtype_problem(qtype)
        if found is not None:
            severity, message = found
            problems.append(Problem(severity, f"layer {layer!r}: {message}", line, layer))
    problems.extend(_tensor_key_problems(doc))
    problems.extend(engine_loader_problems(doc))
    if report is not None:
        problems.extend(_report_problems(doc, report))
    return problems


def _tensor_key_problems(doc: QuantizeDocument) -> list[Problem]:
    keys = doc.tensor_keys
    problems = []
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                problems.append(Problem(
                    ERROR, f"tensor {key!r} appears more than once in quantize_parameters",
                    code=YAML))
            seen.add(key)
    odd = [k for k in keys if not looks_like_tensor_key(k)]
    if odd:
        problems.append(
            Problem(WARNING, f"{len(odd)} tensor key(s) not of the form '@LAYER:PORT', "
                             f"first {odd[0]!r}")
        )
    return problems


def _report_problems(doc: QuantizeDocument, report: EntropyReport) -> list[Problem]:
    known = set(doc.tensor_keys)
    missing = [k for k in report.keys if k not in known]
    if not missing:
        return []
    where = str(report.path) if report.path else "the entropy report"
    return [
        Problem(
            WARNING,
            f"{where} lists {len(missing)} tensor(s) not in this file (first {missing[0]!r});"
            " is it from another model or an older run?",
        )
    ]
