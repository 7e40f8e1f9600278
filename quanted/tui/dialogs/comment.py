"""Edit the trailing comment of one customized layer (empty removes it)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class CommentDialog(ModalScreen["str | None"]):
    """Returns the new comment ("" to remove it), or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="comment.cancel")]

    def __init__(self, layer: str, current: str | None) -> None:
        super().__init__()
        self.layer_id = layer
        self.current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Comment for", classes="dialog-title")
            yield Label(self.layer_id, markup=False)
            yield Input(self.current, placeholder="kept as  # comment  on the layer's line",
                        id="comment-input", select_on_focus=False)
            yield Label("enter keep · empty removes · esc cancel", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
