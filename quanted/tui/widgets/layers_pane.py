"""The layers table with its filter bar: which rows show (filter), in which order (sort), and
the highlighted layer's id in full. The rows themselves are the screen's RowModel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer

from quanted.tui import analysis_view
from quanted.tui.dialogs.filter_input import FilterBar
from quanted.tui.widgets.layer_table import LayerTable

if TYPE_CHECKING:
    from quanted.core.document.layers import LayerRow
    from quanted.tui.row_model import RowModel


class LayersPane(Vertical):
    class ViewChanged(Message):
        """The rows shown or their order changed (the status line counts them)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._filter_before = ""
        self._id_timer: Timer | None = None
        self._id_row: LayerRow | None = None  # the row the border's line is about

    def compose(self) -> ComposeResult:
        yield LayerTable(id="layers")
        yield FilterBar(id="filter-bar")

    @property
    def table(self) -> LayerTable:
        return self.query_one(LayerTable)

    def _full_model(self) -> RowModel | None:
        """The table's rows once all are read; None while the preview's top rows show."""
        model = self.table.model
        if model is None or model.preview:
            return None
        from quanted.tui.row_model import RowModel  # loaded with the full rows (numpy)

        assert isinstance(model, RowModel)
        return model

    def _apply_filter(self, text: str) -> int:
        model = self._full_model()
        assert model is not None
        current = self.table.current
        model.set_filter(text)
        self.table.rows_changed(keep=current.layer if current else None)
        self.post_message(self.ViewChanged())
        return len(model)

    def open_filter(self) -> None:
        model = self._full_model()
        if model is None:  # not the top rows alone
            return
        self._filter_before = model.filter_text
        self.query_one(FilterBar).open(self._filter_before)

    def clear_filter(self) -> None:
        if (model := self._full_model()) is not None and model.filter_text:
            self._apply_filter("")

    def cycle_sort(self) -> None:
        model = self._full_model()
        if model is None:
            return
        model.next_sort()
        # The top of the new order is what a sort is for (the largest drops, the highest
        # entropy): keeping the cursor's layer left it at the top of the view, those above it.
        self.table.cursor = 0
        self.table.rows_changed()
        self.table.scroll_to(y=0, animate=False, immediate=True)
        self.post_message(self.ViewChanged())

    @on(FilterBar.Changed)
    def _filter_typed(self, message: FilterBar.Changed) -> None:
        shown = self._apply_filter(message.text)
        self.query_one(FilterBar).set_hint(message.text, shown)

    @on(FilterBar.Done)
    def _filter_done(self, message: FilterBar.Done) -> None:
        if message.text is None:
            self._apply_filter(self._filter_before)
        self.query_one(FilterBar).close()
        self.table.focus()

    @on(LayerTable.Highlighted)
    def _show_full_id(self, message: LayerTable.Highlighted) -> None:
        # The table shortens long ids in the middle; the border shows the highlighted one whole.
        # A border change repaints the whole table, so it waits until the cursor rests.
        if self._id_timer is not None:
            self._id_timer.stop()
        self._id_timer = self.set_timer(0.25, lambda row=message.row: self._full_id(row))

    def _full_id(self, row: LayerRow | None) -> None:
        """The border's line for `row`, as the model knows it now (its figures, and whether the
        file applies it: known once the file's qtypes are read, refresh_full_id)."""
        self._id_row = row
        text = row.layer if row is not None else ""
        model = self.table.model
        if row is not None and model is not None:  # with an analysis: where the damage happens
            text += analysis_view.detail(model.figures, row.layer)
            if model.pending(row):
                text += "  ·  not applied yet (ctrl+r applies it)"
        self.table.border_subtitle = text

    def refresh_full_id(self) -> None:
        """The border's line again: what the model knows of its row changed."""
        if self._id_row is not None:
            self._full_id(self._id_row)
