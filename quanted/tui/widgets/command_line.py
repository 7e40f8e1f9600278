"""The hybrid screen's command line: the whole ~230-character pegasus command, wrapped, so it
can be read and edited at 80 columns (a one-line Input showed its start with the cursor off
screen at its end). enter runs it, like the Input it replaces; `end` goes to the end of the
whole command, `home` to its start."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class CommandLine(TextArea):
    BINDINGS = [
        Binding("end", "command_end", "End", show=False),
        Binding("home", "command_start", "Start", show=False),
    ]

    class Submitted(Message):
        def __init__(self, command_line: CommandLine, value: str) -> None:
            super().__init__()
            self.command_line = command_line
            self.value = value

        @property
        def control(self) -> CommandLine:
            return self.command_line

    def __init__(self, value: str = "", *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(value, soft_wrap=True, tab_behavior="focus", show_line_numbers=False,
                         placeholder=placeholder, id=id)

    @property
    def value(self) -> str:
        """The command as one line: a pasted multi-line command is one command."""
        return " ".join(self.text.split("\n"))

    @value.setter
    def value(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.value))
            return
        await super()._on_key(event)

    def action_command_end(self) -> None:
        self.move_cursor(self.document.end)

    def action_command_start(self) -> None:
        self.move_cursor((0, 0))
