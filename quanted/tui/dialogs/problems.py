"""`!`: what `quanted check` finds in the open file, one line each; enter goes to its layer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from quanted.core.format.problems import ERROR, Problem
from quanted.tui.wording import count


def summary(problems: list[Problem]) -> str:
    """`2 errors, 1 warning` (empty when there is none): what the status line says on open."""
    errors = sum(p.severity == ERROR for p in problems)
    warnings = len(problems) - errors
    parts = [count(errors, "error")] if errors else []
    if warnings:
        parts.append(count(warnings, "warning"))
    return ", ".join(parts)


class ProblemsDialog(ModalScreen["str | None"]):
    """Returns the layer of the chosen problem (to move the cursor to), or None."""

    BINDINGS = [Binding("escape,q", "cancel", "Close", id="problems.close")]

    def __init__(self, problems: list[Problem], display_name: str) -> None:
        super().__init__()
        self.problems = problems
        self.display_name = display_name

    def compose(self) -> ComposeResult:
        options = []
        for index, problem in enumerate(self.problems):
            style = "bold $text-error" if problem.severity == ERROR else "bold $text-warning"
            where = f"line {problem.line}: " if problem.line is not None else ""
            prompt = Content.assemble((problem.severity, style), f"  {where}{problem.message}")
            options.append(Option(prompt, id=str(index)))
        with Vertical(classes="dialog", id="problems-dialog"):
            yield Label(f"check: {summary(self.problems) or 'no problems'} in "
                        f"{self.display_name}", classes="dialog-title", markup=False)
            if options:
                yield OptionList(*options, id="problems-list")
            else:
                yield Label("quanted check finds nothing to fix.", markup=False)
            yield Label("enter go to the layer · esc close · the same list as "
                        "`quanted check FILE`", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        problem = self.problems[int(event.option.id or 0)]
        self.dismiss(problem.layer)

    def action_cancel(self) -> None:
        self.dismiss(None)
