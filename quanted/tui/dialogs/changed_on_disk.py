"""The file changed on disk since it was read: reload (dropping the unsaved edits), keep my
edits (reload, re-apply them on top, save), overwrite, or cancel."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets.button import ButtonVariant

from quanted.tui.dialogs.choice import ChoiceDialog

RELOAD, KEEP, OVERWRITE, CANCEL = "reload", "keep", "overwrite", "cancel"


class ChangedOnDisk(ChoiceDialog):
    """Returns "reload", "keep", "overwrite" or "cancel"."""

    BINDINGS = [
        Binding("r", "choose('reload')", "Reload", id="changed.reload"),
        Binding("k", "choose('keep')", "Reload, re-apply my edits, save", id="changed.keep"),
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
            "Keep my edits: read it again, re-apply your unsaved edits on top and save, in one "
            "step (an edit whose layer is gone is named, and nothing is saved).\n"
            "Overwrite: write your version over it (its other changes are lost)."
        )

    def choices(self) -> list[tuple[str, str, ButtonVariant]]:
        return [
            (RELOAD, "Reload (r)", "default"),
            (KEEP, "Keep my edits + save (k)", "primary"),
            (OVERWRITE, "Overwrite (o)", "warning"),
            (CANCEL, "Cancel (esc)", "default"),
        ]
