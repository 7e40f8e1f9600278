"""The first rows read by a child process during the imports (tui/early.py): they are
the rows the editor's own preview makes, the editor shows them first, and a child that fails
or is never asked leaves nothing behind."""

from __future__ import annotations

import os
import select
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tui_helpers import settle

from quanted.cli import open_command
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import EntropyReport
from quanted.core.errors import ReadError
from quanted.tui import early, loading, preview
from quanted.tui.app import QuantedApp
from quanted.tui.row_view import RowView
from quanted.tui.widgets.layer_table import LayerTable


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A child for the small test files too."""
    monkeypatch.setattr(early, "FORK_FROM", 0)
    yield
    early.discard()


@pytest.fixture
def customized(quantize: Path) -> Path:
    """The fixture with three layers customized, saved: the customized column has values."""
    doc = QuantizeDocument.open(quantize)
    doc.set_layers({layer: "float16" for layer in doc.layer_ids[:3]})
    doc.save()
    return quantize


def _same_rows(first: RowView, made: RowView) -> None:
    assert first.preview and made.preview
    assert first.rows == made.rows
    assert list(first.view) == list(made.view)
    assert first.scale == made.scale and first.sort == made.sort


def test_the_childs_rows_are_the_editors_own_preview(customized, workdir, forking):
    entropy = workdir / "entropy.txt"
    early.start(customized, entropy)
    first = early.take(customized, entropy)
    assert first is not None
    doc = QuantizeDocument.open(customized, full=False)
    _same_rows(first.model, preview.preview(doc, EntropyReport.read(entropy)))
    saved = doc.saved_customized  # the rows' share of it: all the table looks at
    assert first.saved == {row.layer: saved[row.layer] for row in first.model.rows
                           if row.layer in saved}
    assert any(row.customized == "float16" for row in first.model.rows)
    assert early.take(customized, entropy) is None  # taken once


def test_the_editor_shows_the_childs_rows_first_then_the_full_rows(customized, forking):
    """The report found beside the file (no -e), as the editor finds it."""
    early.start(customized, None)
    shown: list[tuple[RowView, dict[str, str]]] = []
    loaded = loading.load(customized, None, lambda model, saved: shown.append((model, saved)))
    assert len(shown) == 1
    model, saved = shown[0]
    _same_rows(model, preview.preview(loaded.doc, loaded.report))
    whole = loaded.doc.saved_customized
    assert all(saved.get(row.layer) == whole.get(row.layer) for row in model.rows)
    for i in range(len(model)):
        assert model.row_at(i).layer == loaded.model.row_at(i).layer


def _sent(path: Path, entropy: Path | None) -> None:
    """Waits until the child has written (its pipe is readable)."""
    readable, _, _ = select.select([early._started[(path, entropy)].pipe], [], [], 60)
    assert readable, "the child sent nothing in a minute"


def test_ready_never_waits_and_gives_the_rows_again_to_the_loading_thread(customized, forking):
    assert early.ready(customized, None) is None  # no child, and no file is small (FORK_FROM 0)
    early.start(customized, None)
    _sent(customized, None)
    first = early.ready(customized, None)
    assert first is not None and not early._started
    assert early.take(customized, None) is first  # the loading thread waits for its paint
    assert early.take(customized, None) is None


@pytest.mark.parametrize("child", [True, False], ids=["child", "small-file"])
async def test_the_first_frame_shows_the_first_rows(customized, monkeypatch, child,
                                                   full_rows_held):
    """The child's rows in before the screen mounts, or a small file's read as it mounts: the
    table has them before any frame, the loading thread shows them as they are (no second
    preview), then the full rows replace them."""
    monkeypatch.setattr(loading, "preview", lambda doc, report: pytest.fail("made again"))
    if child:
        monkeypatch.setattr(early, "FORK_FROM", 0)
        early.start(customized, None)
        _sent(customized, None)
    app = QuantedApp(customized)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(LayerTable)
        first = table.model
        assert first is not None and first.preview and app.main.doc is None
        full_rows_held.set()
        await settle(pilot)
        assert not table.model.preview
        assert table.current is not None and table.current.layer == first.row_at(0).layer
    early.discard()
    doc = QuantizeDocument.open(customized, full=False)
    _same_rows(first, preview.preview(doc, EntropyReport.read(customized.parent /
                                                              "entropy.txt")))


def test_a_small_files_rows_are_read_at_once_and_given_again(customized, workdir):
    assert customized.stat().st_size < early.FORK_FROM
    first = early.ready(customized, None)
    assert first is not None and not early._started
    doc = QuantizeDocument.open(customized, full=False)
    _same_rows(first.model, preview.preview(doc, EntropyReport.read(workdir / "entropy.txt")))
    assert early.take(customized, None) is first
    assert early.take(customized, None) is None


def test_a_small_file_that_fails_shows_the_placeholder_and_the_load_says_why(quantize, workdir):
    (workdir / "entropy.txt").write_text("conv1:out0, not-a-number\n")
    assert early.ready(quantize, None) is None and not early._shown
    with pytest.raises(ReadError, match="not a number"):
        loading.load(quantize, None, lambda model, saved: None)


def test_no_child_below_the_size_that_pays(quantize, workdir):
    assert quantize.stat().st_size < early.FORK_FROM
    early.start(quantize, None)
    assert not early._started
    assert early.take(quantize, None) is None


def test_a_child_that_fails_sends_nothing_and_the_editor_says_what_failed(quantize, workdir,
                                                                        forking):
    (workdir / "entropy.txt").write_text("conv1:out0, not-a-number\n")
    early.start(quantize, None)
    pid = early._started[(quantize, None)].pid
    assert early.take(quantize, None) is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped
    with pytest.raises(ReadError, match="not a number"):
        loading.load(quantize, None, lambda model, saved: None)


def test_a_child_nobody_asks_is_reaped_when_the_editor_closes(quantize, monkeypatch, forking):
    """`quanted FILE` whose editor never loads (here: run() does nothing) leaves no child."""
    pids: list[int] = []
    start = early.start

    def started(path: Path, entropy: Path | None) -> None:
        start(path, entropy)
        pids.append(early._started[(path, entropy)].pid)

    monkeypatch.setattr(early, "start", started)
    monkeypatch.setattr(QuantedApp, "run", lambda self: None)
    assert open_command.run(open_command.parse([str(quantize)])) == 0
    assert len(pids) == 1 and not early._started
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a:out0", "@a:out0", "b:weight", "c:out0", "@c:weight"]),
                max_size=12),
       st.sets(st.sampled_from(["a:out0", "@a:out0", "b:weight", "x:out0"])))
def test_the_positions_of_the_wanted_keys_are_those_of_a_dict_of_all(keys, wanted):
    every = dict(zip(keys, range(len(keys))))
    assert preview._positions(keys, wanted) == {k: i for k, i in every.items() if k in wanted}
