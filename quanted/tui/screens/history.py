"""h: every attempt at the file's customized list (quanted.core.state.timeline): a table (★ the best
verified one), the highlighted attempt's list against the current one, and r to restore it
(the editor applies it as one undoable edit: MainScreen.history_flow)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from quanted.core.state import timeline
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.attempts import top1_text
from quanted.tui.keymap import HISTORY_KEYS
from quanted.tui.widgets.key_hints import KeyHints

COLUMNS = (("mark", ""), ("id", "id"), ("when", "when"), ("kind", "kind"),
           ("layers", "layers"), ("cosine", "mean cosine"), ("top1", "top-1"))


def diff_text(changes: timeline.AttemptDiff) -> Text:
    """The diff from the current list to the attempt's: what a restore would change. The mark
    is glued to the id as in a unified diff: a space would let word wrap leave it alone."""
    text = Text()
    for layer, qtype in changes.added.items():
        text.append(f"+{layer}: {qtype}\n", style="green")
    for layer, qtype in changes.removed.items():
        text.append(f"-{layer}: {qtype}\n", style="red")
    for layer, (old, new) in changes.retyped.items():
        text.append(f"~{layer}: {old} -> {new}\n", style="yellow")
    if not (changes.added or changes.removed or changes.retyped):
        text.append("the same customized list as now\n", style="dim")
    text.append(f"\nfigures: {timeline.figures_text(changes.after)}", style="dim")
    if changes.after.block is None:
        text.append("\n(its comments were not recorded)", style="dim")
    return text


class HistoryScreen(Screen[timeline.Attempt | None]):
    """Dismissed with the attempt to restore, or None."""

    BINDINGS = [spec.binding() for spec in HISTORY_KEYS]

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__()
        assert doc.path is not None
        self.doc = doc
        self.display_name = display_name
        self.attempts = timeline.attempts(doc.path)
        self.best = timeline.best_of(doc.path, self.attempts)

    def compose(self) -> ComposeResult:
        yield Label(f"History · {self.display_name}: attempts at customized_quantize_layers",
                    classes="engine-title")
        with Horizontal(id="history-body"):
            yield DataTable(id="attempts", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="history-diff-box"):
                yield Static("", id="history-diff")
        yield KeyHints(specs=HISTORY_KEYS, id="keys")

    def on_mount(self) -> None:
        table = self.query_one("#attempts", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        for attempt in self.attempts:
            mark = "★" if attempt is self.best else " "
            style = "bold green" if attempt is self.best else ""
            figures = attempt.figures or {}
            cosine = "-" if attempt.mean_cosine is None else f"{attempt.mean_cosine:.6f}"
            top1 = top1_text(figures)
            cells = [mark, attempt.id, attempt.when, attempt.kind, str(len(attempt.customized)),
                     cosine, top1]
            table.add_row(*(Text(c, style=style) for c in cells), key=attempt.id)
        if self.attempts:
            table.move_cursor(row=len(self.attempts) - 1)
        else:
            self.query_one("#history-diff", Static).update(Text(
                "No attempts yet: quantize, hybrid runs, verify and tune record them.",
                style="dim"))
        table.focus()

    def highlighted(self) -> timeline.Attempt | None:
        table = self.query_one("#attempts", DataTable)
        if not self.attempts or table.cursor_row < 0:
            return None
        return self.attempts[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        attempt = self.highlighted()
        if attempt is None:
            return
        changes = timeline.diff(timeline.current(self.doc), attempt)
        body = Text()
        body.append(f"{attempt.id} ({attempt.kind}, {attempt.when}) vs the current list\n\n",
                    style="bold")
        body.append_text(diff_text(changes))
        self.query_one("#history-diff", Static).update(body)

    def action_restore(self) -> None:
        attempt = self.highlighted()
        if attempt is not None:
            self.dismiss(attempt)

    def action_close(self) -> None:
        self.dismiss(None)
