"""The editor: layers table, customized block, histogram, status line; every edit action.
The file and engine flows (ctrl+r, v, changed on disk, quit) are in main_engine.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from quanted.core import qtypes
from quanted.core.document import QuantizeDocument
from quanted.core.entropy import EntropyReport
from quanted.core.errors import FileChangedError, QuantedError
from quanted.tui import loading
from quanted.tui.commands import QuantedCommands
from quanted.tui.dialogs.changed_on_disk import ChangedOnDisk
from quanted.tui.dialogs.comment import CommentDialog
from quanted.tui.dialogs.filter_input import FilterBar
from quanted.tui.dialogs.qtype_picker import QtypePicker
from quanted.tui.dialogs.threshold import ThresholdDialog
from quanted.tui.keymap import MAIN_KEYS
from quanted.tui.messages import BulkAdded, Loaded, QtypesReady, Saved
from quanted.tui.row_model import RowModel, default_threshold
from quanted.tui.screens.main_engine import MainFlows
from quanted.tui.widgets.customized_pane import CustomizedPane
from quanted.tui.widgets.histogram import Histogram
from quanted.tui.widgets.key_hints import KeyHints
from quanted.tui.widgets.layer_table import SORT_TITLES, LayerTable
from quanted.tui.widgets.status_bar import StatusBar


class MainScreen(MainFlows, Screen[None]):
    BINDINGS = [spec.binding() for spec in MAIN_KEYS]
    COMMANDS = {QuantedCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#layers"

    def __init__(self, path: Path, entropy: Path | None, display_name: str, note: str = "") -> None:
        super().__init__()
        self.path = path
        self.entropy = entropy
        self.display_name = display_name
        self.note = note
        self.doc: QuantizeDocument | None = None
        self.report: EntropyReport | None = None
        self.model: RowModel | None = None
        self.threshold: float | None = None
        self.above = 0
        self.busy = "loading…"
        self.after_save: Callable[[], object] | None = None
        self._id_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield LayerTable(id="layers")
                yield FilterBar(id="filter-bar")
            with Vertical(id="right"):
                yield CustomizedPane(id="customized")
                yield Histogram(id="histogram")
        yield StatusBar(id="status")
        yield KeyHints(id="keys")

    @property
    def table(self) -> LayerTable:
        return self.query_one(LayerTable)

    def on_mount(self) -> None:
        self.table.border_title = "layers"
        self.table.placeholder = f"Loading {self.display_name}…"
        self.query_one(Histogram).border_title = "entropy (tensors, log scale)"
        self._refresh_status()
        self.load()

    # -- workers: load, per-layer qtypes, save, bulk add --------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, reload: bool = False, entropy: bool = False) -> None:
        """`reload`: keep the cursor row; `entropy`: read entropy.txt again too."""
        if reload and self.report is not None and not entropy:
            result = loading.reload(self.path, self.report)
        else:
            result = loading.load(self.path, self.entropy)
        self.post_message(Loaded(result, reload))

    @work(thread=True, exclusive=True, exit_on_error=False, group="qtypes")
    def load_qtypes(self, doc: QuantizeDocument) -> None:
        self.post_message(QtypesReady(doc, loading.checked_qtypes(doc, self.model)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def save(self, overwrite: bool = False) -> None:
        assert self.doc is not None
        self.post_message(Saved(self.doc.save(overwrite=overwrite)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="edit")
    def bulk_add(self, layers: list[str], threshold: float) -> None:
        assert self.doc is not None
        self.doc.set_layers(dict.fromkeys(layers, qtypes.DEFAULT_QTYPE))
        self.post_message(BulkAdded(len(layers), threshold))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures are handled."""
        if event.state != WorkerState.ERROR:
            return
        group, error = event.worker.group, event.worker.error
        self.busy = ""
        if group == "save" and isinstance(error, FileChangedError):
            self.app.push_screen(ChangedOnDisk(self.display_name), self._changed_on_disk_chosen)
        elif group == "load" and self.doc is None:
            message = str(error) if isinstance(error, QuantedError) else repr(error)
            code = error.exit_code if isinstance(error, QuantedError) else 3
            self.app.error_message = message  # type: ignore[attr-defined]
            self.app.exit(return_code=code)
            return
        else:
            self.after_save = None
            text = str(error) if isinstance(error, QuantedError) else f"{type(error).__name__}: {error}"
            self.notify(text, title=f"{group} failed", severity="error", timeout=8)
        self._refresh_status()

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        result = message.result
        keep = self.table.current.layer if message.reloaded and self.table.current else None
        self.doc, self.report, self.model = result.doc, result.report, result.model
        self.busy = ""
        if self.threshold is None and self.report is not None:
            self.threshold = default_threshold(self.model)
        self.table.set_model(self.model, self.doc.saved_customized)
        if keep is not None:
            self.table.rows_changed(keep=keep)
        self.query_one(Histogram).set_report(self.report)
        self._set_threshold(self.threshold)
        self._edited()
        # After the first paint: one regex pass over the whole file holds the GIL ~0.2 s.
        self.set_timer(0.1, lambda doc=self.doc: self.load_qtypes(doc))
        if message.reloaded:
            self.notify(f"Reloaded {self.display_name} from disk.")
            if self.after_save is not None:
                self.after_save = None

    @on(QtypesReady)
    def _qtypes_ready(self, message: QtypesReady) -> None:
        if self.model is not None and message.doc is self.doc:
            self.model.file_qtypes = message.qtypes_by_layer
            self.table.refresh()

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        assert self.doc is not None
        self.busy = ""
        self.table.saved = self.doc.saved_customized
        self._edited()
        self.notify(f"Saved {self.display_name}.")
        then, self.after_save = self.after_save, None
        if then is not None:
            then()

    @on(BulkAdded)
    def _bulk_added(self, message: BulkAdded) -> None:
        self.busy = ""
        self._edited()
        self.notify(f"Added {message.count} layers at or above {message.threshold:g} "
                    "(ctrl+z undoes them together).")

    # -- state -> widgets -------------------------------------------------------------------

    def _set_threshold(self, threshold: float | None) -> None:
        self.threshold = threshold
        self.table.threshold = threshold
        if self.model is not None and threshold is not None:
            self.above = self.model.count_at_or_above(threshold)
            self.query_one(Histogram).set_threshold(threshold, self.above)

    def _edited(self, focus: str | None = None) -> None:
        """After any change of the document: refresh the rows, the pane, the status."""
        if self.doc is None or self.model is None:
            return
        with self.app.batch_update():
            before = len(self.model.rows)
            self.model.refresh_customized(self.doc.customized)
            if focus is not None or len(self.model.rows) != before:
                self.table.rows_changed(keep=focus)
            else:
                self.table.refresh()
            self.query_one(CustomizedPane).show(self.doc, self.model)
            self._refresh_status()

    def _refresh_status(self) -> None:
        doc, model = self.doc, self.model
        self.query_one(StatusBar).update_status(
            name=self.display_name, note=self.note, busy=self.busy,
            modified=bool(doc and doc.is_modified),
            layers=len(model.rows) if model else 0, shown=len(model) if model else 0,
            customized=len(doc.customized) if doc else 0,
            threshold=self.threshold, above=self.above,
            sort=SORT_TITLES.get(model.sort, "") if model else "",
            filter=model.filter_text if model else "",
        )

    def _ready(self) -> bool:
        """True when edits may run now (loaded, not saving)."""
        if self.doc is None or self.model is None:
            self.notify("Still loading…", severity="warning")
            return False
        if self.busy:
            self.notify(f"Wait: {self.busy}", severity="warning")
            return False
        return True

    # -- edit actions -----------------------------------------------------------------------

    def action_toggle_layer(self) -> None:
        row = self.table.current
        if row is None or not self._ready():
            return
        assert self.doc is not None
        if row.customized is not None:
            self.doc.remove_layer(row.layer)
        elif not row.in_file:
            self.notify(f"{row.layer} is not in quantize_parameters; not added.",
                        severity="warning")
            return
        else:
            self.doc.set_layer(row.layer, qtypes.DEFAULT_QTYPE)
        self._edited()

    def action_choose_qtype(self) -> None:
        row = self.table.current
        if row is None or not self._ready():
            return
        if not row.in_file and row.customized is None:
            self.notify(f"{row.layer} is not in quantize_parameters.", severity="warning")
            return

        def chosen(qtype: str | None) -> None:
            if qtype is not None and self._ready():
                assert self.doc is not None
                self.doc.set_layer(row.layer, qtype)
                self._edited()

        self.app.push_screen(QtypePicker(row.layer, row.customized), chosen)

    def action_add_above_threshold(self) -> None:
        if not self._ready():
            return
        model = self.model
        assert model is not None
        if self.report is None:
            self.notify("No entropy report: nothing to compare a threshold with.",
                        severity="warning")
            return

        def preview(value: float) -> tuple[int, int]:
            return model.count_to_add(value), model.count_at_or_above(value)

        def chosen(value: float | None) -> None:
            if value is None or not self._ready():
                return
            self._set_threshold(value)
            layers = [row.layer for row in model.to_add(value)]
            self.busy = f"adding {len(layers)} layers…"
            self._refresh_status()
            self.bulk_add(layers, value)

        self.app.push_screen(ThresholdDialog(self.threshold or 0.5, preview), chosen)

    def action_edit_comment(self) -> None:
        row = self.table.current
        if row is None or not self._ready():
            return
        assert self.doc is not None
        if row.customized is None:
            self.notify("Only customized layers carry a comment: add it first (space).",
                        severity="warning")
            return

        def chosen(text: str | None) -> None:
            if text is not None and self._ready():
                assert self.doc is not None
                self.doc.set_comment(row.layer, text or None)
                self._edited()

        self.app.push_screen(CommentDialog(row.layer, self.doc.comments().get(row.layer)), chosen)

    def _history(self, step: Callable[[], bool], word: str) -> None:
        if not self._ready():
            return
        assert self.doc is not None
        before = self.doc.customized
        if not step():
            self.notify(f"Nothing to {word}.")
            return
        after = self.doc.customized
        moved = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        self._edited(focus=moved[0] if moved else None)

    def action_undo(self) -> None:
        self._history(lambda: self.doc.undo(), "undo")  # type: ignore[union-attr]

    def action_redo(self) -> None:
        self._history(lambda: self.doc.redo(), "redo")  # type: ignore[union-attr]

    # -- view actions -----------------------------------------------------------------------

    def _apply_filter(self, text: str) -> int:
        assert self.model is not None
        current = self.table.current
        self.model.set_filter(text)
        self.table.rows_changed(keep=current.layer if current else None)
        self._refresh_status()
        return len(self.model)

    def action_filter(self) -> None:
        if self.model is None:
            return
        self._filter_before = self.model.filter_text
        self.query_one(FilterBar).open(self._filter_before)

    @on(LayerTable.Highlighted)
    def _show_full_id(self, message: LayerTable.Highlighted) -> None:
        # The table shortens long ids in the middle; the border shows the highlighted one whole.
        # A border change repaints the whole table, so it waits until the cursor rests.
        layer = message.row.layer if message.row is not None else ""
        if self._id_timer is not None:
            self._id_timer.stop()
        self._id_timer = self.set_timer(0.25, lambda: setattr(self.table, "border_subtitle", layer))

    @on(FilterBar.Changed)
    def _filter_typed(self, message: FilterBar.Changed) -> None:
        shown = self._apply_filter(message.text)
        self.query_one(FilterBar).set_hint(message.text, shown)

    @on(FilterBar.Done)
    def _filter_done(self, message: FilterBar.Done) -> None:
        if message.text is None:
            self._apply_filter(getattr(self, "_filter_before", ""))
        self.query_one(FilterBar).close()
        self.table.focus()

    def action_clear_filter(self) -> None:
        if self.model is not None and self.model.filter_text:
            self._apply_filter("")

    def action_cycle_sort(self) -> None:
        if self.model is None:
            return
        current = self.table.current
        self.model.next_sort()
        self.table.rows_changed(keep=current.layer if current else None)
        self._refresh_status()

    # -- file actions ---------------------------------------------------------------------

    def action_save(self, overwrite: bool = False) -> None:
        if not self._ready():
            return
        assert self.doc is not None
        if not self.doc.is_modified and not overwrite:
            self.notify("No unsaved changes.")
            then, self.after_save = self.after_save, None
            if then is not None:
                then()
            return
        self.busy = "saving…"
        self._refresh_status()
        self.save(overwrite)
