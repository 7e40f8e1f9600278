"""One line: saved state, file name, counts, sort and filter, and the last message."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from quanted.tui.wording import count, threshold


@dataclass(frozen=True)
class Status:
    name: str = ""
    modified: bool = False
    layers: int = 0
    shown: int = 0
    customized: int = 0
    threshold: float | None = None
    above: int = 0
    metric: str = ""  # what the threshold compares: named when it is not entropy
    sort: str = ""
    filter: str = ""
    busy: str = ""  # "loading…", "saving…"
    note: str = ""  # e.g. where the sample was copied
    # What `quanted check` finds ("2 errors, 1 warning", any errors); `!` lists them.
    problems: tuple[str, bool] = ("", False)


class StatusBar(Widget):
    """Repaints when `status` changes (the main screen data-binds its own `status` to it)."""

    status: reactive[Status] = reactive(Status)

    def render(self) -> Content:
        s = self.status
        parts: list[str | tuple[str, str]] = []
        if s.busy:
            parts += [(f" {s.busy} ", "reverse $text-accent"), " "]
        elif s.modified:
            parts += [(" UNSAVED ", "bold reverse $text-warning"), " "]
        else:
            parts += [(" saved ", "reverse $text-success"), " "]
        if s.problems[0]:
            style = "bold reverse $text-error" if s.problems[1] else "bold $text-warning"
            parts += [(f" {s.problems[0]} (! lists) ", style), " "]
        parts += [(s.name, "bold"), "  "]
        counts = count(s.layers, "layer")
        if s.filter:
            counts = f"{s.shown}/{count(s.layers, 'layer')} (filter: {s.filter})"
        parts += [counts, " · ", f"{s.customized} customized"]
        if s.threshold is not None:
            metric = f" {s.metric}" if s.metric and s.metric != "entropy" else ""
            parts += [" · ", f"{s.above}{metric} ≥ {threshold(s.threshold)}"]
        if s.sort:
            parts += [" · ", ("sort " + s.sort, "dim")]
        if s.note:
            parts += ["  ", (s.note, "italic")]
        return Content.assemble(*parts)
