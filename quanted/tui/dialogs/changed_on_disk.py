"""The file changed on disk since it was read: reload (dropping or keeping the unsaved edits),
overwrite, or cancel."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

RELOAD, KEEP, OVERWRITE, CANCEL = "reload", "keep", "overwrite", "cancel"


class ChangedOnDisk(ModalScreen[str]):
    """Returns "reload", "keep", "overwrite" or "cancel"."""

    BINDINGS = [
        Binding("r", "choose('reload')", "Reload", id="changed.reload"),
        Binding("k", "choose('keep')", "Reload keeping my edits", id="changed.keep"),
        Binding("o", "choose('overwrite')", "Overwrite", id="changed.overwrite"),
        Binding("escape", "choose('cancel')", "Cancel", id="changed.cancel"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.file_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Changed on disk", classes="dialog-title")
            yield Label(
                f"{self.file_name} changed on disk since it was read (a pegasus run?).\n"
                "Reload: read it again and drop your unsaved edits.\n"
                "Keep: read it again and replay your unsaved edits on it.\n"
                "Overwrite: write your version over it (its other changes are lost).",
                id="changed-message", markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Reload (r)", id=RELOAD)
                yield Button("Keep my edits (k)", id=KEEP, variant="primary")
                yield Button("Overwrite (o)", id=OVERWRITE, variant="warning")
                yield Button("Cancel (esc)", id=CANCEL)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
