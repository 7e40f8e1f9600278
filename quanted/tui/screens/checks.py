"""The editor's file checks: what `quanted check` finds, run after the file opens (the status
line says how many, `!` lists them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import resolve
from quanted.core.format.problems import ERROR, Problem
from quanted.tui.dialogs.problems import ProblemsDialog, summary
from quanted.tui.session import EditSession
from quanted.tui.widgets.layer_table import LayerTable

if TYPE_CHECKING:
    from textual.worker import Worker


class FileChecks:
    """The problems found in `session`'s document (the last one checked), shown on `screen`."""

    def __init__(self, session: EditSession, screen: Screen[None]) -> None:
        self.session = session
        self.screen = screen
        self.problems: list[Problem] = []

    def status(self) -> tuple[str, bool]:
        """The status line's part: (`2 errors, 1 warning`, any errors)."""
        return summary(self.problems), any(p.severity == ERROR for p in self.problems)

    def run(self, doc: QuantizeDocument) -> Worker[None]:
        """Check `doc` in a thread; a newer check replaces one still running."""
        report, screen = self.session.report, self.screen

        def work() -> None:
            from quanted.core.format.validate import check  # after the first paint

            found = check(doc, report)
            screen.app.call_from_thread(self._checked, doc, found)

        return screen.run_worker(work, name="check_file", group="check", exit_on_error=False,
                                 exclusive=True, thread=True)

    def _checked(self, doc: QuantizeDocument, found: list[Problem]) -> None:
        session = self.session
        if doc is not session.doc:
            return  # a newer load or edit is being checked
        self.problems = found
        session.changed()
        note = resolve(session.path, session.entropy).note if session.report is None else None
        if note:
            self.screen.notify(f"{note}: the palette (ctrl+p) opens one.", severity="warning")

    def show_problems(self) -> None:
        session, screen = self.session, self.screen
        if session.doc is None:
            return

        def chosen(layer: str | None) -> None:
            model = session.model
            if layer is not None and model is not None:
                if model.index_of(layer) is None and model.filter_text:
                    model.set_filter("")
                screen.query_one(LayerTable).rows_changed(keep=layer)

        screen.app.push_screen(ProblemsDialog(self.problems, session.display_name), chosen)
