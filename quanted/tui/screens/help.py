"""Every key, generated from the keymap (so remapped keys show as remapped)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from quanted.tui.keymap import ALL_KEYS, ENGINE_SCREEN_KEYS, NAVIGATION, RUN_KEYS, VERIFY_KEYS, \
    display_key

KEY_WIDTH = 11


def help_text(overrides: dict[str, str] | None = None) -> Content:
    parts: list[str | tuple[str, str]] = []

    def row(key: str, text: str, style: str = "bold $text-accent") -> None:
        parts.extend([(key.ljust(KEY_WIDTH), style), text, "\n"])

    for title, specs in (("Edit", [s for s in ALL_KEYS if s.id.startswith("edit.")]),
                         ("View", [s for s in ALL_KEYS if s.id.startswith("view.")]),
                         ("File and app", [s for s in ALL_KEYS
                                           if s.id.startswith(("file.", "app."))]),
                         ("Engine", [s for s in ALL_KEYS if s.id.startswith("engine.")]),
                         ("Hybrid run and verify screens",
                          [*ENGINE_SCREEN_KEYS, *RUN_KEYS, *VERIFY_KEYS])):
        parts.extend([(title, "bold underline"), "\n"])
        for spec in specs:
            row(display_key(spec, overrides), spec.tooltip)
        parts.append("\n")
    parts.extend([("Move", "bold underline"), "\n"])
    for key, text in NAVIGATION:
        row(key, text)
    parts.extend(["\n", ("Table marks: ● customized  * unsaved change  ! not in the file", "dim")])
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        overrides = getattr(self.app, "keymap_overrides", None)
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label("quanted keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(help_text(overrides), id="help-text")
            yield Label("esc / q / ? close · ctrl+p command palette", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
