"""The footer: one line of key hints from the keymap (remapped keys show as remapped).

Textual's Footer recomposes a widget per key on every focus change, which alone costs more
than a keystroke's 50 ms budget on a loaded machine; this renders one line of text instead.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from quanted.tui.keymap import ALL_KEYS, KeySpec, display_key

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
        overrides = getattr(self.app, "keymap_overrides", None)
        parts: list[str | tuple[str, str]] = []
        for spec in self.specs or ALL_KEYS:
            if spec.show:
                parts += [(f" {pretty(display_key(spec, overrides))} ", "bold $text-accent"),
                          spec.description, " "]
        if self.specs is None:
            parts += [(" ^p ", "bold $text-accent"), "palette"]
        return Content.assemble(*parts)
