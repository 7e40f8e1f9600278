"""The editor's file checks: what `quanted check` finds, run after the file opens (the status
line says how many, `!` lists them), and opening another entropy report from the palette."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import resolve
from quanted.core.format.problems import ERROR, Problem
from quanted.tui.dialogs.open_report import OpenReport
from quanted.tui.dialogs.problems import ProblemsDialog, summary
from quanted.tui.screens.editor import Editor

if TYPE_CHECKING:
    from textual.worker import Worker


class FileChecks:
    """The problems found in `editor`'s document (the last one checked)."""

    def __init__(self, editor: Editor) -> None:
        self.editor = editor
        self.problems: list[Problem] = []

    def status(self) -> tuple[str, bool]:
        """The status line's part: (`2 errors, 1 warning`, any errors)."""
        return summary(self.problems), any(p.severity == ERROR for p in self.problems)

    def run(self, doc: QuantizeDocument) -> Worker[None]:
        """Check `doc` in a thread; a newer check replaces one still running."""
        editor = self.editor

        def work() -> None:
            from quanted.core.format.validate import check  # after the first paint

            found = check(doc, editor.report)
            editor.app.call_from_thread(self._checked, doc, found)

        return editor.run_worker(work, name="check_file", group="check", exit_on_error=False,
                                 exclusive=True, thread=True)

    def _checked(self, doc: QuantizeDocument, found: list[Problem]) -> None:
        editor = self.editor
        if doc is not editor.doc:
            return  # a newer load or edit is being checked
        self.problems = found
        editor.refresh_status()
        note = resolve(editor.path, editor.entropy).note if editor.report is None else None
        if note:
            editor.notify(f"{note}: the palette (ctrl+p) opens one.", severity="warning")

    def show_problems(self) -> None:
        editor = self.editor
        if editor.doc is None:
            return

        def chosen(layer: str | None) -> None:
            if layer is not None and editor.model is not None:
                if editor.model.index_of(layer) is None and editor.model.filter_text:
                    editor.model.set_filter("")
                editor.table.rows_changed(keep=layer)

        editor.app.push_screen(ProblemsDialog(self.problems, editor.display_name), chosen)

    def open_report(self) -> None:
        editor = self.editor

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            if not path.is_file():
                editor.notify(f"{path}: no such file", severity="error")
                return
            editor.entropy = path
            editor.reload(entropy=True,
                          keep_edits=editor.doc is not None and editor.doc.is_modified)

        current = editor.report.path if editor.report is not None else None
        editor.app.push_screen(OpenReport(editor.path.parent, current), chosen)
