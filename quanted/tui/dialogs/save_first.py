"""pegasus reads the file from disk: save the unsaved edits first, or cancel."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

SAVE, CANCEL = "save", "cancel"


class SaveFirst(ModalScreen[str]):
    """Returns "save" or "cancel". `verb`: "run" or "verify"."""

    BINDINGS = [
        Binding("s,enter", "choose('save')", "Save and go", id="save_first.save"),
        Binding("escape", "choose('cancel')", "Cancel", id="save_first.cancel"),
    ]

    def __init__(self, name: str, summary: str, verb: str) -> None:
        super().__init__()
        self.file_name = name
        self.summary = summary
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Save before you {self.verb}?", classes="dialog-title")
            yield Label(f"{self.file_name} has unsaved changes: {self.summary}.\n"
                        f"pegasus reads the file from disk, so it is saved first.",
                        id="save-first-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"Save and {self.verb} (s)", id=SAVE, variant="primary")
                yield Button("Cancel (esc)", id=CANCEL)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
