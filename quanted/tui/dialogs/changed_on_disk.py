"""The file changed on disk since it was read: reload (dropping or keeping the unsaved edits),
overwrite, or cancel."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets.button import ButtonVariant

from quanted.tui.dialogs.choice import ChoiceDialog

RELOAD, KEEP, OVERWRITE, CANCEL = "reload", "keep", "overwrite", "cancel"


class ChangedOnDisk(ChoiceDialog):
    """Returns "reload", "keep", "overwrite" or "cancel"."""

    BINDINGS = [
        Binding("r", "choose('reload')", "Reload", id="changed.reload"),
        Binding("k", "choose('keep')", "Reload keeping my edits", id="changed.keep"),
        Binding("o", "choose('overwrite')", "Overwrite", id="changed.overwrite"),
        Binding("escape", "choose('cancel')", "Cancel", id="changed.cancel"),
    ]

    MESSAGE_ID = "changed-message"

    def __init__(self, name: str) -> None:
        super().__init__()
        self.file_name = name

    def title_text(self) -> str:
        return "Changed on disk"

    def message(self) -> str:
        return (
            f"{self.file_name} changed on disk since it was read (a pegasus run?).\n"
            "Reload: read it again and drop your unsaved edits.\n"
            "Keep: read it again and replay your unsaved edits on it.\n"
            "Overwrite: write your version over it (its other changes are lost)."
        )

    def choices(self) -> list[tuple[str, str, ButtonVariant]]:
        return [
            (RELOAD, "Reload (r)", "default"),
            (KEEP, "Keep my edits (k)", "primary"),
            (OVERWRITE, "Overwrite (o)", "warning"),
            (CANCEL, "Cancel (esc)", "default"),
        ]
