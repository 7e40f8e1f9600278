"""What the layers table draws from: rows in view order, and what the header and the columns
show. Free of numpy: the first paint's top rows (loading.preview) are a bare RowView, painted
before numpy is imported (a fifth of the launch); RowModel, the full table with its
filter, sorts and counts, extends it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from quanted.core.document.layers import LayerRow, is_pending

if TYPE_CHECKING:
    import numpy as np

    from quanted.core.engine.layer_figures import LayerFigures

# What the histogram and `>` rank layers by (`m` switches): max entropy, or the analysis's drop.
# Here, free of numpy, so the editor's first screen names them before numpy is imported.
ENTROPY, DROP = "entropy", "drop"
METRICS = (ENTROPY, DROP)


class RowView:
    """`rows`, shown in the order `view` (indexes into rows). A bare RowView is a preview:
    its rows are shown in the order given and take no filter or sort."""

    preview = True  # only the top rows, painted before the rest is read (not a RowModel)

    def __init__(self, rows: Iterable[LayerRow], sort: str = "entropy") -> None:
        self.rows: list[LayerRow] = list(rows)
        self.sort = sort
        self.filter_text = ""
        self.metric = ENTROPY  # what at_or_above, count_to_add and layers_to_add rank by
        self.scale: tuple[float, float] | None = None  # the bars' range, when known ahead
        self.view: Sequence[int] | np.ndarray = range(len(self.rows))
        self.file_qtypes: dict[str, str] = {}  # layer -> its tensors' qtypes, filled later
        self.applied: dict[str, frozenset[str]] = {}  # layer -> its outputs' QUANTIZER-QTYPE
        self.figures: dict[str, LayerFigures] = {}  # layer -> its analysis figures (`a`)
        self.analysis_current = True  # False: the file changed since: shown greyed
        self.analysis_age = ""  # "5 min", for the header

    def __len__(self) -> int:
        return len(self.view)

    def row_at(self, index: int) -> LayerRow:
        return self.rows[self.view[index]]

    def index_of(self, layer: str) -> int | None:
        """Position of `layer` in the view, or None when it is not shown."""
        return next((i for i, row in enumerate(map(self.row_at, range(len(self))))
                     if row.layer == layer), None)

    def pending(self, row: LayerRow) -> bool:
        """Customized, not applied in quantize_parameters yet (unknown until the full scan)."""
        return is_pending(row.layer, row.customized, self.applied)

    def metric_value(self, row: LayerRow) -> float | None:
        """The row's figure for the active metric (the table marks rows at the threshold)."""
        if self.metric == ENTROPY:
            return row.max_entropy
        found = self.figures.get(row.layer)
        return None if found is None else found.drop
