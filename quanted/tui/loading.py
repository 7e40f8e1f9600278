"""Blocking work the screens run in thread workers: open, index, sort, per-layer qtypes.

No widgets here: the functions return plain values that the worker posts back as messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quanted.core.document import QuantizeDocument
from quanted.core.entropy import EntropyReport, find_beside
from quanted.core.layers import build_rows
from quanted.tui.row_model import RowModel


@dataclass
class Loaded:
    doc: QuantizeDocument
    report: EntropyReport | None
    model: RowModel


def entropy_path(path: Path, entropy: Path | None) -> Path | None:
    """`-e` when given, else entropy.txt beside the file, else None."""
    return entropy if entropy is not None else find_beside(path)


def load(path: Path, entropy: Path | None) -> Loaded:
    """Opened the fast way (top-level lines only): the full scan runs after the first paint,
    in `checked_qtypes`, and before any save."""
    found = entropy_path(path, entropy)
    report = EntropyReport.read(found) if found is not None else None
    return from_doc(QuantizeDocument.open(path, full=False), report)


def reload(path: Path, report: EntropyReport | None) -> Loaded:
    """The file again from disk, with the entropy report already read."""
    return from_doc(QuantizeDocument.open(path, full=False), report)


def from_doc(doc: QuantizeDocument, report: EntropyReport | None) -> Loaded:
    """Rows for a document already read (also a reload that kept the unsaved edits)."""
    rows = build_rows(doc, report)
    return Loaded(doc, report, RowModel(rows, sort="entropy" if report is not None else "file"))


def checked_qtypes(doc: QuantizeDocument, model: RowModel | None = None) -> dict[str, str]:
    """The editor's background work after the first paint: the full scan (a ReadError names
    the bad line; saving stays refused), the other sort orders, the file-qtype column."""
    doc.verify()
    if model is not None:
        model.prepare()
    return layer_qtypes(doc)


def layer_qtypes(doc: QuantizeDocument) -> dict[str, str]:
    """Layer id -> the qtypes of its tensors in quantize_parameters, bias left out: 'u8',
    'u8/i16'."""
    found = {layer: [t.qtype for t in tensors if t.port != "bias" and t.qtype]
             for layer, tensors in doc.qtypes_by_layer().items()}
    return {layer: "/".join(dict.fromkeys(qtypes)) for layer, qtypes in found.items() if qtypes}
