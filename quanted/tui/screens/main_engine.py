"""The main screen's file and engine flows, kept out of main.py: ctrl+r (hybrid run) and v
(verify), each saving first after asking; the reload after a run; the changed-on-disk choice
(including "reload keeping my edits"); quitting with unsaved changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work

from quanted.core.rebase import reload_keeping_edits
from quanted.tui import loading
from quanted.tui.dialogs.quit_confirm import QuitConfirm
from quanted.tui.dialogs.save_first import SaveFirst
from quanted.tui.widgets.customized_pane import changes, counts

if TYPE_CHECKING:
    from quanted.tui.screens.main import MainScreen


class MainFlows:
    """Mixed into MainScreen (which supplies doc, busy, load, action_save, ...)."""

    # -- ctrl+r and v ----------------------------------------------------------------------

    def action_hybrid_run(self: MainScreen) -> None:
        self._saved_then("run pegasus --hybrid", self._open_run)

    def action_verify(self: MainScreen) -> None:
        self._saved_then("verify", self._open_verify)

    def _saved_then(self: MainScreen, verb: str, then: Callable[[], object]) -> None:
        """pegasus reads the file from disk: unsaved edits are saved first, after asking.
        A file changed on disk meanwhile goes through the changed-on-disk dialog (save)."""
        if not self._ready():
            return
        assert self.doc is not None
        if not self.doc.is_modified:
            then()
            return

        def chosen(choice: str | None) -> None:
            if choice == "save" and self._ready():
                self.after_save = then
                self.action_save()

        summary = counts(changes(self.doc))
        self.app.push_screen(SaveFirst(self.display_name, summary, verb), chosen)

    def _open_run(self: MainScreen) -> None:
        from quanted.tui.screens.run import RunScreen

        self.app.push_screen(RunScreen(self.path, self.display_name), self._engine_closed)

    def _open_verify(self: MainScreen) -> None:
        from quanted.tui.screens.verify import VerifyScreen

        self.app.push_screen(VerifyScreen(self.path, self.display_name))

    def _engine_closed(self: MainScreen, ran: bool | None) -> None:
        """After a hybrid run: the file and entropy.txt again (pegasus rewrote both)."""
        if ran:
            self.busy = "reloading…"
            self._refresh_status()
            self.load(reload=True, entropy=True)

    # -- changed on disk ---------------------------------------------------------------------

    def _changed_on_disk_chosen(self: MainScreen, choice: str | None) -> None:
        if choice == "overwrite":
            self.action_save(overwrite=True)
            return
        self.after_save = None
        if choice in ("reload", "keep"):
            self.busy = "reloading…"
            self._refresh_status()
            if choice == "reload":
                self.load(reload=True)
            else:
                self.reload_keeping()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def reload_keeping(self: MainScreen) -> None:
        assert self.doc is not None
        fresh, skipped = reload_keeping_edits(self.doc)
        result = loading.from_doc(fresh, self.report)
        self.app.call_from_thread(self._kept, result, skipped)

    def _kept(self: MainScreen, result: loading.Loaded, skipped: list[str]) -> None:
        from quanted.tui.messages import Loaded

        self._loaded(Loaded(result, reloaded=True))
        if skipped:
            self.notify("Not replayed:\n" + "\n".join(skipped), title="Reloaded, keeping edits",
                        severity="warning", timeout=12)
        else:
            self.notify("Your unsaved edits were replayed on the file from disk (unsaved).")

    # -- quit --------------------------------------------------------------------------------

    def request_quit(self: MainScreen) -> None:
        if self.doc is None or not self.doc.is_modified:
            self.app.exit()
            return
        if self.busy:
            self.notify(f"Wait: {self.busy}", severity="warning")
            return

        def chosen(choice: str | None) -> None:
            if choice == "discard":
                self.app.exit()
            elif choice == "save":
                self.after_save = self.app.exit
                self.action_save()

        marks = changes(self.doc)
        self.app.push_screen(QuitConfirm(self.display_name, counts(marks)), chosen)
