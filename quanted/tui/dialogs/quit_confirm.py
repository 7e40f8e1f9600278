"""Quit with unsaved changes: save, quit without saving, or cancel."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


class QuitConfirm(ModalScreen[str]):
    """Returns "save", "discard" or "cancel"."""

    BINDINGS = [
        Binding("s", "choose('save')", "Save and quit", id="quit.save"),
        Binding("d", "choose('discard')", "Quit without saving", id="quit.discard"),
        Binding("escape", "choose('cancel')", "Cancel", id="quit.cancel"),
    ]

    def __init__(self, name: str, summary: str) -> None:
        super().__init__()
        self.file_name = name
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Quit quanted?", classes="dialog-title")
            yield Label(f"{self.file_name} has unsaved changes: {self.summary}.",
                        id="quit-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save and quit (s)", id=SAVE, variant="primary")
                yield Button("Quit without saving (d)", id=DISCARD, variant="error")
                yield Button("Cancel (esc)", id=CANCEL)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
