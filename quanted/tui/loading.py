"""Blocking work the screens run in thread workers: open, index, sort, per-layer qtypes.

No widgets here: the functions return plain values that the worker posts back as messages.
The first load is in two steps: `preview` (the top rows by max entropy, from the entropy
report and the customized block alone) is painted while `from_doc` indexes every tensor of
the file and builds every row (seconds at 150 MB).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quanted.core.document import QuantizeDocument
from quanted.core.entropy import EntropyReport, resolve
from quanted.core.gcpause import gc_paused
from quanted.core.keys import split_tensor_key
from quanted.core.layers import LayerRow, build_rows, is_converter
from quanted.core.rebase import reload_keeping_edits

if TYPE_CHECKING:
    from quanted.tui.row_model import RowModel
    from quanted.tui.row_view import RowView
    from quanted.tui.screens.editor import Editor

# Rows in the first paint: more than any terminal shows. The tensors looked at to find them:
# a layer's max entropy is one of its tensors' values, so the top tensors name the top layers.
PREVIEW_ROWS = 120
PREVIEW_TENSORS = 4 * PREVIEW_ROWS
SHOWN_PORTS = ("out0", "weight")  # the table's two entropy columns


@dataclass
class Loaded:
    doc: QuantizeDocument
    report: EntropyReport | None
    model: RowModel


def entropy_path(path: Path, entropy: Path | None) -> Path | None:
    """`-e` when given, else the report core.entropy.resolve finds beside the file, else None."""
    return resolve(path, entropy).path


def load(path: Path, entropy: Path | None,
         show_first: Callable[[RowView, dict[str, str]], None] | None = None) -> Loaded:
    """Opened the fast way (top-level lines only): the full scan runs after the first paint,
    in `checked_qtypes`, and before any save. `show_first` gets the preview model and returns
    once it is on screen (the rest holds the GIL for seconds at 150 MB)."""
    with gc_paused():  # its passes over Textual's objects were a tenth of the wait for rows
        found = entropy_path(path, entropy)
        report = EntropyReport.read(found) if found is not None else None
        doc = QuantizeDocument.open(path, full=False)
        if show_first is not None and report is not None:
            show_first(preview(doc, report), doc.saved_customized)
    return from_doc(doc, report)


def for_screen(screen: Editor, again: bool, entropy: bool,
               keep_edits: bool) -> tuple[Loaded, list[str] | None]:
    """MainScreen.load's work (`screen` is it): `keep_edits`, the file again with the unsaved
    edits replayed, and the ones that could not be; `again`, the file again (and the report,
    when `entropy`); else the load, its top rows shown first when nothing is shown yet."""
    if keep_edits and screen.doc is not None:
        fresh, skipped = reload_keeping_edits(screen.doc)
        return from_doc(fresh, screen.report), skipped
    if again and screen.report is not None and not entropy:
        return reload(screen.path, screen.report), None
    first = screen.table.show_first if screen.model is None else None  # a reload keeps its rows
    return load(screen.path, screen.entropy, first), None


def reload(path: Path, report: EntropyReport | None) -> Loaded:
    """The file again from disk, with the entropy report already read."""
    return from_doc(QuantizeDocument.open(path, full=False), report)


def from_doc(doc: QuantizeDocument, report: EntropyReport | None) -> Loaded:
    """Rows for a document already read (also a reload that kept the unsaved edits)."""
    from quanted.tui.row_model import RowModel

    rows = build_rows(doc, report)
    model = RowModel(rows, sort="entropy" if report is not None else "file")
    model.scale = scale_of(report)
    model.customized_applied(doc.customized)
    return Loaded(doc, report, model)


def scale_of(report: EntropyReport | None) -> tuple[float, float]:
    """The bars' range: the report's lowest and highest value."""
    if report is None or not len(report):
        return (0.0, 1.0)
    return report.bounds()


def preview(doc: QuantizeDocument, report: EntropyReport) -> RowView:
    """The first screen's rows: the layers of the report's highest values, highest first,
    with the customized column from the block. Whether each is in the file is not known yet
    (the tensor index is what takes the time): shown as in the file until the full rows come.
    Without numpy (RowView, EntropyReport.highest): its import would double this step."""
    from quanted.tui.row_view import RowView

    values = report.values_list()
    layers: dict[str, dict[str, float]] = {}
    for index in report.highest(PREVIEW_TENSORS):
        layer, port = split_tensor_key(report.keys[index])
        if layer not in layers and len(layers) == PREVIEW_ROWS:
            break
        layers.setdefault(layer, {})[port] = values[index]
    position = dict(zip(report.keys, range(len(report.keys))))
    customized = doc.customized
    rows = []
    for order, (layer, entropy) in enumerate(layers.items()):
        for port in SHOWN_PORTS:
            at = position.get(f"@{layer}:{port}", position.get(f"{layer}:{port}"))
            if at is not None:
                entropy[port] = values[at]
        rows.append(LayerRow(layer, [], entropy, order=order, customized=customized.get(layer),
                             converter=is_converter(layer)))
    model = RowView(rows, sort="entropy")
    # As RowModel sorts: max entropy highest first, ties in order.
    model.view = sorted(range(len(rows)), key=lambda i: (-max(rows[i].entropy.values()), i))
    model.scale = scale_of(report)
    return model


def set_layers(doc: QuantizeDocument, layers: list[str], qtype: str) -> None:
    """`>`: every layer set to `qtype` as one undo step."""
    with gc_paused():
        doc.set_layers(dict.fromkeys(layers, qtype))


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
