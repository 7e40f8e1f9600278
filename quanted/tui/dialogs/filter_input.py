"""The filter bar: a one-line input under the table, live as you type (like `/` in less).

Not a modal screen on purpose: a modal repaints the whole screen beneath it, which costs more
than the 50 ms a keystroke may take on a 20,000-row table.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from quanted.tui.user_regex import compile_quietly


def describe_filter(text: str) -> str:
    if not text:
        return "substring or regex"
    if compile_quietly(text) is None:
        return "substring (not a valid regex)"
    return "regex, any case"


class FilterBar(Horizontal):
    """Hidden until `open()`. Posts Changed while typing and Done on enter (text) or escape
    (None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel filter", id="filter.cancel")]

    class Changed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Done(Message):
        def __init__(self, text: str | None) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        yield Label("/", id="filter-prompt")
        yield Input(placeholder="layer id: substring or regex", id="filter-input",
                    select_on_focus=False)
        yield Label("", id="filter-hint", markup=False)

    def open(self, current: str) -> None:
        self.display = True
        field = self.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = current
        field.cursor_position = len(current)
        self.set_hint(current, None)
        field.focus()

    def set_hint(self, text: str, shown: int | None) -> None:
        count = "" if shown is None else f" · {shown} shown"
        self.query_one("#filter-hint", Label).update(
            f"{describe_filter(text)}{count} · enter keep · esc cancel")

    def close(self) -> None:
        self.display = False

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done(event.value))

    def action_cancel(self) -> None:
        self.post_message(self.Done(None))
