"""pegasus reads the file from disk: save the unsaved edits first, or cancel."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets.button import ButtonVariant

from quanted.tui.dialogs.choice import ChoiceDialog

SAVE, CANCEL = "save", "cancel"


class SaveFirst(ChoiceDialog):
    """Returns "save" or "cancel". `verb`: "run" or "verify"."""

    BINDINGS = [
        Binding("s,enter", "choose('save')", "Save and go", id="save_first.save"),
        Binding("escape", "choose('cancel')", "Cancel", id="save_first.cancel"),
    ]

    MESSAGE_ID = "save-first-message"

    def __init__(self, name: str, summary: str, verb: str) -> None:
        super().__init__()
        self.file_name = name
        self.summary = summary
        self.verb = verb

    def title_text(self) -> str:
        return f"Save before you {self.verb}?"

    def message(self) -> str:
        return (
            f"{self.file_name} has unsaved changes: {self.summary}.\n"
            "pegasus reads the file from disk, so it is saved first."
        )

    def choices(self) -> list[tuple[str, str, ButtonVariant]]:
        return [(SAVE, f"Save and {self.verb} (s)", "primary"), (CANCEL, "Cancel (esc)", "default")]
