"""Filter the layers by a substring or regular expression of the id, live as you type."""

from __future__ import annotations

import re
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


def describe_filter(text: str) -> str:
    if not text:
        return "all layers"
    try:
        re.compile(text)
    except re.error as exc:
        return f"substring (not a regular expression: {exc.msg})"
    return "regular expression, ignoring case"


class FilterDialog(ModalScreen["str | None"]):
    """Returns the filter text on enter, None on escape (the caller restores the old one)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="filter.cancel")]

    def __init__(self, current: str, on_change: Callable[[str], int]) -> None:
        super().__init__()
        self.current = current
        self.on_change = on_change  # applies the filter, returns how many rows match

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="filter-dialog"):
            yield Input(self.current, placeholder="layer id: substring or regex",
                        id="filter-input")
            yield Label(describe_filter(self.current), id="filter-hint", classes="dialog-hint",
                        markup=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        shown = self.on_change(event.value)
        self.query_one("#filter-hint", Label).update(
            f"{describe_filter(event.value)} · {shown} shown · enter keep · esc cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
