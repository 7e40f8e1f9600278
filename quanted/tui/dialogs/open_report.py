"""Palette "file: Open entropy report…": another report for the open file (the one beside it
is found by core.format.entropy.resolve; this opens any other, e.g. one from an earlier run)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


def report_files(folder: Path) -> list[Path]:
    """`*.txt` files beside the .quantize whose name says entropy, newest first."""
    try:
        found = [p for p in folder.glob("*.txt") if p.is_file() and "entropy" in p.name.lower()]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


class OpenReport(ModalScreen["Path | None"]):
    """Returns the path typed or chosen, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="open_report.cancel")]

    def __init__(self, folder: Path, current: Path | None) -> None:
        super().__init__()
        self.folder = folder
        self.current = current
        self.files = report_files(folder)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="open-report-dialog"):
            yield Label("Open an entropy report", classes="dialog-title")
            now = self.current.name if self.current else "none"
            yield Label(f"in use: {now}", markup=False)
            yield Input(placeholder="path, relative to the file's folder", id="report-path")
            if self.files:
                yield OptionList(*[Option(p.name, id=str(i)) for i, p in enumerate(self.files)],
                                 id="report-files")
            yield Label("enter open · tab the reports beside the file · esc cancel",
                        classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        path = Path(text).expanduser()
        self.dismiss(path if path.is_absolute() else self.folder / path)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.files[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)
