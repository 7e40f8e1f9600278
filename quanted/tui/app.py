"""The quanted editor app: keymap, screens. The work happens in screens/ and widgets/."""

from __future__ import annotations

from pathlib import Path

from textual import events, on
from textual.app import App
from textual.screen import ModalScreen, Screen

from quanted.tui import type_ahead

from quanted.tui.dialogs.quit_confirm import QuitConfirm
from quanted.tui.keymap import APP_KEYS
from quanted.tui.screens.main import MainScreen

# Screens the first paint does not show are imported when first opened: the editor's launch
# time is mostly imports.


class QuantedApp(App[str]):
    """`QuantedApp(path, entropy)`; `display_name` is what the screen calls the file. `run()`
    returns why the file could not be opened (with return_code 2), else None."""

    TITLE = "quanted"
    CSS_PATH = ["styles/app.tcss", "styles/dialogs.tcss", "styles/engine.tcss"]
    BINDINGS = [spec.binding() for spec in APP_KEYS]

    def __init__(
        self,
        path: str | Path,
        entropy: str | Path | None = None,
        *,
        display_name: str | None = None,
        note: str = "",
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.entropy = Path(entropy) if entropy is not None else None
        self.display_name = display_name if display_name is not None else str(path)
        self.note = note
        self.keymap_overrides = dict(keymap or {})
        self.type_ahead = type_ahead.TypeAhead()
        self.task_check = ""  # the check command verify and tune last ran (--check), kept

    def get_default_screen(self) -> Screen:
        if self.path.suffix == ".json" or self.path.is_dir():
            return Screen()  # a model without a .quantize yet: the quantize form comes first
        return MainScreen(self.path, self.entropy, self.display_name, self.note)

    def on_mount(self) -> None:
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)
        if not isinstance(self.screen, MainScreen):
            from quanted.tui.screens.quantize import QuantizeScreen

            self.push_screen(QuantizeScreen(self.path), self._quantized)

    def _quantized(self, written: Path | None) -> None:
        if written is None:
            self.exit()
            return
        self.path, self.display_name = written, str(written)
        # Over the blank first screen, once the form is gone.
        self.call_later(self.push_screen,
                        MainScreen(written, None, str(written), "(just quantized)"))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and self._held(event):
            return
        await super().on_event(event)

    def _held(self, event: events.Key) -> bool:
        """Keep a key the editor cannot act on yet (type_ahead.py)."""
        screen = self.screen
        if not isinstance(screen, MainScreen):
            return self.type_ahead.hold(event, loading=False, acts_now=True)
        found = self.active_bindings.get(event.key)
        moves = (found is not None and found.node is screen.table
                 and screen.table.model is not None)
        quits = found is not None and found.binding.action in ("quit", "app.quit")
        return self.type_ahead.hold(event, not screen.session.loaded, moves or quits)

    @on(type_ahead.Ready)
    async def _replay(self) -> None:
        """One held key: its binding run to the end (a forwarded key would reach its widget
        after a priority key such as ctrl+q had already acted), else the key to the focused
        widget (typing into the filter); the next once the screen caught up (the key may have
        opened a dialog that the next one types into)."""
        event = self.type_ahead.next()
        if event is None:
            return
        found = self.active_bindings.get(event.key)
        if found is not None:
            await self.run_action(found.binding.action, found.node)
        else:
            await super().on_event(event)
        if self.type_ahead.held:
            self.call_after_refresh(self.post_message, type_ahead.Ready())

    @property
    def main(self) -> MainScreen:
        return next(s for s in self.screen_stack if isinstance(s, MainScreen))

    def action_history(self) -> None:
        """h on the editor: the attempts; a restore is one undoable edit (screens/history.py)."""
        self.main.history_flow()

    def action_help(self) -> None:
        from quanted.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """ctrl+q: close dialogs first, then ask when there are unsaved changes."""
        if isinstance(self.screen, QuitConfirm):
            return
        if any(getattr(s, "state", None) == "running" for s in self.screen_stack):
            self.notify("pegasus is running: esc cancels it first.", severity="warning")
            return
        for _ in range(sum(isinstance(s, ModalScreen) for s in self.screen_stack)):
            await self.screen.dismiss(None)
        if not any(isinstance(s, MainScreen) for s in self.screen_stack):
            self.exit()  # the quantize form: nothing to save yet
            return
        self.main.request_quit()
