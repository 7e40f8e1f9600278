"""What the editor's helpers (FileChecks, MetricSwitch, reloads, loading.for_screen,
analysis_view, history_flow) may use of the screen that owns them: the open file, its model
and table, the status line, notifications, workers, loading, editing and saving. MainScreen
is one; the helpers take this instead of importing it (that would be a cycle), and mypy
checks what they use of it. It imports none of its helpers' modules (no circles, even as
types): what one needs of a type of its own, it adds in a protocol of its own (reloads)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # numpy loads after the first paint: the model only as a type
    from textual.app import App
    from textual.notifications import SeverityLevel
    from textual.worker import Worker

    from quanted.core.document.model import QuantizeDocument
    from quanted.core.format.entropy import EntropyReport
    from quanted.tui.row_model import RowModel
    from quanted.tui.widgets.histogram import Histogram
    from quanted.tui.widgets.layer_table import LayerTable


class ShowsMetric(Protocol):
    """The editor's MetricSwitch, as analysis_view uses it."""

    def show(self) -> None: ...


class Editor(Protocol):
    path: Path
    entropy: Path | None  # the entropy report asked for (None: the one beside the file)
    display_name: str
    doc: QuantizeDocument | None
    report: EntropyReport | None
    model: RowModel | None
    threshold: float | None  # the `>` threshold of the metric shown
    above: int  # how many layers are at or above it
    busy: str  # what runs now, "" when edits may run

    @property
    def metric(self) -> ShowsMetric: ...

    @property
    def app(self) -> App[object]: ...

    @property
    def table(self) -> LayerTable: ...

    @property
    def histogram(self) -> Histogram: ...

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None) -> None: ...

    def run_worker(self, work: Callable[[], None], *, name: str | None = "",
                   group: str = "default", exit_on_error: bool = True, exclusive: bool = False,
                   thread: bool = False) -> Worker[None]: ...

    def refresh_status(self) -> None: ...

    def _ready(self) -> bool: ...  # True when edits may run now (else it says why)

    def _edited(self, focus: str | None = None) -> None: ...  # after an edit: redraw, status

    def reload(self, *, entropy: bool = False, keep_edits: bool = False) -> None: ...

    async def saved(self, overwrite: bool = False, force: bool = False,
                    said: str = "") -> bool: ...
