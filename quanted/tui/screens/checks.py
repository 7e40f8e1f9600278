"""The main screen's file checks: what `quanted check` finds, run after the file opens (the
status line says how many, `!` lists them), and opening another entropy report from the
palette. Mixed into MainScreen (main.py is at its size limit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work

from quanted.core.document import QuantizeDocument
from quanted.core.entropy import resolve
from quanted.core.problems import ERROR, Problem
from quanted.tui.dialogs.open_report import OpenReport
from quanted.tui.dialogs.problems import ProblemsDialog, summary

class FileChecks:
    """Mixed into MainScreen; `self` is that screen (typed Any: importing it would be a cycle)."""

    problems: list[Problem] = []
    entropy: Path | None

    def problem_status(self) -> tuple[str, bool]:
        """The status line's part: (`2 errors, 1 warning`, any errors)."""
        return summary(self.problems), any(p.severity == ERROR for p in self.problems)

    @work(thread=True, exclusive=True, exit_on_error=False, group="check")
    def check_file(self: Any, doc: QuantizeDocument) -> None:
        from quanted.core.validate import check  # after the first paint (issue 14)

        found = check(doc, self.report)
        self.app.call_from_thread(self._checked, doc, found)

    def _checked(self: Any, doc: QuantizeDocument, found: list[Problem]) -> None:
        if doc is not self.doc:
            return  # a newer load or edit is being checked
        self.problems = found
        self.refresh_status()
        note = resolve(self.path, self.entropy).note if self.report is None else None
        if note:
            self.notify(f"{note}: the palette (ctrl+p) opens one.", severity="warning")

    def action_show_problems(self: Any) -> None:
        if self.doc is None:
            return

        def chosen(layer: str | None) -> None:
            if layer is not None and self.model is not None:
                if self.model.index_of(layer) is None and self.model.filter_text:
                    self.model.set_filter("")
                self.table.rows_changed(keep=layer)

        self.app.push_screen(ProblemsDialog(self.problems, self.display_name), chosen)

    def action_open_report(self: Any) -> None:
        def chosen(path: Path | None) -> None:
            if path is None:
                return
            if not path.is_file():
                self.notify(f"{path}: no such file", severity="error")
                return
            self.entropy = path
            self.reload(entropy=True, keep_edits=self.doc is not None and self.doc.is_modified)

        current = self.report.path if self.report is not None else None
        self.app.push_screen(OpenReport(self.path.parent, current), chosen)
