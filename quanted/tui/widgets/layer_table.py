"""The layers table: a Line API ScrollView that renders only the rows on screen.

The row model (`RowView`, `RowModel`) lives outside the widget; the widget keeps a cursor (an index
into `model.view`) and turns one row into one Strip on demand, so 20,000 rows cost no more
than 40.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from quanted.core.format import qtypes
from quanted.core.format.keys import shown
from quanted.core.document.layers import LayerRow
from quanted.core.document.short_ids import NEIGHBOURHOOD, elide
from quanted.tui.keymap import TABLE_KEYS

if TYPE_CHECKING:
    from quanted.tui.row_view import RowView

EIGHTHS = " ▏▎▍▌▋▊▉█"
SORT_TITLES = {"entropy": "max entropy ▼", "name": "name", "file": "file order",
               "drop": "drop ▼", "cosine": "cosine ▲"}


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells; long text loses its middle, not its unique tail."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    if width < 8:
        return set_cell_size(text, width)
    tail = (width - 1) * 2 // 3
    head = width - 1 - tail
    return set_cell_size(text[:head] + "…" + text[len(text) - tail:], width)


FILE_QTYPES = {"float16": "f16", "bfloat16": "bf16", "float32": "f32"}


def short_file_qtype(qtypes_text: str) -> str:
    """`u8/float16` -> `u8/f16`: the FILE column is 6 cells; `float1` told nobody anything."""
    return "/".join(FILE_QTYPES.get(q, q) for q in qtypes_text.split("/"))


def bar(value: float | None, width: int, low: float = 0.0, high: float = 1.0) -> str:
    """A bar over [low, high]: the report's own range, so 0.42 and 0.49 differ visibly."""
    if value is None:
        return " " * width
    span = high - low if high > low else 1.0
    eighths = round(max(0.0, min(1.0, (value - low) / span)) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part else "")
    return text.ljust(width)


MIN_LAYER = 28  # cells the id column keeps before the other columns go: 80 columns have it


class ColumnWidths:
    """Column widths for one table width; the layer id takes what is left. When that is less
    than MIN_LAYER the entropy bars go first (the numbers stay), then the FILE column."""

    def __init__(self, width: int, analysis: bool = False) -> None:
        self.width = width
        self.bar = 4 if width >= 60 else 0
        self.number = 6
        self.file = 6 if width >= 52 else 0
        self.custom = 8
        self.figure = 7 if analysis else 0  # `cos` and `drop` (an analysis is shown)
        if self._room() < MIN_LAYER:
            self.bar = 0
        if self._room() < MIN_LAYER:
            self.file = 0
        self.layer = max(8, self._room())

    @property
    def entropy(self) -> int:
        return self.bar + (1 if self.bar else 0) + self.number

    def _room(self) -> int:
        fixed = 3 + 2 * (self.entropy + 1) + (self.file + 1 if self.file else 0) + self.custom
        fixed += 2 * (self.figure + 1) if self.figure else 0
        return self.width - fixed - 1


def header_title(sort: str, stale_age: str, width: int) -> str:
    """`LAYER  (sort: drop ▼; analysis stale, 5 min old)`, said shorter when it does not fit
    (the staleness before the sort: the status line says the sort too); never cut mid-word."""
    stale = f"stale, {stale_age} old" if stale_age else ""
    sort_note = f"sort: {sort}" if sort else ""
    tries = [(sort_note, f"analysis {stale}" if stale else ""), (sort, stale), ("", stale),
             (sort, ""), ("", "")]
    for notes in tries:
        text = "; ".join(n for n in notes if n)
        title = f"LAYER  ({text})" if text else "LAYER"
        if cell_len(title) <= width:
            return title
    return "LAYER"


