"""The editor: layers table, customized block, histogram, status line, and every action.
The open file's state is its EditSession (tui/session.py): the screen draws it and asks the
dialogs. Blocking work runs in threads. A flow that asks more than once (save first, quit,
changed on disk, keep my edits, run after save, history) is one `@work` coroutine awaiting
`self.app.push_screen_wait(dialog)`; an engine step (ctrl+r, v, T) is a screen in
engine_steps.ENGINE_STEPS.

Past 400 lines: the editor's own actions and flows, one screen (its state is the session, its
checks and metric are helpers beside it)."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from quanted.core.format import qtypes
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import EntropyReport
from quanted.core.errors import QuantedError, describe
from quanted.core.disk.files import FileLockedError, ReadOnlyError
from quanted.tui import loading, type_ahead, wording
from quanted.tui.commands import QuantedCommands
from quanted.tui.dialogs import changed_on_disk, quit_confirm, save_first, save_refused
from quanted.tui.dialogs.comment import CommentDialog
from quanted.tui.dialogs.open_report import OpenReport
from quanted.tui.dialogs.qtype_picker import QtypePicker
from quanted.tui.keymap import MAIN_KEYS
from quanted.tui.messages import BulkAdded, FileRead, QtypesReady
from quanted.tui.screens.checks import FileChecks
from quanted.tui.screens.metric import MetricSwitch
from quanted.tui.session import EditSession, SaveResult
from quanted.tui.widgets.customized_pane import CustomizedPane, counts
from quanted.tui.widgets.histogram import Histogram
from quanted.tui.widgets.key_hints import KeyHints
from quanted.tui.widgets.layers_pane import LayersPane
from quanted.tui.widgets.layer_table import SORT_TITLES, LayerTable
from quanted.tui.widgets.status_bar import Status, StatusBar

if TYPE_CHECKING:  # numpy and the engine screens load after the first paint
    from quanted.tui.row_model import RowModel
    from quanted.tui.screens.engine_base import EngineScreen


class MainScreen(Screen[None]):
    BINDINGS = [spec.binding() for spec in MAIN_KEYS]
    COMMANDS = {QuantedCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#layers"

    status: reactive[Status] = reactive(Status, init=False)  # what the status line shows

    def __init__(self, path: Path, entropy: Path | None, display_name: str, note: str = "") -> None:
        super().__init__()
        self.note = note
        self.session = EditSession(path, entropy, display_name, on_change=self.refresh_status)
        self.checks = FileChecks(self.session, self)  # what `quanted check` finds: `!`
        self.metric = MetricSwitch(self.session, self)  # entropy or drop: the histogram, `>`, `m`

    # The session's state, as the screen's actions and the tests read it.

    @property
    def doc(self) -> QuantizeDocument | None:
        return self.session.doc

    @property
    def report(self) -> EntropyReport | None:
        return self.session.report

    @property
    def model(self) -> RowModel | None:
        return self.session.model

    @property
    def display_name(self) -> str:
        return self.session.display_name

    @property
    def threshold(self) -> float | None:
        return self.metric.threshold

    @property
    def above(self) -> int:
        return self.metric.above

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield LayersPane(id="left")
            with Vertical(id="right"):
                yield CustomizedPane(id="customized")
                yield Histogram(id="histogram")
        yield StatusBar(id="status").data_bind(MainScreen.status)
        yield KeyHints(id="keys")

    @property
    def table(self) -> LayerTable:
        return self.query_one(LayerTable)

    @property
    def histogram(self) -> Histogram:
        return self.query_one(Histogram)

    def on_mount(self) -> None:
        self.table.border_title = "layers"
        self.table.placeholder = f"Loading {self.display_name}…"
        first = self.session.first_rows()  # the first frame shows them, not the placeholder
        if first is not None:
            self.table.set_model(first.model, first.saved)
        self.histogram.border_title = "entropy (tensors, log scale)"
        self.refresh_status()
        self.load()

    # -- state -> status line ---------------------------------------------------------------

    def refresh_status(self) -> None:
        doc, model = self.doc, self.model
        self.status = Status(
            name=self.display_name, note=self.note, busy=self.session.busy,
            modified=bool(doc and doc.is_modified), customized=doc.customized_count() if doc else 0,
            layers=len(model.rows) if model else 0, shown=len(model) if model else 0,
            threshold=self.threshold, above=self.above, metric=model.metric if model else "",
            sort=SORT_TITLES.get(model.sort, "") if model else "",
            filter=model.filter_text if model else "", problems=self.checks.status())

    def _ready(self) -> bool:
        """True when edits may run now (loaded, not saving); else it says why."""
        why = self.session.not_ready()
        if why is not None:
            self.notify(why, severity="warning")
        return why is None

    # -- thread workers: load, per-layer qtypes, bulk add ---------------------------------

    def reload(self, *, entropy: bool = False, keep_edits: bool = False) -> None:
        """The file from disk again; `entropy`: entropy.txt too; `keep_edits`: replay the
        unsaved edits on it."""
        self.session.busy = "reloading…"
        self.load(reload=True, entropy=entropy, keep_edits=keep_edits)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, reload: bool = False, entropy: bool = False, keep_edits: bool = False) -> None:
        result, skipped = self.session.read(again=reload, entropy=entropy,
                                            keep_edits=keep_edits,
                                            show_first=self.table.show_first)
        self.post_message(FileRead(result, reload, skipped))

    @work(thread=True, exclusive=True, exit_on_error=False, group="qtypes")
    def load_qtypes(self, doc: QuantizeDocument) -> None:
        self.post_message(QtypesReady(doc, loading.checked_qtypes(doc, self.model)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="edit", description=">")
    def bulk_add(self, layers: list[str], threshold: float) -> None:
        assert self.doc is not None
        loading.set_layers(self.doc, layers, qtypes.DEFAULT_QTYPE)
        self.post_message(BulkAdded(len(layers), threshold))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures are handled (flows handle the ones they expect)."""
        if event.state != WorkerState.ERROR:
            return
        group, error = event.worker.group, event.worker.error
        self.session.busy = ""
        if group == "load" and self.doc is None:
            # The app's result is why it could not open the file (the CLI prints it).
            code = error.exit_code if isinstance(error, QuantedError) else 2
            self.app.exit(result=describe(error), return_code=code)
        else:
            self.notify(describe(error), title=f"{group} failed", severity="error", timeout=8)

    @on(FileRead)
    def _file_read(self, message: FileRead) -> None:
        self.install(message.result, message.reloaded)
        self._announce(message.reloaded, message.skipped)

    def _announce(self, reloaded: bool, skipped: list[str] | None) -> None:
        """After a load: `skipped` is None unless the unsaved edits were replayed (then: the
        ones that could not be)."""
        if skipped is None:
            if reloaded:
                self.notify(f"Reloaded {self.display_name} from disk.")
        elif skipped:
            self.notify("Not replayed:\n" + "\n".join(skipped),
                        title="Reloaded, keeping edits", severity="warning", timeout=12)
        else:
            self.notify("Your unsaved edits were replayed on the file from disk (unsaved).")

    def install(self, result: loading.LoadedFile, reloaded: bool) -> None:
        """Show a document read from disk. The cursor stays on its layer after a reload, and
        where it was moved over the top rows shown first."""
        keep = self.table.current.layer if self.table.current else None
        self.session.install(result)
        self.table.set_model(result.model, result.doc.saved_customized)
        if keep is not None:
            self.table.rows_changed(keep=keep)
        self.metric.show()  # the histogram and the threshold (entropy until the analysis)
        self._edited()
        # After the first paint: one regex pass over the whole file holds the GIL ~0.2 s.
        self.set_timer(0.1, lambda doc=result.doc: (self.load_qtypes(doc), self.checks.run(doc)))
        self.metric.load_analysis()
        if not reloaded:
            self.post_message(type_ahead.Ready())  # the keys typed while it loaded

    @on(QtypesReady)
    def _qtypes_ready(self, message: QtypesReady) -> None:
        if self.model is not None and message.doc is self.doc:
            self.model.file_qtypes = message.qtypes_by_layer
            self.model.applied = message.applied
            self.table.refresh()
            self.query_one(LayersPane).refresh_full_id()  # "not applied yet" is known now

    @on(BulkAdded)
    def _bulk_added(self, message: BulkAdded) -> None:
        self.session.busy = ""
        self._edited()
        self.notify(f"Added {message.count} layers at or above {message.threshold:g} "
                    "(ctrl+z undoes them together).")

    # -- flows: each reads top to bottom, awaiting its dialogs ----------------------------

    async def saved(self, overwrite: bool = False, force: bool = False, said: str = "") -> bool:
        """Write the edits (in a thread) and say so (`said`, else "Saved NAME."). A file changed
        on disk asks: reload, keep my edits (and save), overwrite, cancel. True when the file
        on disk holds the edits."""
        session = self.session
        doc = session.doc
        assert doc is not None
        if not doc.is_modified and not overwrite:
            return True
        session.busy = "saving…"
        outcome = await asyncio.to_thread(session.save, overwrite=overwrite, force=force)
        session.busy = ""
        if outcome.result == SaveResult.REFUSED:
            assert isinstance(outcome.error, (FileLockedError, ReadOnlyError))
            return (await save_refused.write_anyway(self.app, outcome.error)
                    and await self.saved(force=True))
        if outcome.result == SaveResult.CHANGED_ON_DISK:
            choice = await self.app.push_screen_wait(changed_on_disk.ChangedOnDisk(
                self.display_name))
            if choice == changed_on_disk.OVERWRITE:
                return await self.saved(overwrite=True)
            if choice == changed_on_disk.KEEP:
                return await self.keep_edits_and_save()
            if choice == changed_on_disk.RELOAD:
                self.reload()
            return False
        if outcome.result == SaveResult.FAILED:  # the edits stay
            self.notify(describe(outcome.error), title="save failed", severity="error",
                        timeout=8)
            return False
        self.table.saved = doc.saved_customized
        self._edited()
        self.notify(said or f"Saved {self.display_name}.")
        self.metric.load_analysis()  # the file changed: a shown analysis may now be stale
        return True

    async def keep_edits_and_save(self) -> bool:
        """The changed-on-disk dialog's "Keep my edits": the file as another writer left it,
        with the unsaved edits re-applied on top, saved. An edit that cannot be re-applied
        (its layer is gone) is named and nothing is saved: the others stay as unsaved edits,
        for the user to look at first. True when the file on disk holds the edits."""
        session = self.session
        session.busy = "reloading, keeping your edits…"
        try:
            result, skipped = await asyncio.to_thread(session.read_keeping_edits)
        except Exception as error:  # noqa: BLE001 - any failure is shown; the edits stay
            session.busy = ""
            self.notify(describe(error), title="reload failed", severity="error", timeout=8)
            return False
        self.install(result, reloaded=True)
        name = self.display_name
        if skipped:
            self.notify("\n".join(skipped) + "\nThe other edits are re-applied, not saved "
                        "(ctrl+s saves them).", title=f"Reloaded {name}; not saved",
                        severity="warning", timeout=15)
            return False
        if not result.doc.is_modified:
            self.notify(f"Reloaded {name}: the file on disk already holds your edits.")
            return True
        return await self.saved(said=f"Reloaded {name} from disk, re-applied your edits "
                                     "and saved.")

    def action_save(self) -> None:
        if not self._ready():
            return
        assert self.doc is not None
        if not self.doc.is_modified:
            self.notify("No unsaved changes.")
            return
        self.save_flow()

    @work(group="flow", exit_on_error=False)
    async def save_flow(self) -> None:
        await self.saved()

    def request_quit(self) -> None:
        if not self.session.is_modified:
            self.app.exit()
        elif self.session.busy:
            self.notify(f"Wait: {self.session.busy}", severity="warning")
        else:
            self.quit_flow()

    @work(group="flow", exit_on_error=False)
    async def quit_flow(self) -> None:
        assert self.doc is not None
        summary = counts(self.doc.unsaved_changes())
        dialog = quit_confirm.QuitConfirm(self.display_name, summary)
        choice = await self.app.push_screen_wait(dialog)
        if choice == quit_confirm.DISCARD or (choice == quit_confirm.SAVE and await self.saved()):
            self.app.exit()

    def action_engine_step(self, name: str) -> None:
        from quanted.core.engine.warm import prewarm_found
        from quanted.tui.screens.engine_steps import ENGINE_STEPS

        if self._ready():
            if self.doc is not None and self.doc.path is not None:  # imports while asked
                self.run_worker(partial(prewarm_found, self.doc.path.parent), thread=True,
                                group="warm-engine", exit_on_error=False)
            self.engine_step_flow(ENGINE_STEPS[name])

    @work(group="flow", exit_on_error=False)
    async def engine_step_flow(self, screen: type[EngineScreen]) -> None:
        """Save first (asked: pegasus reads the disk), the step, re-read what it rewrote."""
        assert self.doc is not None
        if self.doc.is_modified:
            choice = await self.app.push_screen_wait(save_first.SaveFirst(
                self.display_name, counts(self.doc.unsaved_changes()), screen.VERB))
            if choice != save_first.SAVE or not self._ready() or not await self.saved():
                return
        # Made after the save: "Keep my edits" saves a document read again from disk.
        step = screen(self.doc, self.display_name)
        ran = await self.app.push_screen_wait(step)
        if ran and step.REWRITES_FILE:
            self.reload(entropy=True)
        if step.then is not None:  # the step edited `doc` (tune's apply): show it, offer the next
            self._edited()
            self.action_engine_step(step.then)

    # -- edits ------------------------------------------------------------------------------

    def _edited(self, focus: str | None = None) -> None:
        """After any change of the document: refresh the rows, the pane, the status."""
        if self.doc is None or self.model is None:
            return
        with self.app.batch_update(), loading.gc_paused():
            before = len(self.model.rows)
            self.model.refresh_customized(self.doc.customized)
            if focus is not None or len(self.model.rows) != before:
                self.table.rows_changed(keep=focus)
            else:
                self.table.refresh()
            self.query_one(CustomizedPane).show(self.doc, self.model)
            self.refresh_status()

    def action_toggle_layer(self) -> None:
        row = self.table.current
        if row is None or not self._ready():
            return
        assert self.doc is not None
        if row.customized is not None:
            self.doc.remove_layer(row.layer)
        elif refused := wording.cannot_add(row):
            self.notify(refused, severity="warning")
            return
        else:
            self.doc.set_layer(row.layer, qtypes.DEFAULT_QTYPE)
        self._edited()

    @work(group="flow", exit_on_error=False)
    async def action_choose_qtype(self) -> None:
        row = self.table.current
        if row is None or not self._ready():
            return
        if row.customized is None and (refused := wording.cannot_add(row)):
            self.notify(refused, severity="warning")
            return
        qtype = await self.app.push_screen_wait(QtypePicker(row.layer, row.customized))
        if qtype is not None and self._ready():
            assert self.doc is not None
            self.doc.set_layer(row.layer, qtype)
            self._edited()

    @work(group="flow", exit_on_error=False)
    async def action_add_above_threshold(self) -> None:
        if not self._ready():
            return
        model = self.model
        assert model is not None
        if self.threshold is None:  # entropy without a report (drop always has one)
            self.notify("No entropy report: nothing to compare a threshold with (with an "
                        "analysis, m ranks by drop).", severity="warning")
            return
        value = await self.app.push_screen_wait(self.metric.threshold_dialog())
        if value is None or not self._ready():
            return
        self.metric.set_threshold(value)
        layers = model.layers_to_add(value)
        self.session.busy = f"adding {len(layers)} layers…"
        self.bulk_add(layers, value)

    @work(group="flow", exit_on_error=False)
    async def action_edit_comment(self) -> None:
        row = self.table.current
        if row is None or not self._ready():
            return
        assert self.doc is not None
        if row.customized is None:
            self.notify("Only customized layers carry a comment: add it first (space).",
                        severity="warning")
            return
        current = self.doc.comments().get(row.layer)
        text = await self.app.push_screen_wait(CommentDialog(row.layer, current))
        if text is not None and self._ready():
            self.doc.set_comment(row.layer, text or None)
            self._edited()

    def _undo_or_redo(self, redo: bool) -> None:
        if not self._ready():
            return
        undone = self.session.undo(redo=redo)
        if not undone.done:
            self.notify(f"Nothing to {'redo' if redo else 'undo'}.")
            return
        self._edited(focus=undone.focus)

    def action_undo(self) -> None:
        self._undo_or_redo(redo=False)

    def action_redo(self) -> None:
        self._undo_or_redo(redo=True)

    def action_filter(self) -> None:
        self.query_one(LayersPane).open_filter()

    def action_clear_filter(self) -> None:
        self.query_one(LayersPane).clear_filter()

    def action_cycle_sort(self) -> None:
        self.query_one(LayersPane).cycle_sort()

    def action_switch_metric(self) -> None:
        self.metric.switch()

    def action_show_problems(self) -> None:
        self.checks.show_problems()

    def action_open_report(self) -> None:
        """Another entropy report (from the palette): the file read again with it, the unsaved
        edits replayed."""
        session = self.session

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            if not path.is_file():
                self.notify(f"{path}: no such file", severity="error")
                return
            session.entropy = path
            self.reload(entropy=True, keep_edits=session.is_modified)

        current = session.report.path if session.report is not None else None
        self.app.push_screen(OpenReport(session.path.parent, current), chosen)

    @work(group="flow", exit_on_error=False)
    async def history_flow(self) -> None:
        """h: show the attempts; the one chosen becomes one undoable edit (unsaved)."""
        from quanted.core.state import timeline
        from quanted.tui.screens.history import HistoryScreen

        if not self._ready():
            return
        doc = self.doc
        assert doc is not None
        attempt = await self.app.push_screen_wait(HistoryScreen(doc, self.display_name))
        if attempt is None or not self._ready():
            return
        try:
            timeline.restore(doc, attempt)
        except QuantedError as exc:
            self.notify(exc.message, severity="error", timeout=10)
            return
        self._edited()
        self.notify(f"Restored attempt {attempt.id}'s list (ctrl+z undoes it; ctrl+s saves).")

    @on(LayersPane.ViewChanged)
    def _view_changed(self) -> None:
        self.refresh_status()
