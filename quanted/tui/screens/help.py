"""Every key, generated from the keymap (so remapped keys show as remapped).

Two columns, so a long explanation wraps within its own column, not under the keys."""

from __future__ import annotations

from collections.abc import Iterator

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from quanted.tui.keymap import (
    ALL_KEYS,
    ENGINE_SCREEN_KEYS,
    NAVIGATION,
    RUN_KEYS,
    VERIFY_KEYS,
    display_key,
)

MARKS = ("Table marks: ● customized  * unsaved change  ! not in the file  "
         "⇄ converter layer a hybrid run inserted (never added by >)")


Section = tuple[str, list[tuple[str, str]]]


def sections(overrides: dict[str, str] | None = None) -> Iterator[Section]:
    """(title, [(key, explanation), ...]) in the order the help screen shows them."""

    def rows(prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(display_key(s, overrides), s.tooltip) for s in ALL_KEYS
                if s.id.startswith(prefixes)]

    yield "Edit", rows(("edit.",))
    yield "View", rows(("view.",))
    yield "File and app", rows(("file.", "app."))
    yield "Engine", rows(("engine.",))
    yield "Hybrid run and verify screens", [
        (display_key(s, overrides), s.tooltip)
        for s in (*ENGINE_SCREEN_KEYS, *RUN_KEYS, *VERIFY_KEYS)]
    yield "Move", list(NAVIGATION)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        overrides = getattr(self.app, "keymap_overrides", None)
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label("quanted keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                for title, rows in sections(overrides):
                    yield Label(title, classes="help-section")
                    with Grid(classes="help-grid"):
                        for key, text in rows:
                            yield Static(key, classes="help-key", markup=False)
                            yield Static(text, classes="help-text", markup=False)
                yield Static(MARKS, classes="help-marks", markup=False)
            yield Label("esc / q / ? close · ctrl+p command palette", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
