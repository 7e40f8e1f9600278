"""The layers table's model: every LayerRow plus the filtered, sorted view of them.

Kept outside the widget (and free of Textual) so the widget renders only visible rows
and the model can be tested and measured on its own.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable
from itertools import compress, repeat
from operator import ne

import numpy as np

from quanted.core.engine.layer_figures import LayerFigures
from quanted.core.document.layers import LayerRow, update_customized
from quanted.tui import id_search
from quanted.tui.row_view import DROP, ENTROPY, METRICS, RowView
from quanted.tui.user_regex import compile_quietly

SORTS = ("entropy", "name", "file")
ANALYSIS_SORTS = ("drop", "cosine")  # offered while an analysis (`a`) is shown


def compile_filter(text: str) -> Callable[[str], object] | None:
    """A matcher for layer ids (truthy on a match): a case-insensitive regex, or a substring
    when the text is not a valid regex. A bound `search`, so a 20,000-row filter runs in C."""
    if not text:
        return None
    pattern = compile_quietly(text, re.IGNORECASE)
    return (pattern or re.compile(re.escape(text), re.IGNORECASE)).search


class RowModel(RowView):
    """All rows, and `view`: the row indices shown, in order (a numpy array: a filter or a sort
    of 200,000 rows is a few vectorised passes, not a Python loop per row)."""

    preview = False

    def __init__(self, rows: Iterable[LayerRow], sort: str = "entropy") -> None:
        super().__init__(rows, sort)
        self.by_layer: dict[str, LayerRow] = {row.layer: row for row in self.rows}
        self._index: dict[str, int] = {row.layer: i for i, row in enumerate(self.rows)}
        self.has_entropy = any(row.entropy for row in self.rows)
        self._orders: dict[str, np.ndarray] = {}
        self._masks: dict[str, np.ndarray] = {}  # filter text -> rows it keeps (backspace)
        self._folded: np.ndarray | None = None  # ASCII ids lower-cased, for plain filters
        self._ranked: dict[str, tuple[list[int], list[float]]] = {}  # per metric
        self._best: np.ndarray | None = None
        self._drops: np.ndarray | None = None
        self._not_in_file: list[int] | None = None
        self._rank_of: dict[str, np.ndarray] = {}  # row -> its place among rows ranked
        self._joined: tuple[id_search.JoinedIds | None, int] | None = None  # ids, for rows
        self.view = np.arange(0)
        self._customized: dict[str, str] | None = None  # as last refreshed
        self._rebuild()
        if self.has_entropy:
            self._descending()  # while still in the loading thread

    def index_of(self, layer: str) -> int | None:
        """Position of `layer` in the view, or None when filtered out."""
        target = self._index.get(layer)
        if target is None:
            return None
        found = np.flatnonzero(self.view == target)
        return int(found[0]) if len(found) else None

    def prepare(self) -> None:
        """Every sort order and the filter's folded ids, ahead of the first key that needs
        them (the editor calls this in its background worker after the first paint)."""
        for sort in SORTS:
            self._order(sort)
        self._folded_ids()
        self._joined_ids()
        self.count_to_add(0.0)  # the threshold preview's rank table (0: every ranked row)

    def _order(self, sort: str | None = None) -> np.ndarray:
        sort = sort or self.sort
        order = self._orders.get(sort)
        if order is None:
            rows = self.rows
            if sort == "file":
                keys = np.fromiter((row.order for row in rows), np.int64, len(rows))
                order = np.argsort(keys, kind="stable")
            elif sort == "entropy":
                order = self._highest_first(self._best_entropy())
            elif sort in ANALYSIS_SORTS:
                keys_of = [self._analysis_key(row, sort) for row in rows]
                order = np.array(sorted(range(len(rows)), key=keys_of.__getitem__), np.intp)
            else:
                names = [(row.layer.casefold(), row.layer) for row in rows]
                order = np.array(sorted(range(len(rows)), key=names.__getitem__), np.intp)
            self._orders[sort] = order
        return order

    def _folded_ids(self) -> np.ndarray | None:
        """The ids lower-cased as bytes when all are ASCII (then a plain filter is one
        vectorised substring search); None otherwise."""
        if self._folded is None:
            layers = [row.layer for row in self.rows]
            if all(layer.isascii() for layer in layers):
                self._folded = np.array([layer.lower().encode() for layer in layers], np.bytes_)
            else:
                self._folded = np.array([], np.bytes_)
        return self._folded if len(self._folded) == len(self.rows) else None

    def _mask(self, text: str) -> np.ndarray:
        mask = self._masks.get(text)
        if mask is not None:
            return mask
        folded = self._folded_ids() if text.isascii() and re.escape(text) == text else None
        if folded is not None:
            # A longer text keeps a subset of what a shorter one kept: search only those.
            prefix = next((text[:k] for k in range(len(text) - 1, 0, -1) if text[:k] in
                           self._masks), None)
            candidates = (np.flatnonzero(self._masks[prefix]) if prefix is not None
                          else np.arange(len(self.rows)))
            mask = np.zeros(len(self.rows), bool)
            found = np.strings.find(folded[candidates], text.lower().encode()) >= 0
            mask[candidates[found]] = True
        else:
            mask = self._regex_mask(text)
        if len(self._masks) >= 32:
            self._masks.clear()
        self._masks[text] = mask
        return mask

    def _joined_ids(self) -> id_search.JoinedIds | None:
        """Every id joined for the regex filter (made again when the rows changed); None when
        an id holds a newline."""
        joined = self._joined
        if joined is None or joined[1] != len(self.rows):
            joined = self._joined = (id_search.join([row.layer for row in self.rows]),
                                     len(self.rows))
        return joined[0]

    def _regex_mask(self, text: str) -> np.ndarray:
        """Rows whose id the regex (or, when invalid, the substring) finds: over all ids at
        once (id_search) when the regex allows, else one search per id."""
        joined = self._joined_ids()
        found = id_search.regex_mask(joined, text) if joined is not None else None
        if found is not None:
            return found
        match = compile_filter(text)
        assert match is not None
        mask = np.zeros(len(self.rows), bool)
        mask[list(compress(range(len(self.rows)), map(match, (r.layer for r in self.rows))))] = 1
        return mask

    def _rebuild(self) -> None:
        order = self._order()
        if not self.filter_text:
            self.view = order
        else:
            self.view = order[self._mask(self.filter_text)[order]]

    def _analysis_key(self, row: LayerRow, sort: str) -> tuple[int, float, int]:
        """drop: largest first; cosine: lowest first; rows without figures last."""
        found = self.figures.get(row.layer)
        value = None if found is None else (
            -found.drop if sort == "drop" and found.drop is not None else
            found.cosine if sort == "cosine" else None)
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
        """Show an analysis's figures (None: none); a sort or a metric by them falls back to
        entropy."""
        self.figures = figures or {}
        self.analysis_current, self.analysis_age = current, age
        for sort in ANALYSIS_SORTS:
            self._orders.pop(sort, None)
        if self.sort not in self.sorts():
            self.sort = "entropy"
        self._drops = None
        self._ranked.pop(DROP, None)
        self._rank_of.pop(DROP, None)
        if not self.has_drops():
            self.metric = ENTROPY
        self._rebuild()

    def has_drops(self) -> bool:
        """True when the analysis shown has a drop for at least one layer of the table."""
        # Without figures, no pass over the rows: this runs on every open, before first paint.
        return bool(self.figures) and bool(np.any(~np.isnan(self._drop_values())))

    def set_metric(self, metric: str) -> None:
        """Rank the threshold's layers by `metric` (drop: only with an analysis that has it)."""
        if metric not in METRICS or (metric == DROP and not self.has_drops()):
            raise ValueError(metric)
        self.metric = metric

    def metric_values(self, metric: str | None = None) -> np.ndarray:
        """Each row's figure for `metric` (default: the active one; NaN without one), in row
        order."""
        return self._best_entropy() if (metric or self.metric) == ENTROPY else self._drop_values()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._rebuild()

    def customized_applied(self, customized: dict[str, str]) -> None:
        """The rows already show `customized` (build_rows applied it): the next refresh
        touches only what changed since."""
        self._customized = dict(customized)

    def refresh_customized(self, customized: dict[str, str]) -> None:
        """Re-read the customized column; rows for newly named layers are appended. Only the
        rows whose value changed are touched: a toggle among 200,000 rows is not a full pass."""
        before = len(self.by_layer)
        previous = self._customized
        if previous is None:
            update_customized(self.by_layer, customized)
        elif customized != previous:  # unchanged (a save): nothing to touch
            # Set operations and map() over builtins: the loops run in C, and a bulk add of
            # 188,000 layers creates no per-layer dict or tuple.
            common = customized.keys() & previous.keys()  # looks up the smaller one's keys
            if len(customized) + len(previous) - 2 * len(common) > len(self.by_layer) // 8:
                # A bulk edit or its undo: every row in row order, each looked up in the block
                # once, beats the changed ones in set order (rows scattered in memory, twice
                # the time); the ids no row has are the ones the pass did not find.
                values = list(map(customized.get, self.by_layer))
                deque(map(setattr, self.by_layer.values(), repeat("customized"), values),
                      maxlen=0)
                unmatched = len(customized) - (len(values) - values.count(None))
                self._add_rows(customized, customized.keys() - self.by_layer.keys()
                               if unmatched else ())
            else:
                new = customized.keys() - common
                self._add_rows(customized, new - self.by_layer.keys())
                gone = previous.keys() - common
                retyped = list(compress(common, map(ne, map(previous.__getitem__, common),
                                                    map(customized.__getitem__, common))))
                rows = filter(None, map(self.by_layer.get, gone))
                deque(map(setattr, rows, repeat("customized"), repeat(None)), maxlen=0)
                for keys in (new, retyped):
                    deque(map(setattr, map(self.by_layer.__getitem__, keys),
                              repeat("customized"), map(customized.__getitem__, keys)), maxlen=0)
        self._customized = dict(customized)
        if len(self.by_layer) != before:
            for row in list(self.by_layer.values())[before:]:
                self._index[row.layer] = len(self.rows)
                self.rows.append(row)
            self._orders.clear()
            self._masks.clear()
            self._folded = None
            self._joined = None
            self._ranked.clear()
            self._rank_of.clear()
            self._not_in_file = None
            self._rebuild()

    def _add_rows(self, customized: dict[str, str], missing: Iterable[str]) -> None:
        """Rows for ids only the block names, after the file's, in the block's order."""
        missing = set(missing)
        for layer in [k for k in customized if k in missing] if missing else ():
            self.by_layer[layer] = LayerRow(layer, [], order=len(self.by_layer), in_file=False,
                                            customized=customized[layer])

    # -- counts ---------------------------------------------------------------------

    def _highest_first(self, values: np.ndarray) -> np.ndarray:
        """Row indices by `values` highest first, ties in file order, NaN (no figure) last."""
        keys = np.fromiter((row.order for row in self.rows), np.int64, len(self.rows))
        missing = np.isnan(values)
        return np.lexsort((keys, np.where(missing, 0.0, -values), missing))

    def _descending(self, metric: str | None = None) -> tuple[list[int], list[float]]:
        """Rows with a figure for `metric` (default: the active one), highest first, and their
        negated figures (for bisect). The metric is read once: prepare() runs in a thread."""
        metric = metric or self.metric
        found = self._ranked.get(metric)
        if found is None:
            values = self.metric_values(metric)
            order = (self._order("entropy") if metric == ENTROPY
                     else self._highest_first(values))
            best = values[order]
            ranked = order[~np.isnan(best)]
            found = (ranked.tolist(), (-best[~np.isnan(best)]).tolist())
            self._ranked[metric] = found
        return found

    def _rank_table(self, metric: str) -> np.ndarray:
        """Row -> its place among the rows ranked by `metric` (len(rows) when unranked)."""
        rank_of = self._rank_of.get(metric)
        if rank_of is None or len(rank_of) != len(self.rows):
            ranked = np.asarray(self._descending(metric)[0], np.intp)
            rank_of = np.full(len(self.rows), len(self.rows), np.intp)
            rank_of[ranked] = np.arange(len(ranked))
            self._rank_of[metric] = rank_of
        return rank_of

    def _best_entropy(self) -> np.ndarray:
        """Each row's max entropy (NaN without entropy), in row order."""
        if self._best is None or len(self._best) != len(self.rows):
            self._best = np.fromiter(
                (max(row.entropy.values()) if row.entropy else np.nan for row in self.rows),
                np.float64, len(self.rows))
        return self._best

    def _drop_values(self) -> np.ndarray:
        """Each row's drop in the analysis shown (NaN without one), in row order."""
        if self._drops is None or len(self._drops) != len(self.rows):
            figures = self.figures

            def drop(row: LayerRow) -> float:
                found = figures.get(row.layer)
                return math.nan if found is None or found.drop is None else found.drop

            self._drops = np.fromiter(map(drop, self.rows), np.float64, len(self.rows))
        return self._drops

    def count_at_or_above(self, threshold: float, metric: str | None = None) -> int:
        return bisect_right(self._descending(metric)[1], -threshold)

    def ranked_values(self) -> list[float]:
        """The active metric's figures of the rows that have one, highest first."""
        return [-value for value in self._descending()[1]]

    def at_or_above(self, threshold: float) -> list[LayerRow]:
        """Rows whose figure for the active metric (max entropy, or drop) is at or above
        `threshold`, highest first."""
        ranked, _ = self._descending()
        return [self.rows[i] for i in ranked[: self.count_at_or_above(threshold)]]

    def count_to_add(self, threshold: float) -> int:
        """len(layers_to_add(threshold)) without building the list: the threshold dialog's
        preview runs on every key, and at 200,000 rows a list of 100,000 is 0.1 s. Only the
        rows that can be left out (customized, or not in the file: few) are looked at."""
        metric = self.metric
        above = self.count_at_or_above(threshold, metric)
        if not above:
            return 0
        rank_of = self._rank_table(metric)
        return above - int(np.count_nonzero(rank_of[self._left_out()] < above))

    def _left_out(self) -> np.ndarray:
        """Rows `>` never adds: not candidates (not in the file, converters) or customized."""
        if self._not_in_file is None:
            self._not_in_file = [i for i, row in enumerate(self.rows) if not row.is_candidate]
        if self._customized is not None:  # every key has a row (refresh_customized added it)
            customized = list(map(self._index.get, self._customized))
            if None in customized:
                customized = [i for i in customized if i is not None]
        else:
            customized = [i for i, row in enumerate(self.rows) if row.customized is not None]
        return np.asarray(list(set(self._not_in_file).union(customized)), np.intp)

    def _chosen(self, threshold: float) -> np.ndarray:
        """The rows `>` at `threshold` adds, highest first by the active metric, as indexes:
        vectorised, so 188,000 of them is not a Python pass over row objects."""
        ranked = np.asarray(self._descending()[0][: self.count_at_or_above(threshold)], np.intp)
        keep = np.ones(len(self.rows), bool)
        keep[self._left_out()] = False
        if self.filter_text:
            keep &= self._mask(self.filter_text)
        return ranked[keep[ranked]]

    def preview_counts(self, threshold: float) -> tuple[int, int]:
        """(how many `>` would add, how many are at or above) as the dialog shows them: among
        the rows the filter shows when one is active (the fast count is for the whole table)."""
        if not self.filter_text:
            return self.count_to_add(threshold), self.count_at_or_above(threshold)
        ranked = np.asarray(self._descending()[0][: self.count_at_or_above(threshold)], np.intp)
        shown = int(np.count_nonzero(self._mask(self.filter_text)[ranked]))
        return len(self._chosen(threshold)), shown

    def layers_to_add(self, threshold: float) -> list[str]:
        """What a bulk add at `threshold` would add: candidates (in the file, no converters)
        not yet customized, among the rows the filter shows when one is set, highest first.
        Read from the ids in row order: reading each row's id reached 200,000 rows scattered
        in memory."""
        return list(map(list(self._index).__getitem__, self._chosen(threshold).tolist()))
