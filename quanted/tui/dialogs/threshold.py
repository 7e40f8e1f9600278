"""Bulk add: every layer whose max entropy (or drop) is at or above a threshold, previewed
first."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from quanted.tui.wording import count, threshold


def parse_threshold(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


class ThresholdDialog(ModalScreen["float | None"]):
    """Returns the threshold to add at, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="threshold.cancel")]

    def __init__(self, initial: float, preview: Callable[[float], tuple[int, int]],
                 why: str = "", scope: str = "", measure: str = "max entropy") -> None:
        super().__init__()
        self.initial = initial
        self.preview = preview  # threshold -> (layers it adds, layers at or above)
        self.why = why  # where the initial value comes from
        self.scope = scope  # e.g. "among the layers the filter shows"
        self.measure = measure  # what the threshold is compared with: "max entropy", "drop"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Add layers at or above a {self.measure} of", classes="dialog-title")
            yield Input(threshold(self.initial), id="threshold-input", type="number",
                        select_on_focus=True)
            if self.why:
                yield Label(self.why, id="threshold-why", classes="dialog-hint", markup=False)
            yield Label("", id="threshold-preview", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add", id="add", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._update(self.query_one(Input).value)

    def _update(self, text: str) -> None:
        value = parse_threshold(text)
        label = self.query_one("#threshold-preview", Label)
        button = self.query_one("#add", Button)
        if value is None:
            label.update("Enter a number from 0 to 1.")
            button.disabled = True
            button.label = "Add"
            return
        adds, above = self.preview(value)
        scope = f" {self.scope}" if self.scope else ""
        head = f"{count(above, 'layer')} at or above {threshold(value)}{scope}"
        if adds == 0:
            tail = "all of them are customized already." if above else "nothing to add."
        else:
            tail = (f"{adds} of them {'is' if adds == 1 else 'are'} not customized yet and "
                    "will be added as one undo step (converter layers never are).")
        label.update(f"{head}; {tail}")
        button.disabled = adds == 0
        button.label = f"Add {count(adds, 'layer')} (enter)"

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._update(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "add":
            self._confirm()
        else:
            self.dismiss(None)

    def _confirm(self) -> None:
        value = parse_threshold(self.query_one(Input).value)
        if value is not None and self.preview(value)[0] > 0:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
