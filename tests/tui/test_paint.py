"""Painting the top first: the preview rows are the full table's first rows and are
on screen before the full rows exist; the vectorised paths (a regex filter over joined ids, the
bulk add's rows, the lazily built customized pane of a big block) show what a per-row reading
shows."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from row_strategies import layer_rows
from tui_helpers import settle

from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import EntropyReport
from quanted.tui import loading
from quanted.tui.app import QuantedApp
from quanted.tui.preview import PREVIEW_ROWS, SHOWN_PORTS, preview
from quanted.tui.row_model import RowModel, compile_filter
from quanted.tui.widgets import customized_pane
from quanted.tui.widgets.customized_pane import CustomizedPane
from quanted.tui.widgets.layer_table import LayerTable

ID = st.text("abAB12_/.:", min_size=1, max_size=8)
REGEX = st.text("abAB12_/.:^$|()[]*+?{}\\-sdwbBnAZ", max_size=6)


def rows():
    return layer_rows(ID, max_size=14, some_not_in_file=True)


@settings(max_examples=400, deadline=None)
@given(rows(), st.lists(REGEX, min_size=1, max_size=6))
def test_a_regex_over_the_joined_ids_matches_what_each_id_matches(found, texts):
    model = RowModel(found)
    for text in texts:
        model.set_filter(text)
        match = compile_filter(text)
        expected = {r.layer for r in found if match is None or match(r.layer)}
        assert {model.row_at(i).layer for i in range(len(model))} == expected, text


@settings(max_examples=300, deadline=None)
@given(rows(), st.lists(ID, max_size=4), st.sampled_from(["", "a", "1.", "^b|A"]),
       st.sampled_from([0.0, 0.5, 0.9]))
def test_the_bulk_add_takes_what_a_per_row_reading_takes(found, customized, text, threshold):
    model = RowModel(found)
    model.refresh_customized(dict.fromkeys(customized, "float16"))
    model.set_filter(text)
    match = compile_filter(text)
    ranked = sorted((r for r in model.rows if r.entropy),
                    key=lambda r: (-(r.max_entropy or 0.0), r.order))
    above = [r for r in ranked if (r.max_entropy or 0.0) >= threshold]
    shown = [r for r in above if match is None or match(r.layer)]
    expected = [r.layer for r in shown if r.is_candidate and r.customized is None]
    assert model.layers_to_add(threshold) == expected
    assert model.preview_counts(threshold) == (len(expected), len(shown if text else above))


def test_the_preview_is_the_top_of_the_full_table(quantize, workdir):
    doc = QuantizeDocument.open(quantize, full=False)
    report = EntropyReport.read(workdir / "entropy.txt")
    doc.set_layers({layer: "float16" for layer in doc.layer_ids[:3]})
    top = preview(doc, report)
    full = loading.from_doc(doc, report).model
    assert top.preview and not full.preview
    count = min(len(top), PREVIEW_ROWS)
    assert count > 10
    for i in range(count):
        first, whole = top.row_at(i), full.row_at(i)
        assert first.layer == whole.layer
        assert first.customized == whole.customized
        assert first.max_entropy == whole.max_entropy
        for port in SHOWN_PORTS:
            assert first.entropy.get(port) == whole.entropy.get(port)
    assert top.scale == full.scale


def test_the_first_paint_imports_neither_numpy_nor_the_other_commands(quantize, workdir):
    """The launch path to the preview rows, in a fresh interpreter: numpy, the validation
    rules and the other commands' modules load after the first paint."""
    probe = f"""
import sys
from quanted.cli import dispatch
from quanted.cli import open_command
args = open_command.parse([{str(quantize)!r}])
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import EntropyReport
from quanted.tui import loading
from quanted.tui.app import QuantedApp
from quanted.tui.preview import preview
doc = QuantizeDocument.open({str(quantize)!r}, full=False)
rows = preview(doc, EntropyReport.read({str(workdir / "entropy.txt")!r}))
assert len(rows) > 10 and rows.preview
late = ("numpy", "quanted.core.format.validate", "quanted.cli.edit_commands",
        "quanted.tui.row_model")
print([name for name in late if name in sys.modules])
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


async def test_the_top_rows_show_before_the_full_rows_are_built(quantize, full_rows_held):
    """The full rows wait until the test has seen the preview on screen."""
    app = QuantedApp(quantize)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(LayerTable)
        for _ in range(3000):  # the worker waits 60 s for this test at most
            if table.model is not None:
                break
            await pilot.pause(0.02)
        assert table.model.preview and app.main.doc is None
        await pilot.press("slash")  # nothing to filter until every row is there
        assert not app.screen.query_one("#filter-bar").display
        top = table.current.layer if table.current else None
        full_rows_held.set()
        await settle(pilot)
        assert not table.model.preview and app.main.doc is not None
        assert table.current is not None and table.current.layer == top


def _texts(pane: CustomizedPane) -> list[str]:
    return [str(line) for line in pane.lines]


async def test_a_big_block_shows_the_same_entries_built_lazily(quantize, monkeypatch):
    """Above BIG_BLOCK lines the pane builds one line per entry when shown: the same entries,
    marks and counts as the pane of a small block (given room enough not to wrap)."""
    entry = customized_pane._entry
    monkeypatch.setattr(customized_pane, "_entry",
                        lambda mark, key, rest, _width, **kw: entry(mark, key, rest, 999, **kw))
    app = QuantedApp(quantize)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = app.main
        assert main.doc is not None and main.model is not None
        saved = list(main.doc.customized)
        main.doc.set_layers({layer: "float16" for layer in main.doc.layer_ids[:6]})
        main.doc.remove_layers(saved[-1:])
        main.doc.set_comment(main.doc.layer_ids[0], "why")
        main.doc.set_comment(saved[-2], "same qtype, new comment")
        pane = main.query_one(CustomizedPane)
        pane.show(main.doc, main.model)
        small = (_texts(pane), pane.border_title, pane.border_subtitle)
        monkeypatch.setattr(customized_pane, "BIG_BLOCK", 0)
        pane.show(main.doc, main.model)
        big = (_texts(pane), pane.border_title, pane.border_subtitle)
        assert big == small
        assert any(text.startswith("+ ") for text in big[0])
        assert any(text.startswith("- ") for text in big[0])
        assert any(text.startswith("~ ") for text in big[0])
        assert big[2] == "unsaved: +4 ~3 -1"
        # Fewer entries than saved: the counts walk the other way.
        main.doc.remove_layers([k for k in saved[:-1] if k in main.doc.customized][:8])
        pane.show(main.doc, main.model)
        fewer = (_texts(pane), pane.border_title, pane.border_subtitle)
        monkeypatch.setattr(customized_pane, "BIG_BLOCK", 10_000)
        pane.show(main.doc, main.model)
        assert fewer == (_texts(pane), pane.border_title, pane.border_subtitle)
        assert len(main.doc.customized) < len(main.doc.saved_customized)


def test_the_collector_is_paused_for_a_bulk_edit_only(quantize):
    import gc

    doc = QuantizeDocument.open(quantize, full=False)
    assert gc.isenabled()
    with loading.gc_paused():
        assert not gc.isenabled()
        loading.set_layers(doc, doc.layer_ids[:3], "float16")
        assert not gc.isenabled()  # the inner pause leaves the outer one on
    assert gc.isenabled()
    assert list(doc.customized)[-3:] == doc.layer_ids[:3]
