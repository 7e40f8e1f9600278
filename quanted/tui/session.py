"""The editor's edit session: the open file and everything the editor's actions ask of it, in
one place. The document (its undo, its dirty flag), the entropy report, the rows the table
shows, what runs now (`busy`), whether an edit may run, and the blocking steps of loading,
reloading (keeping the unsaved edits) and saving, with what a save met on disk.

Owned by MainScreen, which draws it and asks the dialogs; its helpers (FileChecks,
MetricSwitch) read it instead of the screen. It holds no Textual state and imports no Textual
(import-linter holds it), so it is unit-tested without an app. It lives in tui/, not the core,
because it holds the table's rows (row_model, and tui/early's first rows): readiness is "the
rows are built", not only "the file is read"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from itertools import compress
from operator import ne, not_
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from quanted.core.disk.files import FileLockedError, ReadOnlyError
from quanted.core.document.model import QuantizeDocument
from quanted.core.document.rebase import reload_keeping_edits
from quanted.core.errors import FileChangedError
from quanted.core.format.entropy import EntropyReport
from quanted.tui import early, loading

if TYPE_CHECKING:  # numpy loads after the first paint: the model only as a type
    from quanted.tui.row_model import RowModel
    from quanted.tui.row_view import RowView

LOADING = "loading…"


class SaveResult(Enum):
    WRITTEN = "written"  # the file on disk holds the edits
    REFUSED = "refused"  # locked by another editor, or read-only: the user may write anyway
    CHANGED_ON_DISK = "changed on disk"  # another writer changed it since it was read
    FAILED = "failed"  # anything else; the edits stay


@dataclass(frozen=True)
class SaveOutcome:
    result: SaveResult
    error: Exception | None = None  # why, unless WRITTEN or CHANGED_ON_DISK


class Undone(NamedTuple):
    """An undo or redo: `done` False when there was nothing to undo; `focus`, the first layer
    it changed (the cursor goes there)."""

    done: bool
    focus: str | None


def first_changed(before: dict[str, str], after: dict[str, str]) -> str | None:
    """The first layer whose customized qtype differs between two blocks (before's order,
    then the ones only `after` has), found in C: a comprehension over both was 0.3 s for
    the undo of a 200,000-layer add."""
    found = next(compress(before, map(ne, before.values(), map(after.get, before))), None)
    if found is None:
        found = next(compress(after, map(not_, map(before.__contains__, after))), None)
    return found


class EditSession:
    """`path` opened in the editor (`entropy`: the report asked for, None: the one beside it),
    called `display_name` on screen. `on_change` is called when what the status line shows
    changes (busy, an edit, a helper's finding)."""

    def __init__(self, path: Path, entropy: Path | None, display_name: str,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.path = path
        self.entropy = entropy
        self.display_name = display_name
        self.on_change = on_change
        self.doc: QuantizeDocument | None = None  # set with the rows: None until they are built
        self.report: EntropyReport | None = None
        self.model: RowModel | None = None
        self._busy = LOADING

    # -- state ------------------------------------------------------------------------------

    @property
    def busy(self) -> str:
        """What runs now (loading, saving, adding), "" when edits may run."""
        return self._busy

    @busy.setter
    def busy(self, value: str) -> None:
        self._busy = value
        self.on_change()

    def changed(self) -> None:
        """Something the status line shows changed."""
        self.on_change()

    @property
    def loaded(self) -> bool:
        """The document is read and its rows are built."""
        return self.doc is not None and self.model is not None

    def not_ready(self) -> str | None:
        """Why an edit may not run now (for the user), None when it may."""
        if not self.loaded:
            return "Still loading…"
        if self._busy:
            return f"Wait: {self._busy}"
        return None

    @property
    def is_modified(self) -> bool:
        """Unsaved edits (the dirty flag); False before the file is read."""
        return self.doc is not None and self.doc.is_modified

    # -- loading (the read_*, keep_edits and save steps run in a thread) --------------------

    def first_rows(self) -> early.FirstRows | None:
        """The top rows when they can be had at once (tui/early.py), else None."""
        return early.ready(self.path, self.entropy)

    def read(self, *, again: bool = False, entropy: bool = False, keep_edits: bool = False,
             show_first: Callable[[RowView, dict[str, str]], None] | None = None,
             ) -> tuple[loading.LoadedFile, list[str] | None]:
        """The file read, with its rows, and the unsaved edits that could not be replayed
        (None unless `keep_edits`). `keep_edits`: the file again with the unsaved edits
        replayed; `again`: the file again (and the report, when `entropy`); else the first
        load, its top rows given to `show_first` while the rest is built."""
        if keep_edits and self.doc is not None:
            return self.read_keeping_edits()
        if again and self.report is not None and not entropy:
            return loading.reload(self.path, self.report), None
        first = show_first if self.model is None else None  # a reload keeps its rows
        return loading.load(self.path, self.entropy, first), None

    def read_keeping_edits(self) -> tuple[loading.LoadedFile, list[str]]:
        """The file as another writer left it, the unsaved edits replayed on it as one undo
        step, and the ones that could not be (their layer is gone)."""
        if self.doc is None:
            raise ValueError("no document to keep the edits of")
        fresh, skipped = reload_keeping_edits(self.doc)
        return loading.from_doc(fresh, self.report), skipped

    def install(self, loaded: loading.LoadedFile) -> None:
        """What a read found becomes the open file; edits may run."""
        self.doc, self.report, self.model = loaded.doc, loaded.report, loaded.model
        self.busy = ""

    # -- editing and saving -----------------------------------------------------------------

    def undo(self, redo: bool = False) -> Undone:
        assert self.doc is not None
        before = self.doc.customized
        if not (self.doc.redo() if redo else self.doc.undo()):
            return Undone(False, None)
        return Undone(True, first_changed(before, self.doc.customized))

    def save(self, *, overwrite: bool = False, force: bool = False) -> SaveOutcome:
        """Write the edits; what stood in the way is the outcome, not an exception.
        `overwrite`: over a file changed on disk; `force`: over a lock or read-only."""
        assert self.doc is not None
        try:
            self.doc.save(overwrite=overwrite, force=force)
        except (FileLockedError, ReadOnlyError) as error:
            return SaveOutcome(SaveResult.REFUSED, error)
        except FileChangedError:
            return SaveOutcome(SaveResult.CHANGED_ON_DISK)
        except Exception as error:  # noqa: BLE001 - any failure is the user's to see
            return SaveOutcome(SaveResult.FAILED, error)
        return SaveOutcome(SaveResult.WRITTEN)
