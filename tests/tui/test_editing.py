"""Pilot tests: every edit key, undo/redo, bulk add, comments, the qtype picker."""

from __future__ import annotations

from textual.widgets import Input, OptionList

from quanted.core.format import qtypes
from quanted.tui.app import QuantedApp
from quanted.tui.dialogs.comment import CommentDialog
from quanted.tui.dialogs.qtype_picker import QtypePicker
from quanted.tui.dialogs.threshold import ThresholdDialog
from quanted.tui.screens.main import MainScreen
from quanted.tui.widgets.layer_table import LayerTable

from tui_helpers import FIFTH, KHADAS, TOP, block_lines, settle


def main_of(app: QuantedApp) -> MainScreen:
    return app.main


async def test_opens_sorted_by_entropy_with_cursor_on_top_and_focus_on_table(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(LayerTable)
        assert app.focused is table
        assert table.cursor == 0
        assert table.current.layer == TOP
        model = table.model
        values = [model.row_at(i).max_entropy for i in range(len(model))]
        known = [v for v in values if v is not None]
        assert known == sorted(known, reverse=True)
        assert values[: len(known)] == known  # layers without entropy come last
        assert model.file_qtypes[TOP] == "i16"


async def test_space_adds_with_default_qtype_and_save_writes_one_line(quantize, original):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down")
        main = main_of(app)
        assert main.table.current.layer == FIFTH
        await pilot.press("space")
        assert main.doc.customized[FIFTH] == qtypes.DEFAULT_QTYPE
        assert main.doc.is_modified
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not main.doc.is_modified
    added = f"    {FIFTH}: {qtypes.DEFAULT_QTYPE}\n".encode()
    assert quantize.read_bytes() == original + added
    assert block_lines(quantize.read_bytes())[-1] == added.rstrip(b"\n")


async def test_space_removes_a_customized_layer(quantize, original):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "ctrl+s")
        await settle(pilot)
    line = f"    {TOP}: dynamic_fixed_point-i16\n".encode()
    assert line in original
    assert quantize.read_bytes() == original.replace(line, b"")


async def test_undo_and_redo(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        doc = main_of(app).doc
        before = doc.customized
        await pilot.press("space")
        assert TOP not in doc.customized
        await pilot.press("ctrl+z")
        assert doc.customized == before
        assert not doc.is_modified
        await pilot.press("ctrl+y")
        assert TOP not in doc.customized
        await pilot.press("ctrl+y")  # nothing more to redo: no change, no crash
        assert TOP not in doc.customized


async def test_bulk_add_above_threshold_is_one_undo_step(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = main_of(app)
        before = dict(main.doc.customized)
        expected = [r.layer for r in main.model.rows
                    if r.in_file and r.customized is None and (r.max_entropy or 0) >= 0.45]
        assert expected
        await pilot.press("greater_than_sign")
        assert isinstance(app.screen, ThresholdDialog)
        field = app.screen.query_one(Input)
        field.value = "0.45"
        await pilot.pause()
        preview = str(app.screen.query_one("#threshold-preview").render())
        assert f"{len(expected)} of them" in preview
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        after = main.doc.customized
        assert set(after) == set(before) | set(expected)
        assert all(after[layer] == qtypes.DEFAULT_QTYPE for layer in expected)
        assert main.threshold == 0.45
        await pilot.press("ctrl+z")
        assert main.doc.customized == before


async def test_bulk_add_escape_cancels(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("greater_than_sign", "escape")
        assert isinstance(app.screen, MainScreen)
        assert not app.main.doc.is_modified


async def test_qtype_picker_marks_unapplied_and_sets_qtype(quantize, original):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        picker = app.screen
        assert isinstance(picker, QtypePicker)
        options = picker.query_one(OptionList)
        assert options.option_count == len(qtypes.KNOWN_QTYPES)
        for i, qtype in enumerate(qtypes.KNOWN_QTYPES):
            prompt = str(options.get_option_at_index(i).prompt)
            assert qtype in prompt
            assert ("not applied" in prompt) == (qtype in qtypes.UNAPPLIED_QTYPES)
        assert options.highlighted == 0  # the current qtype, dynamic_fixed_point-i16
        await pilot.press("down", "enter")
        assert app.main.doc.customized[TOP] == "float16"
        await pilot.press("t", "escape")
        assert app.main.doc.customized[TOP] == "float16"
        await pilot.press("ctrl+s")
        await settle(pilot)
    old = f"    {TOP}: dynamic_fixed_point-i16\n".encode()
    assert quantize.read_bytes() == original.replace(old, f"    {TOP}: float16\n".encode())


async def test_qtype_picker_on_a_new_layer_adds_it(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "t", "down", "down", "enter")
        assert app.main.doc.customized[FIFTH] == qtypes.KNOWN_QTYPES[2]


async def test_comment_is_kept_on_the_layer_line(quantize, original):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        assert isinstance(app.screen, CommentDialog)
        await pilot.press(*"keep i16", "enter")
        assert app.main.doc.comments() == {TOP: "keep i16"}
        pane_text = "\n".join(str(line) for line in app.main.query_one("#customized").lines)
        assert "# keep i16" in pane_text
        await pilot.press("ctrl+s")
        await settle(pilot)
    old = f"    {TOP}: dynamic_fixed_point-i16\n".encode()
    new = f"    {TOP}: dynamic_fixed_point-i16  # keep i16\n".encode()
    assert quantize.read_bytes() == original.replace(old, new)


async def test_comment_on_a_layer_that_is_not_customized_is_refused(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "c")
        assert isinstance(app.screen, MainScreen)
        assert not app.main.doc.is_modified


async def test_unsaved_marks_in_pane_and_table(quantize):
    app = QuantedApp(KHADAS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space", "down", "down", "down", "down", "space")
        pane = app.main.query_one("#customized")
        assert pane.border_subtitle == "unsaved: +1 ~0 -1"
        text = "\n".join(str(line) for line in pane.lines)
        assert "removed (dropped on save)" in text
        lines = text.splitlines()
        assert sum(line.startswith("+ ") for line in lines) == 1
        assert sum(line.startswith("- ") for line in lines) == 1