class LayerTable(ScrollView, can_focus=True):
    """Every layer: mark, id, out0 and weight entropy, file qtype, customized qtype."""

    BINDINGS = [spec.binding() for spec in TABLE_KEYS]

    COMPONENT_CLASSES = {
        "layer-table--header",
        "layer-table--cursor",
        "layer-table--cursor-blurred",
        "layer-table--bar",
        "layer-table--hot",
        "layer-table--custom",
        "layer-table--missing",
        "layer-table--warn",
        "layer-table--dim",
        "layer-table--match",
    }

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        def __init__(self, row: LayerRow | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: RowView | None = None  # the preview's top rows, then a RowModel
        self.saved: dict[str, str] = {}
        self.threshold: float | None = None
        self.scale = (0.0, 1.0)  # the bars' range: lowest and highest entropy of the report
        self.placeholder = "Loading…"
        self.first_row_rendered: float | None = None  # perf_counter(); benchmarks read it
        self._filter: tuple[str, Callable[[str], re.Match[str] | None] | None] = ("", None)

    # -- model ---------------------------------------------------------------------------

    def set_model(self, model: RowView, saved: dict[str, str]) -> None:
        self.model = model
        self.saved = saved
        self.cursor = 0
        if model.scale is not None:
            self.scale = model.scale
        else:
            values = [v for row in model.rows for v in row.entropy.values()]
            self.scale = (min(values), max(values)) if values else (0.0, 1.0)
        self.rows_changed()

    def show_first(self, model: RowView, saved: dict[str, str]) -> None:
        """Called from the loading thread with the top rows (loading.preview): shows them and
        returns once they are painted (the rest of the load then holds the GIL for seconds),
        or after a second whatever happened. Rows shown already (MainScreen.on_mount) stay
        as they are: the cursor may have moved."""
        painted = threading.Event()

        def show() -> None:
            if model is not self.model:
                self.set_model(model, saved)
            self.call_after_refresh(painted.set)

        self.app.call_from_thread(show)
        painted.wait(1.0)

    def rows_changed(self, keep: str | None = None) -> None:
        """The view changed (filter, sort, edits): resize, keep the cursor on `keep`."""
        model = self.model
        count = len(model) if model is not None else 0
        size = Size(self.scrollable_content_region.width, count + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        if keep is not None and model is not None:
            index = model.index_of(keep)
            self.cursor = index if index is not None else 0
        else:
            self.cursor = min(self.cursor, max(0, count - 1))
        self.refresh()

    @property
    def current(self) -> LayerRow | None:
        model = self.model
        if model is None or not len(model):
            return None
        return model.row_at(min(self.cursor, len(model) - 1))

    # -- cursor -----------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        count = len(self.model) if self.model is not None else 0
        return max(0, min(value, count - 1)) if count else 0

    def watch_cursor(self, old: int, new: int) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + visible:
            self.scroll_to(y=new - visible + 1, animate=False, immediate=True)
        self._refresh_row(old)
        self._refresh_row(new)
        self.post_message(self.Highlighted(self.current))

    def _refresh_row(self, index: int) -> None:
        y = index - round(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh_line(y)

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(1, self.scrollable_content_region.height - 2)

    def action_jump(self, where: int) -> None:
        self.cursor = 0 if where == 0 else (len(self.model) - 1 if self.model else 0)

    def on_click(self, event: Click) -> None:
        if event.y >= 1 and self.model is not None:
            self.cursor = round(self.scroll_y) + event.y - 1

    def on_resize(self) -> None:
        self.rows_changed(keep=self.current.layer if self.current else None)

    def on_focus(self) -> None:
        self._refresh_row(self.cursor)

    def on_blur(self) -> None:
        self._refresh_row(self.cursor)

    # -- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width)
        model = self.model
        index = round(self.scroll_y) + y - 1
        if model is None or index >= len(model):
            if model is None or (not len(model) and y == 1):
                text = self.placeholder if model is None else "No layer matches the filter."
                style = base + self.get_component_rich_style("layer-table--dim")
                return Strip([Segment(set_cell_size(" " + text, width), style)], width)
            return Strip.blank(width, base)
        if self.first_row_rendered is None:
            self.first_row_rendered = time.perf_counter()
        neighbours = [model.row_at(i).layer
                      for i in range(max(0, index - NEIGHBOURHOOD),
                                     min(len(model), index + NEIGHBOURHOOD + 1)) if i != index]
        return self._row(model.row_at(index), index == self.cursor, width, neighbours)

    def _layout(self, width: int) -> ColumnWidths:
        return ColumnWidths(width, bool(self.model is not None and self.model.figures))

    def _header(self, width: int) -> Strip:
        lay = self._layout(width)
        model = self.model
        sort = SORT_TITLES.get(model.sort, "") if model else ""
        stale = (model.analysis_age
                 if model is not None and model.figures and not model.analysis_current else "")
        title = header_title(sort, stale, lay.layer)
        parts = ["   ", fit(title, lay.layer), " ",
                 "OUT0".rjust(lay.entropy), " ", "WEIGHT".rjust(lay.entropy), " "]
        if lay.figure:
            parts += ["COS".rjust(lay.figure), " ", "DROP".rjust(lay.figure), " "]
        if lay.file:
            parts += ["FILE".ljust(lay.file), " "]
        parts.append("CUSTOM".ljust(lay.custom))
        style = self.rich_style + self.get_component_rich_style("layer-table--header")
        return Strip([Segment(set_cell_size("".join(parts), width), style)], width)

    def _matcher(self) -> Callable[[str], re.Match[str] | None] | None:
        """The filter's search, compiled once per filter text (None without a filter)."""
        text = self.model.filter_text if self.model is not None else ""
        if self._filter[0] != text:
            from quanted.tui.row_model import compile_filter  # loaded with the full rows

            self._filter = (text, cast("Callable[[str], re.Match[str] | None] | None",
                                       compile_filter(text)))
        return self._filter[1]

    def _add_name(self, layer: str, width: int, neighbours: Sequence[str],
              add: Callable[[str, Style | None], None], style: Style | None) -> None:
        """The id in `width` cells; what the filter matched stays whole and is highlighted."""
        text = shown(layer)
        search = self._matcher()
        found = search(text) if search is not None else None
        span = found.span() if found is not None and found.end() > found.start() else None
        name = elide(text, width, neighbours, keep=span)
        at = name.find(text[span[0]:span[1]]) if span is not None else -1
        if at < 0:
            add(fit(name, width), style)
            return
        assert span is not None
        end = at + span[1] - span[0]
        match_style = self.get_component_rich_style("layer-table--match")
        add(name[:at], style)
        add(name[at:end], match_style if style is None else style + match_style)
        add(fit(name[end:], width - cell_len(name[:end])), style)

    def _row(self, row: LayerRow, is_cursor: bool, width: int,
             neighbours: list[str] | None = None) -> Strip:
        lay = self._layout(width)
        get = self.get_component_rich_style
        base = self.rich_style
        if is_cursor:
            cursor_class = ("layer-table--cursor" if self.has_focus
                            else "layer-table--cursor-blurred")
            base = base + get(cursor_class)
        segments: list[Segment] = []

        def add(text: str, style: Style | None = None) -> None:
            segments.append(Segment(text, base + style if style is not None else base))

        # Mark: ● customized, ○ customized but not applied in quantize_parameters yet,
        # ! not in the file, ⇄ a converter a hybrid run inserted;
        # * an unsaved change on this row.
        if not row.in_file:
            add("!", get("layer-table--missing"))
        elif row.converter and row.customized is None:
            add("⇄", get("layer-table--dim"))
        elif row.customized is not None and self.model is not None and self.model.pending(row):
            add("○", get("layer-table--warn"))  # not applied yet: the file's qtype was measured
        elif row.customized is not None:
            add("●", get("layer-table--custom"))
        else:
            add(" ")
        add("*" if row.customized != self.saved.get(row.layer) else " ", get("layer-table--warn"))
        add(" ")
        name_style = (get("layer-table--missing") if not row.in_file
                      else get("layer-table--dim") if row.converter else None)
        self._add_name(row.layer, lay.layer, neighbours or (), add, name_style)
        add(" ")
        # Marked by the metric `>` ranks by (max entropy, or the analysis's drop).
        value = row.max_entropy if self.model is None else self.model.metric_value(row)
        hot = self.threshold is not None and value is not None and value >= self.threshold
        for port in ("out0", "weight"):
            value = row.entropy.get(port)
            if lay.bar:
                add(bar(value, lay.bar, *self.scale),
                    get("layer-table--hot" if hot else "layer-table--bar"))
                add(" ")
            add(("-" if value is None else f"{value:.4f}").rjust(lay.number),
                None if value is not None else get("layer-table--dim"))
            add(" ")
        if lay.figure and self.model is not None:
            found = self.model.figures.get(row.layer)
            style = None if self.model.analysis_current else get("layer-table--dim")
            cos = "-" if found is None else f"{found.cosine:.4f}"
            drop = "-" if found is None or found.drop is None else f"{found.drop:+.4f}"
            add(cos.rjust(lay.figure), style)
            add(" ")
            add(drop.rjust(lay.figure), style)
            add(" ")
        if lay.file:
            known = self.model.file_qtypes if self.model is not None else {}
            file_qtype = "" if not row.in_file else known.get(row.layer, "…")
            add(fit(short_file_qtype(file_qtype), lay.file), get("layer-table--dim"))
            add(" ")
        if row.customized is not None:
            style = get("layer-table--custom")
            if not qtypes.engine_applies(row.customized):
                style = get("layer-table--warn")
            add(fit(qtypes.short(row.customized), lay.custom), style)
        else:
            add(" " * lay.custom)
        used = sum(seg.cell_length for seg in segments)
        if used < width:
            add(" " * (width - used))
        return Strip(segments).crop(0, width)
