"""The customized block as it will be saved, with a mark per unsaved line.

Marks: `+` added, `~` qtype or comment changed, `-` removed (listed after the block).
Flags after a line: the layer is not in the file, or the 6.x engine cannot apply the qtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import compress
from operator import ne, not_
from typing import TYPE_CHECKING, overload

from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from quanted.core.format import block, qtypes
from quanted.core.format.block import ADDED, CHANGED, REMOVED
from quanted.core.document.model import QuantizeDocument

if TYPE_CHECKING:
    from quanted.tui.row_model import RowModel

BIG_BLOCK = 2_000  # lines beyond which the pane is built lazily, one line per entry
MARK_STYLES = {"+": "bold $text-success", "~": "bold $text-warning", "-": "bold $text-error"}


# The mark each unsaved change gets in the pane.
MARKS = {ADDED: "+", CHANGED: "~", REMOVED: "-"}


def _tally(changes: dict[str, str]) -> dict[str, int]:
    return {c: sum(1 for v in changes.values() if v == c) for c in (ADDED, CHANGED, REMOVED)}


def counts(changes: dict[str, str]) -> str:
    """'1 added, 0 changed, 1 removed' for QuantizeDocument.unsaved_changes()."""
    n = _tally(changes)
    return f"{n[ADDED]} added, {n[CHANGED]} changed, {n[REMOVED]} removed"


def summary(changes: dict[str, str]) -> str:
    if not changes:
        return "saved"
    n = _tally(changes)
    return f"unsaved: +{n[ADDED]} ~{n[CHANGED]} -{n[REMOVED]}"


Parts = list["str | tuple[str, str]"]


def _entry(mark: str, key_text: str, rest: Parts, width: int, key_style: str = "") -> list[Parts]:
    """One entry as one line; when it does not fit, the id wraps (shown whole, never
    shortened: this pane is the block as it will be saved) and the qtype and comment follow
    on their own indented line."""
    head: Parts = [(mark + " ", MARK_STYLES.get(mark, ""))]
    rest_len = sum(len(p if isinstance(p, str) else p[0]) for p in rest)
    if 2 + len(key_text) + 1 + rest_len <= width:
        return [head + [(key_text, key_style), " ", *rest]]
    room = max(1, width - 2)
    chunks = [key_text[i:i + room] for i in range(0, len(key_text), room)]
    lines: list[Parts] = [head + [(chunks[0], key_style)]]
    lines += [["  ", (chunk, key_style)] for chunk in chunks[1:]]
    return [*lines, ["      ", *rest]]


def _entry_parts(line: block.Line, model: RowModel) -> tuple[str, Parts]:
    """An entry's id as written, and what follows it: qtype, comment, flags."""
    assert line.key is not None
    match = block.ENTRY_RE.fullmatch(line.text)
    key_text = match["key"] if match else line.key
    value_text = (match["value"] or "") if match else (line.value or "")
    rest: Parts = [value_text]
    if line.comment:
        rest += ["  ", ("# " + line.comment, "italic $text-secondary")]
    row = model.by_layer.get(line.key)
    if row is not None and not row.in_file:
        rest.append(("  ! not in the file", "$text-error"))
    if line.value is not None and not qtypes.engine_applies(line.value):
        rest.append(("  ! " + qtypes.describe(line.value), "$text-warning"))
    return key_text, rest


class _Lines(Sequence[Content]):
    """Styled lines, each assembled when first shown: 18,000 up front cost 0.3 s per edit.
    `parts(i)` gives line i's parts (a list's __getitem__, or a function for a big block)."""

    def __init__(self, count: int, parts: Callable[[int], Parts]) -> None:
        self._count = count
        self._parts = parts
        self._done: dict[int, Content] = {}

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Content: ...
    @overload
    def __getitem__(self, index: slice) -> list[Content]: ...
    def __getitem__(self, index: int | slice) -> Content | list[Content]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += self._count
        content = self._done.get(index)
        if content is None:
            content = self._done[index] = Content.assemble(*self._parts(index))
        return content


