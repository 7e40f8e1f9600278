"""The layers table's model: every LayerRow plus the filtered, sorted view of them.

Kept outside the widget (and free of Textual) so the widget renders only visible rows
and the model can be tested and measured on its own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from itertools import compress
from typing import Any

from quanted.core.engine.layer_figures import LayerFigures
from quanted.core.layers import LayerRow, update_customized

SORTS = ("entropy", "name", "file")
ANALYSIS_SORTS = ("drop", "cosine")  # offered while an analysis (`a`) is shown


def _entropy_key(row: LayerRow) -> tuple[int, float, int]:
    best = row.max_entropy
    return (0, -best, row.order) if best is not None else (1, 0.0, row.order)


_SORT_KEYS: dict[str, Callable[[LayerRow], Any]] = {
    "entropy": _entropy_key,
    "name": lambda row: (row.layer.casefold(), row.layer),
    "file": lambda row: row.order,
}


def compile_filter(text: str) -> Callable[[str], object] | None:
    """A matcher for layer ids (truthy on a match): a case-insensitive regex, or a substring
    when the text is not a valid regex. A bound `search`, so a 20,000-row filter runs in C."""
    if not text:
        return None
    try:
        return re.compile(text, re.IGNORECASE).search
    except re.error:
        return re.compile(re.escape(text), re.IGNORECASE).search


class RowModel:
    """All rows, and `view`: the row indices shown, in order."""

    def __init__(self, rows: Iterable[LayerRow], sort: str = "entropy") -> None:
        self.rows: list[LayerRow] = list(rows)
        self.by_layer: dict[str, LayerRow] = {row.layer: row for row in self.rows}
        self._index: dict[str, int] = {row.layer: i for i, row in enumerate(self.rows)}
        self.sort = sort
        self.filter_text = ""
        self.has_entropy = any(row.entropy for row in self.rows)
        self._orders: dict[str, list[int]] = {}
        self._names_by_sort: dict[str, list[str]] = {}
        self._ranked: tuple[list[int], list[float]] | None = None
        self.view: list[int] = []
        self.file_qtypes: dict[str, str] = {}  # layer -> its tensors' qtypes, filled later
        self.figures: dict[str, LayerFigures] = {}  # layer -> its analysis figures (`a`)
        self.analysis_current = True  # False: the file changed since: shown greyed
        self.analysis_age = ""  # "5 min", for the header
        self._rebuild()
        if self.has_entropy:
            self._descending()  # while still in the loading thread

    def __len__(self) -> int:
        return len(self.view)

    def row_at(self, index: int) -> LayerRow:
        return self.rows[self.view[index]]

    def index_of(self, layer: str) -> int | None:
        """Position of `layer` in the view, or None when filtered out."""
        target = self._index.get(layer)
        if target is None:
            return None
        try:
            return self.view.index(target)
        except ValueError:
            return None

    def _order(self) -> list[int]:
        order = self._orders.get(self.sort)
        if order is None:
            key = _SORT_KEYS.get(self.sort) or self._analysis_key
            rows = self.rows
            order = sorted(range(len(rows)), key=lambda i: key(rows[i]))
            self._orders[self.sort] = order
        return order

    def _names(self) -> list[str]:
        names = self._names_by_sort.get(self.sort)
        if names is None:
            rows = self.rows
            names = self._names_by_sort[self.sort] = [rows[i].layer for i in self._order()]
        return names

    def _rebuild(self) -> None:
        order = self._order()
        match = compile_filter(self.filter_text)
        if match is None:
            self.view = list(order)
        else:
            self.view = list(compress(order, map(match, self._names())))

    def _analysis_key(self, row: LayerRow) -> tuple[int, float, int]:
        """drop: largest first; cosine: lowest first; rows without figures last."""
        found = self.figures.get(row.layer)
        value = None if found is None else (
            -found.drop if self.sort == "drop" and found.drop is not None else
            found.cosine if self.sort == "cosine" else None)
        return (1, 0.0, row.order) if value is None else (0, value, row.order)

    def sorts(self) -> tuple[str, ...]:
        return SORTS + ANALYSIS_SORTS if self.figures else SORTS

    def set_sort(self, sort: str) -> None:
        if sort not in self.sorts():
            raise ValueError(sort)
        self.sort = sort
        self._rebuild()

    def next_sort(self) -> str:
        sorts = self.sorts()
        self.set_sort(sorts[(sorts.index(self.sort) + 1) % len(sorts)])
        return self.sort

    def set_analysis(self, figures: dict[str, LayerFigures] | None, current: bool = True,
                     age: str = "") -> None:
        """Show an analysis's figures (None: none); a sort by them falls back to entropy."""
        self.figures = figures or {}
        self.analysis_current, self.analysis_age = current, age
        for sort in ANALYSIS_SORTS:
            self._orders.pop(sort, None)
            self._names_by_sort.pop(sort, None)
        if self.sort not in self.sorts():
            self.sort = "entropy"
        self._rebuild()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._rebuild()

    def refresh_customized(self, customized: dict[str, str]) -> None:
        """Re-read the customized column; rows for newly named layers are appended."""
        before = len(self.by_layer)
        update_customized(self.by_layer, customized)
        if len(self.by_layer) != before:
            for row in list(self.by_layer.values())[before:]:
                self._index[row.layer] = len(self.rows)
                self.rows.append(row)
            self._orders.clear()
            self._names_by_sort.clear()
            self._ranked = None
            self._rebuild()

    # -- counts ---------------------------------------------------------------------

    def _descending(self) -> tuple[list[int], list[float]]:
        """Rows with entropy, highest max first, and their negated max values (for bisect)."""
        if self._ranked is None:
            order = self._orders.get("entropy")
            if order is None:
                order = sorted(range(len(self.rows)), key=lambda i: _entropy_key(self.rows[i]))
                self._orders["entropy"] = order
            ranked = [i for i in order if self.rows[i].entropy]
            self._ranked = (ranked, [-(self.rows[i].max_entropy or 0.0) for i in ranked])
        return self._ranked

    def count_at_or_above(self, threshold: float) -> int:
        return bisect_right(self._descending()[1], -threshold)

    def at_or_above(self, threshold: float) -> list[LayerRow]:
        """Rows whose max entropy is at or above `threshold`, highest first."""
        ranked, _ = self._descending()
        return [self.rows[i] for i in ranked[: self.count_at_or_above(threshold)]]

    def to_add(self, threshold: float) -> list[LayerRow]:
        """What a bulk add at `threshold` would add: in the file and not yet customized."""
        return [row for row in self.at_or_above(threshold)
                if row.in_file and row.customized is None]


def default_threshold(model: RowModel) -> float:
    """The lowest max entropy among customized layers, else the top 5% of layers."""
    values = [r.max_entropy for r in model.rows
              if r.customized is not None and r.max_entropy is not None]
    if values:
        return round(min(values), 4)
    ranked = model.at_or_above(0.0)
    return round(ranked[len(ranked) // 20].max_entropy or 0.5, 4) if ranked else 0.5
