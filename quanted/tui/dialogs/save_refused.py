"""A save the file refused: another quanted is changing it (say so, like the CLI does), or it
is read-only (ask before writing it anyway)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.widgets.button import ButtonVariant

from quanted.core.disk.files import FileLockedError, ReadOnlyError
from quanted.tui.dialogs.choice import ChoiceDialog

OK, WRITE, CANCEL = "ok", "write", "cancel"


class FileInUse(ChoiceDialog):
    """Another quanted holds the file's lock; the edits stay, unsaved. Returns "ok"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose('ok')", "OK", id="in_use.ok"),
        Binding("escape", "choose('ok')", "OK", id="in_use.escape"),
    ]
    MESSAGE_ID = "in-use-message"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason  # "FILE: is being changed by another quanted (pid N)..."

    def title_text(self) -> str:
        return "Not saved"

    def message(self) -> str:
        return f"{self.reason}\nYour edits are kept; save again when it is done."

    def choices(self) -> list[tuple[str, str, ButtonVariant]]:
        return [(OK, "OK (enter)", "primary")]


class ReadOnlyFile(ChoiceDialog):
    """The file is read-only. Returns "write" (save it anyway, keeping its mode) or "cancel"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "choose('write')", "Write anyway", id="read_only.write"),
        Binding("escape", "choose('cancel')", "Cancel", id="read_only.cancel"),
    ]
    MESSAGE_ID = "read-only-message"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def title_text(self) -> str:
        return "Read-only file"

    def message(self) -> str:
        return f"{self.reason}\nWrite it anyway? Its mode stays read-only."

    def choices(self) -> list[tuple[str, str, ButtonVariant]]:
        return [(WRITE, "Write anyway (w)", "warning"), (CANCEL, "Cancel (esc)", "default")]



async def write_anyway(app: App[object], error: FileLockedError | ReadOnlyError) -> bool:
    """Show why the save was refused; True when the user chose to write a read-only file."""
    if isinstance(error, FileLockedError):
        await app.push_screen_wait(FileInUse(str(error)))
        return False
    return await app.push_screen_wait(ReadOnlyFile(str(error))) == WRITE