class CustomizedPane(ScrollView, can_focus=True):
    """A Line API view: lines are built once per change and rendered on demand."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: _Lines = _Lines(1, lambda _: ["Loading…"])
        self._shown: tuple[QuantizeDocument, RowModel] | None = None

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, doc: QuantizeDocument, model: RowModel) -> None:
        self._shown = (doc, model)
        width = max(20, self.scrollable_content_region.width)
        state = doc.block_state
        if max(len(state.lines), len(doc.saved_customized)) > BIG_BLOCK:
            self.lines = self._big(doc, model)
        else:
            changes = doc.unsaved_changes()
            marks = {layer: MARKS[change] for layer, change in changes.items()}
            self.border_title = f"customized_quantize_layers ({doc.customized_count()})"
            self.border_subtitle = summary(changes)
            lines: list[Parts] = [[("  " + state.header, "bold")]]
            for line in state.lines:
                if line.key is None:
                    lines.append([("  " + line.text, "dim italic")])
                    continue
                key_text, rest = _entry_parts(line, model)
                lines += _entry(marks.get(line.key, " "), key_text + ":", rest, width)
            removed = [layer for layer, mark in marks.items() if mark == "-"]
            if removed:
                saved = doc.saved_customized  # once: a copy per removed layer was quadratic
                lines.append([("removed (dropped on save):", "dim")])
                for layer in removed:
                    lines += _entry("-", layer + ":", [(saved[layer], "strike dim")],
                                    width, key_style="strike dim")
            self.lines = _Lines(len(lines), lines.__getitem__)
        size = Size(width, len(self.lines))
        if size != self.virtual_size:
            self.virtual_size = size
        self.refresh()

    def _big(self, doc: QuantizeDocument, model: RowModel) -> _Lines:
        """A block of more than BIG_BLOCK lines (a bulk add): one line per entry, not wrapped
        (the table's border shows the whole id), each built only when scrolled into view with
        its mark. The counts walk the smaller of the block and the saved one, looking each entry
        up in the other, in C: sets of 200,000 ids (or a comprehension) took 0.2-0.7 s per
        edit."""
        state = doc.block_state
        now, saved = doc.customized, doc.saved_customized
        comments, saved_comments = doc.comments(), doc.saved_comments()

        def changed(key: str) -> bool:
            return saved[key] != now[key] or comments.get(key) != saved_comments.get(key)

        if doc.is_modified:
            # Over the smaller block, looking its entries up in the other: a qtype that
            # differs counts the entries the other lacks too (get gives None).
            if len(saved) <= len(now):
                kept = sum(map(now.__contains__, saved))
                retyped = sum(map(ne, map(now.get, saved), saved.values())) - (len(saved) - kept)
            else:
                kept = sum(map(saved.__contains__, now))
                retyped = sum(map(ne, map(saved.get, now), now.values())) - (len(now) - kept)
            added = len(now) - kept
            recommented = sum(1 for k in comments.keys() | saved_comments.keys()
                              if k in now and k in saved and now[k] == saved[k]
                              and comments.get(k) != saved_comments.get(k))
            removed = (list(compress(saved, map(not_, map(now.__contains__, saved))))
                       if len(saved) > kept else [])
            self.border_subtitle = (f"unsaved: +{added} ~{retyped + recommented} -{len(removed)}"
                                    if added or retyped or recommented or removed else "saved")
        else:
            removed, self.border_subtitle = [], "saved"
        self.border_title = f"customized_quantize_layers ({len(now)})"
        lines = state.lines

        def parts(index: int) -> Parts:
            if index == 0:
                return [("  " + state.header, "bold")]
            if index <= len(lines):
                line = lines[index - 1]
                if line.key is None:
                    return [("  " + line.text, "dim italic")]
                mark = ("+" if line.key not in saved else "~" if changed(line.key) else " ")
                key_text, rest = _entry_parts(line, model)
                return [(mark + " ", MARK_STYLES.get(mark, "")), key_text + ":", " ", *rest]
            if index == len(lines) + 1:
                return [("removed (dropped on save):", "dim")]
            layer = removed[index - len(lines) - 2]
            return [("- ", MARK_STYLES["-"]), (layer + ":", "strike dim"), " ",
                    (saved[layer], "strike dim")]

        return _Lines(1 + len(lines) + (1 + len(removed) if removed else 0), parts)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_y) + y
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        segments = self.lines[index].render_segments(self.visual_style)
        return Strip(segments).adjust_cell_length(width, self.rich_style)
