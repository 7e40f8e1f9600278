"""The customized block as it will be saved, with a mark per unsaved line.

Marks: `+` added, `~` qtype or comment changed, `-` removed (listed after the block).
Flags after a line: the layer is not in the file, or the 6.x engine cannot apply the qtype.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from quanted.core import qtypes
from quanted.core.document import QuantizeDocument
from quanted.tui.row_model import RowModel

MARK_STYLES = {"+": "bold $text-success", "~": "bold $text-warning", "-": "bold $text-error"}


def changes(doc: QuantizeDocument, saved_comments: dict[str, str]) -> dict[str, str]:
    """Layer -> '+', '~' or '-' for every unsaved difference from the file on disk."""
    now, saved = doc.customized, doc.saved_customized
    comments = doc.comments()
    found: dict[str, str] = {}
    for layer, qtype in now.items():
        if layer not in saved:
            found[layer] = "+"
        elif saved[layer] != qtype or comments.get(layer) != saved_comments.get(layer):
            found[layer] = "~"
    for layer in saved:
        if layer not in now:
            found[layer] = "-"
    return found


def summary(marks: dict[str, str]) -> str:
    if not marks:
        return "saved"
    counts = {m: sum(1 for v in marks.values() if v == m) for m in "+~-"}
    return f"unsaved: +{counts['+']} ~{counts['~']} -{counts['-']}"


class CustomizedPane(VerticalScroll, can_focus=True):
    """Scrolls with the keyboard when focused (tab)."""

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="customized-text", markup=False)

    def show(self, doc: QuantizeDocument, saved_comments: dict[str, str], model: RowModel) -> None:
        marks = changes(doc, saved_comments)
        count = len(doc.customized)
        self.border_title = f"customized_quantize_layers ({count})"
        self.border_subtitle = summary(marks)
        parts: list[str | tuple[str, str] | Content] = []
        state = doc.block_state
        parts += [("  " + state.header, "bold"), "\n"]
        for line in state.lines:
            if line.key is None:
                parts += [("  " + line.text, "dim italic"), "\n"]
                continue
            mark = marks.get(line.key, " ")
            parts.append((mark + " ", MARK_STYLES.get(mark, "")))
            text = line.text.lstrip(" ")
            body, hash_, comment = text.partition("#") if line.comment else (text, "", "")
            parts.append(body.rstrip() if hash_ else body)
            if hash_:
                parts += ["  ", ("#" + comment, "italic $text-secondary")]
            row = model.by_layer.get(line.key)
            if row is not None and not row.in_file:
                parts.append(("  ! not in the file", "$text-error"))
            if line.value is not None and not qtypes.engine_applies(line.value):
                parts.append(("  ! " + qtypes.describe(line.value), "$text-warning"))
            parts.append("\n")
        removed = [layer for layer, mark in marks.items() if mark == "-"]
        if removed:
            parts += [("removed (will be dropped on save):", "dim"), "\n"]
            for layer in removed:
                parts += [("- ", MARK_STYLES["-"]),
                          (f"{layer}: {doc.saved_customized[layer]}", "strike dim"), "\n"]
        self.query_one("#customized-text", Static).update(Content.assemble(*parts).rstrip())
