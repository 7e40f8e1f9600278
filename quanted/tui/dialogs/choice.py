"""A modal question answered by one of a few buttons (each also a key); returns its id."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label
from textual.widgets.button import ButtonVariant


class ChoiceDialog(ModalScreen[str]):
    """Subclasses set BINDINGS (`action_choose('ID')`) and say what to show."""

    MESSAGE_ID = "choice-message"

    def title_text(self) -> str:
        raise NotImplementedError

    def message(self) -> str:
        raise NotImplementedError

    def choices(self) -> list[tuple[str, str, ButtonVariant]]:
        """(button id, label, variant) in display order."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text(), classes="dialog-title")
            yield Label(self.message(), id=self.MESSAGE_ID, markup=False)
            with Horizontal(classes="dialog-buttons"):
                for button_id, label, variant in self.choices():
                    yield Button(label, id=button_id, variant=variant)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
