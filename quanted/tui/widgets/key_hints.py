"""The footer: key hints from the keymap (remapped keys show as remapped).

Textual's Footer recomposes a widget per key on every focus change, which alone costs more
than a keystroke's 50 ms budget on a loaded machine; this renders text instead: one line, or
on the main screen, when one line cannot hold every key, a second line with the engine steps
(keymap.ENGINE_LINE), so that they are seen at 80 columns.
"""

from __future__ import annotations

from textual.content import Content
from textual.events import Resize
from textual.widget import Widget

from quanted.tui.keymap import ALL_KEYS, ENGINE_LINE, PINNED, KeySpec, display_key

PRETTY = {"ctrl+": "^", "space": "space", "escape": "esc"}


def pretty(key: str) -> str:
    for long, short in PRETTY.items():
        key = key.replace(long, short)
    return key


def _hint(key: str, text: str) -> Content:
    return Content.assemble((f" {key} ", "bold $text-accent"), text, " ")


class KeyHints(Widget):
    """`KeyHints(specs=...)`: another screen's keys; without the palette hint then."""

    def __init__(self, *, specs: tuple[KeySpec, ...] | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.specs = specs

    def _hints(self, specs: list[KeySpec]) -> list[Content]:
        overrides = getattr(self.app, "keymap_overrides", None)
        return [_hint(pretty(display_key(s, overrides)), s.description) for s in specs]

    def _engine_line(self, width: int) -> list[Content]:
        """The engine steps' hints when the main screen's keys need two lines, else []."""
        if self.specs is not None:
            return []
        shown = [s for s in ALL_KEYS if s.show or s.id in ENGINE_LINE]
        if sum(c.cell_length for c in self._hints(shown)) + 11 <= width:  # + `^p palette`
            return []
        by_id = {s.id: s for s in ALL_KEYS}
        return self._hints([by_id[i] for i in ENGINE_LINE])

    def on_resize(self, event: Resize) -> None:
        self.styles.height = 2 if self._engine_line(event.size.width) else 1

    def render(self) -> Content:
        """The screen's keys left to right, cut at a whole hint when the line is full; on the
        main screen `? Help`, `^q Quit` and `^p palette` stay at the right end at any width."""
        width = self.size.width
        engine = self._engine_line(width)
        shown = [spec for spec in self.specs or ALL_KEYS if spec.show]
        if engine:
            shown = [spec for spec in shown if spec.id not in ENGINE_LINE]
        pinned: list[Content] = []
        if self.specs is None:
            pinned = self._hints([s for s in shown if s.id in PINNED])
            pinned.append(_hint("^p", "palette"))
            shown = [s for s in shown if s.id not in PINNED]
        first = Content.assemble(*self._fill(self._hints(shown), width, pinned), *pinned)
        if not engine:
            return first
        return Content("\n").join([first, Content.assemble(*self._fill(engine, width, []))])

    @staticmethod
    def _fill(hints: list[Content], width: int, pinned: list[Content]) -> list[Content]:
        """The hints that fit whole before `pinned`, and the gap that right-aligns it."""
        room = width - sum(c.cell_length for c in pinned)
        left: list[Content] = []
        for item in hints:
            if item.cell_length > room:
                break
            left.append(item)
            room -= item.cell_length
        return [*left, Content(" " * max(0, room)) if pinned else Content("")]
