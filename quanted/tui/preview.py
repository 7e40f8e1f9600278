"""The first screen's rows: the top of the table by max entropy, from the entropy report and
the customized block alone, painted while the rest is read (loading.load). Made in the
editor's loading thread, or in the child that reads them during the imports (tui/early.py).
Free of numpy and Textual: both would double this step."""

from __future__ import annotations

from itertools import compress
from typing import TYPE_CHECKING

from quanted.core.format.entropy import EntropyReport
from quanted.core.format.keys import split_tensor_key
from quanted.core.document.layers import LayerRow, is_converter
from quanted.tui.row_view import RowView

if TYPE_CHECKING:
    from quanted.core.document.model import QuantizeDocument

# Rows in the first paint: more than any terminal shows. The tensors looked at to find them:
# a layer's max entropy is one of its tensors' values, so the top tensors name the top layers.
PREVIEW_ROWS = 120
PREVIEW_TENSORS = 4 * PREVIEW_ROWS
SHOWN_PORTS = ("out0", "weight")  # the table's two entropy columns


def scale_of(report: EntropyReport | None) -> tuple[float, float]:
    """The bars' range: the report's lowest and highest value."""
    if report is None or not len(report):
        return (0.0, 1.0)
    return report.bounds()


def preview(doc: QuantizeDocument, report: EntropyReport) -> RowView:
    """The first screen's rows: the layers of the report's highest values, highest first,
    with the customized column from the block. Whether each is in the file is not known yet
    (the tensor index is what takes the time): shown as in the file until the full rows come."""
    values = report.values_list()
    layers: dict[str, dict[str, float]] = {}
    for index in report.highest(PREVIEW_TENSORS):
        layer, port = split_tensor_key(report.keys[index])
        if layer not in layers and len(layers) == PREVIEW_ROWS:
            break
        layers.setdefault(layer, {})[port] = values[index]
    position = _positions(report.keys, {f"{at}{layer}:{port}" for layer in layers
                                        for port in SHOWN_PORTS for at in ("@", "")})
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


def _positions(keys: list[str], wanted: set[str]) -> dict[str, int]:
    """Key -> its index in `keys` (the last, when written twice), for the `wanted` keys only:
    a few hundred of the report's 60,000 (15 MB) picked in C, not a dict of all of them."""
    found = compress(range(len(keys)), map(wanted.__contains__, keys))
    return {keys[index]: index for index in found}
