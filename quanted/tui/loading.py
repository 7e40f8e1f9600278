"""Blocking work the screens run in thread workers: open, index, sort, per-layer qtypes.

No widgets here: the functions return plain values that the worker posts back as messages.
The first load is in two steps: `preview` (the top rows by max entropy, from the entropy
report and the customized block alone; made by tui/early.py's child during the imports when
that pays) is painted while `from_doc` indexes every tensor of the file and builds every row
(seconds at 150 MB).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import EntropyReport, read_for
from quanted.core.disk.gcpause import gc_paused
from quanted.core.document.layers import applied_qtypes, build_rows
from quanted.tui import early
from quanted.tui.preview import preview, scale_of

if TYPE_CHECKING:
    from quanted.tui.row_model import RowModel
    from quanted.tui.row_view import RowView


@dataclass
class LoadedFile:
    """A file read for the editor: the document, its entropy report, the table's rows."""

    doc: QuantizeDocument
    report: EntropyReport | None
    model: RowModel


def load(path: Path, entropy: Path | None,
         show_first: Callable[[RowView, dict[str, str]], None] | None = None) -> LoadedFile:
    """Opened the fast way (top-level lines only): the full scan runs after the first paint,
    in `checked_qtypes`, and before any save. `show_first` gets the preview model and returns
    once it is on screen (the rest holds the GIL for seconds at 150 MB)."""
    with gc_paused():  # its passes over Textual's objects were a tenth of the wait for rows
        first = early.take(path, entropy) if show_first is not None else None
        if show_first is not None and first is not None:
            show_first(first.model, first.saved)  # read by a child during the imports
        report, _ = read_for(path, entropy)
        doc = QuantizeDocument.open(path, full=False)
        if show_first is not None and report is not None and first is None:
            show_first(preview(doc, report), doc.saved_customized)
    return from_doc(doc, report)


def reload(path: Path, report: EntropyReport | None) -> LoadedFile:
    """The file again from disk, with the entropy report already read."""
    return from_doc(QuantizeDocument.open(path, full=False), report)


def from_doc(doc: QuantizeDocument, report: EntropyReport | None) -> LoadedFile:
    """Rows for a document already read (also a reload that kept the unsaved edits)."""
    from quanted.tui.row_model import RowModel

    rows = build_rows(doc, report)
    model = RowModel(rows, sort="entropy" if report is not None else "file")
    model.scale = scale_of(report)
    model.customized_applied(doc.customized)
    return LoadedFile(doc, report, model)


def set_layers(doc: QuantizeDocument, layers: list[str], qtype: str) -> None:
    """`>`: every layer set to `qtype` as one undo step."""
    with gc_paused():
        doc.set_layers(dict.fromkeys(layers, qtype))


def checked_qtypes(doc: QuantizeDocument, model: RowModel | None = None
                   ) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """The editor's background work after the first paint: the full scan (a ReadError names
    the bad line; saving stays refused), the other sort orders, the file-qtype column and
    what each layer's outputs are quantized as (customized layers not applied yet)."""
    doc.verify()
    if model is not None:
        model.prepare()
    return layer_qtypes(doc), applied_qtypes(doc)


def layer_qtypes(doc: QuantizeDocument) -> dict[str, str]:
    """Layer id -> the qtypes of its tensors in quantize_parameters, bias left out: 'u8',
    'u8/i16'."""
    found = {layer: [t.qtype for t in tensors if t.port != "bias" and t.qtype]
             for layer, tensors in doc.qtypes_by_layer().items()}
    return {layer: "/".join(dict.fromkeys(qtypes)) for layer, qtypes in found.items() if qtypes}
