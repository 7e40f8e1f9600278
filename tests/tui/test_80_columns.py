"""The editor at 80x24 after an analysis: the id column keeps at least 28
cells, ids keep the part that tells rows apart, the header is said whole, and the engine keys
are on screen. The analysis is made up and cached as `a` caches one (tests/core/
cached_analysis.py: no engine)."""

from __future__ import annotations

import re

import pytest
from engine_helpers import khadas_model_files
from tui_helpers import KHADAS, settle

from quanted.core.document.model import QuantizeDocument
from quanted.tui.app import QuantedApp
from quanted.tui.widgets.key_hints import KeyHints
from quanted.tui.widgets.layer_table import MIN_LAYER, ColumnWidths
from tests.core import cached_analysis


@pytest.fixture
def analysed(quantize):
    """The khadas copy with a current analysis cached: every layer, drops between -0.01 and
    +0.045."""
    khadas_model_files(quantize.parent)
    layers = list(QuantizeDocument.open(quantize).qtypes_by_layer())
    cached_analysis.store(quantize, {layer: round(((i * 37) % 23) / 400 - 0.01, 4)
                                     for i, layer in enumerate(layers)})
    return quantize


def _rows(table, count: int) -> list[str]:
    return [table.render_line(y).text for y in range(1, count + 1)]


async def test_the_id_column_keeps_28_cells_and_the_blocks_show(analysed):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.main.table
        assert table.model.figures  # COS and DROP are shown
        layout = ColumnWidths(table.scrollable_content_region.width, analysis=True)
        assert layout.layer >= MIN_LAYER
        header = table.render_line(0).text
        assert "LAYER  (sort: max entropy ▼)" in header and "COS" in header and "DROP" in header
        rows = _rows(table, 9)
        blocks = [re.search(r"Conv2d_\d+[_/]|Logits", row) for row in rows]
        assert all(blocks), rows  # every row says its block
        names = [row[3:3 + layout.layer].strip() for row in rows]
        assert len(set(names)) == len(names)
        assert all(re.search(r"/(Conv2D|depthwise|AvgPool|Relu6|BiasAdd)_\d+$", n) for n in names)


async def test_the_engine_keys_are_on_screen_at_80_columns(analysed):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hints = app.main.query_one(KeyHints)
        assert hints.size.height == 2
        for key in ("^r Hybrid run", "v Verify", "a Analyze", "h History", "T Tune", "e Export"):
            assert key in str(hints.render())


async def test_a_wide_terminal_keeps_one_footer_line(analysed):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        hints = app.main.query_one(KeyHints)
        assert hints.size.height == 1 and "a Analyze" in str(hints.render())


def test_snapshot_80x24_after_an_analysis(analysed, snap_compare):
    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(80, 24), run_before=ready)


async def test_sorting_by_drop_shows_the_largest_drops(analysed):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.main
        await pilot.press("j", "j", "j")
        while main.model.sort != "drop":
            await pilot.press("s")
        largest = max(f.drop for f in main.model.figures.values() if f.drop is not None)
        assert main.table.scroll_y == 0 and main.table.cursor == 0
        assert f"{largest:+.4f}" in main.table.render_line(1).text  # the first row on screen


async def test_the_filter_match_is_kept_and_highlighted(analysed):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"MobilenetV1/Conv2d_1", "enter")
        await settle(pilot)
        table = app.main.table
        assert len(table.model) > 3
        for y in range(1, 4):
            strip = table.render_line(y)
            assert "MobilenetV1/Conv2d_1" in strip.text  # the elision kept it
            marked = [seg for seg in strip if seg.text == "MobilenetV1/Conv2d_1"]
            assert marked and marked[0].style.underline and marked[0].style.bold


def test_snapshot_80x24_filter_highlighted(analysed, snap_compare):
    async def filtering(pilot):
        await settle(pilot)
        await pilot.press("slash", *"depthwise_", "enter")
        await settle(pilot)

    assert snap_compare(QuantedApp(KHADAS), terminal_size=(80, 24), run_before=filtering)
