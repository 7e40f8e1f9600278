"""Pick the qtype of one layer from the values the engine knows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from quanted.core.format import qtypes


class QtypePicker(ModalScreen["str | None"]):
    """Returns the chosen qtype, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="qtype.cancel")]

    def __init__(self, layer: str, current: str | None) -> None:
        super().__init__()
        self.layer_id = layer
        self.current = current

    def compose(self) -> ComposeResult:
        options = []
        for qtype in qtypes.KNOWN_QTYPES:
            mark = "● " if qtype == self.current else "  "
            if qtypes.engine_applies(qtype):
                prompt = Content.assemble(mark, (qtype, "bold"))
            else:
                prompt = Content.assemble(mark, qtype, ("  not applied by the 6.x engine",
                                                        "$text-warning"))
            options.append(Option(prompt, id=qtype))
        with Vertical(classes="dialog"):
            yield Label("Qtype for", classes="dialog-title")
            yield Label(self.layer_id, id="qtype-layer", markup=False)
            yield OptionList(*options, id="qtype-options")
            yield Label("enter choose · esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in qtypes.KNOWN_QTYPES:
            options.highlighted = qtypes.KNOWN_QTYPES.index(self.current)
        else:
            options.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
