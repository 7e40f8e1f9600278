"""One line: saved state, file name, counts, sort and filter, and the last message."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class Status:
    name: str = ""
    modified: bool = False
    layers: int = 0
    shown: int = 0
    customized: int = 0
    threshold: float | None = None
    above: int = 0
    sort: str = ""
    filter: str = ""
    busy: str = ""  # "loading…", "saving…"
    note: str = ""  # e.g. where the sample was copied


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
        parts += [(s.name, "bold"), "  "]
        counts = f"{s.layers} layers"
        if s.filter:
            counts = f"{s.shown}/{s.layers} layers (filter: {s.filter})"
        parts += [counts, " · ", f"{s.customized} customized"]
        if s.threshold is not None:
            parts += [" · ", f"{s.above} ≥ {s.threshold:.2f}"]
        if s.sort:
            parts += [" · ", ("sort " + s.sort, "dim")]
        if s.note:
            parts += ["  ", (s.note, "italic")]
        return Content.assemble(*parts)
