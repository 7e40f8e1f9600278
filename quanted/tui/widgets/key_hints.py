"""The footer: one line of key hints from the keymap (remapped keys show as remapped).

Textual's Footer recomposes a widget per key on every focus change, which alone costs more
than a keystroke's 50 ms budget on a loaded machine; this renders one line of text instead.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from quanted.tui.keymap import ALL_KEYS, PINNED, KeySpec, display_key

PRETTY = {"ctrl+": "^", "space": "space", "escape": "esc"}


def pretty(key: str) -> str:
    for long, short in PRETTY.items():
        key = key.replace(long, short)
    return key


class KeyHints(Widget):
    """`KeyHints(specs=...)`: another screen's keys; without the palette hint then."""

    def __init__(self, *, specs: tuple[KeySpec, ...] | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.specs = specs

    def render(self) -> Content:
        """The screen's keys left to right, cut at a whole hint when the line is full; on the
        main screen `? Help`, `^q Quit` and `^p palette` stay at the right end at any width."""
        overrides = getattr(self.app, "keymap_overrides", None)

        def hint(key: str, text: str) -> Content:
            return Content.assemble((f" {key} ", "bold $text-accent"), text, " ")

        shown = [spec for spec in self.specs or ALL_KEYS if spec.show]
        pinned: list[Content] = []
        if self.specs is None:
            pinned = [hint(pretty(display_key(s, overrides)), s.description)
                      for s in shown if s.id in PINNED]
            pinned.append(hint("^p", "palette"))
            shown = [s for s in shown if s.id not in PINNED]
        room = self.size.width - sum(c.cell_length for c in pinned)
        left: list[Content] = []
        for spec in shown:
            item = hint(pretty(display_key(spec, overrides)), spec.description)
            if item.cell_length > room:
                break
            left.append(item)
            room -= item.cell_length
        gap = Content(" " * max(0, room)) if pinned else Content("")
        return Content.assemble(*left, gap, *pinned)
