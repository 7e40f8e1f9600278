"""Quit with unsaved changes: save, quit without saving, or cancel."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets.button import ButtonVariant

from quanted.tui.dialogs.choice import ChoiceDialog

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


class QuitConfirm(ChoiceDialog):
    """Returns "save", "discard" or "cancel"."""

    BINDINGS = [
        Binding("s", "choose('save')", "Save and quit", id="quit.save"),
        Binding("d", "choose('discard')", "Quit without saving", id="quit.discard"),
        Binding("escape", "choose('cancel')", "Cancel", id="quit.cancel"),
    ]

    MESSAGE_ID = "quit-message"

    def __init__(self, name: str, summary: str) -> None:
        super().__init__()
        self.file_name = name
        self.summary = summary

    def title_text(self) -> str:
        return "Quit quanted?"

    def message(self) -> str:
        return f"{self.file_name} has unsaved changes: {self.summary}."

    def choices(self) -> list[tuple[str, str, ButtonVariant]]:
        return [
            (SAVE, "Save and quit (s)", "primary"),
            (DISCARD, "Quit without saving (d)", "error"),
            (CANCEL, "Cancel (esc)", "default"),
        ]
